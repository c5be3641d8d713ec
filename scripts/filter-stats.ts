// What AimKP's gradient filter did in one or more runs, read from their events.jsonl: per epoch and modality,
// the checks, the accepted share, cosine quantiles, the share of checks whose masked row equalled the original
// (cos = 1 exactly: the text was too short for the stride to drop a token), and the strides used.
//
//   node --import tsx scripts/filter-stats.ts runs/full/aimkp-s1 runs/full/aimkp-s2 runs/full/aimkp-s3
//
// Runs are pooled (one table over all of them). Markdown on stdout. The reading is the core's
// (models/evaluate/filter-stats.ts), which the workbench's Study view shows too.
import { resolve } from 'node:path';
import { filterStats } from '../models/index';

const runs = process.argv.slice(2);
if (runs.length === 0) {
  console.error('usage: node --import tsx scripts/filter-stats.ts RUN [RUN...]');
  process.exit(2);
}

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
