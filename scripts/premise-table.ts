// The premise benchmark's study table: per-seed role recall (CSV) and Δ against a pinned baseline group with Welch's
// t and the 95 % CI, from each run's RUN/premise/roles.json (scripts/premise-eval.sh). scripts/study.sh calls it.
// Usage: node --import tsx scripts/premise-table.ts --baseline GROUP [--seeds FILE.csv] RUN...
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  premiseDeltaMarkdown,
  premiseSeedsCsv,
  type PremiseRunRoles,
  type RoleRecall,
} from '../models/evaluate/premise-roles';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const { values, positionals } = scriptArgs(fileURLToPath(import.meta.url), {
  options: { baseline: { type: 'string' }, seeds: { type: 'string' } },
  allowPositionals: true,
});
if (values.baseline === undefined || positionals.length === 0) {
  console.error('usage: node --import tsx scripts/premise-table.ts --baseline GROUP [--seeds FILE.csv] RUN...');
  process.exit(2);
}
const runs: PremiseRunRoles[] = [];
for (const dir of positionals) {
  const file = join(dir, 'premise', 'roles.json');
  if (!existsSync(file)) {
    console.error(`premise-table: ${file} missing (run scripts/premise-eval.sh first; left out)`);
    continue;
  }
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { seed?: number };
  runs.push({
    name: basename(dir.replace(/\/+$/, '')),
    seed: config.seed ?? null,
    roles: JSON.parse(readFileSync(file, 'utf8')) as Record<string, RoleRecall>,
  });
}
if (values.seeds) writeFileSync(values.seeds, premiseSeedsCsv(runs));
console.log(premiseDeltaMarkdown(runs, values.baseline).trimEnd());
