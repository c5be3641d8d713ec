// What AimKP's gradient filter did in one or more runs, read from their events.jsonl: per epoch and modality,
// the checks, the accepted share, cosine quantiles, the share of checks whose masked row equalled the original
// (cos = 1 exactly: the text was too short for the stride to drop a token), and the strides used.
//
//   node --import tsx scripts/filter-stats.ts runs/full/aimkp-s1 runs/full/aimkp-s2 runs/full/aimkp-s3
//
// Runs are pooled (one table over all of them). Markdown on stdout. The reading is the core's
// (models/evaluate/filter-stats.ts), which the workbench's Study view shows too.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filterStats } from '../models/index';
import { scriptArgs, scriptUsage } from './lib/script-args';

const self = fileURLToPath(import.meta.url);
const { positionals: runs } = scriptArgs(self, { options: {}, allowPositionals: true });
const bad = (why: string): never => {
  console.error(`filter-stats: ${why}\n\n${scriptUsage(self, {})}`);
  process.exit(2);
};
if (runs.length === 0) bad('no run given (RUN is a run folder: runs/<name>)');
for (const run of runs) if (!existsSync(join(run, 'events.jsonl'))) bad(`${run}: not a run folder (no events.jsonl)`);

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

console.log(`Gradient filter over ${runs.length} run(s): ${runs.join(', ')}\n`);
console.log(
  '| epoch | modality | checks | accepted | cos p10 | cos median | cos p90 | cos = 1 (nothing dropped) | strides used |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---|');
for (const s of filterStats(runs.map((r) => resolve(r)))) {
  const strides = Object.entries(s.strides)
    .sort((x, y) => Number(x[0]) - Number(y[0]))
    .map(([k, c]) => `${k}: ${c}`)
    .join(', ');
  console.log(
    `| ${s.epoch} | ${s.modality} | ${s.checks} | ${pct(s.acceptedShare)} | ${s.cosP10.toFixed(3)} | ${s.cosMedian.toFixed(3)} | ${s.cosP90.toFixed(3)} | ${pct(s.identicalShare)} | ${strides} |`,
  );
}
