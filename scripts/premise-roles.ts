// Per-role recall of one run on the premise benchmark's conditions: reads RUN/premise/<condition>.jsonl (written by
// scripts/premise-eval.sh), writes RUN/premise/roles.json and prints a Markdown table.
// Usage: node --import tsx scripts/premise-roles.ts RUN BENCH
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestItem } from '../models/data/manifest-types';
import { PREMISE_CONDITIONS } from '../models/data/premise-benchmark';
import { readPredictionFile, formatPredictionIssues } from '../models/evaluate/prediction-file';
import { premiseRoleRecall, type RoleRecall } from '../models/evaluate/premise-roles';

const [run, bench] = process.argv.slice(2);
if (!run || !bench) {
  console.error('usage: node --import tsx scripts/premise-roles.ts RUN BENCH');
  process.exit(2);
}
const manifest = (dir: string): ManifestItem[] =>
  readFileSync(join(bench, dir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ManifestItem);
const original = manifest('clean');
const roles: Record<string, RoleRecall> = {};
for (const c of PREMISE_CONDITIONS) {
  const file = join(run, 'premise', `${c.name}.jsonl`);
  if (!existsSync(file)) {
    console.error(`premise-roles: ${file} missing (left out)`);
    continue;
  }
  const preds = readPredictionFile(file);
  if (preds.issues.length > 0) console.error(formatPredictionIssues(preds.issues));
  roles[c.name] = premiseRoleRecall(original, manifest(c.data), preds.records, {
    textShown: c.mode !== 'image',
    imageShown: c.mode !== 'text',
  });
}
writeFileSync(join(run, 'premise', 'roles.json'), JSON.stringify(roles, null, 2) + '\n');
const f = (x: number | null) => (x === null ? '—' : x.toFixed(1));
console.log(
  '| condition | n | topic | shape | shape (leak) | shape (no leak) | colour+place | shape follows text | shape follows image |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(roles))
  console.log(
    `| ${name} | ${r.n} | ${f(r.topic)} | ${f(r.shape)} | ${f(r.shapeLeak)} | ${f(r.shapeNoLeak)} | ${f(r.colourPlace)} | ` +
      `${f(r.shapeFollowsText)} of ${f(r.textNamesShape)} | ${f(r.shapeFollowsImage)} |`,
  );
