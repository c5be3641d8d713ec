// What AimKP's gradient filter did in one or more runs, read from their events.jsonl: per epoch and modality,
// the checks, the accepted share, cosine quantiles, the share of checks whose masked row equalled the original
// (cos = 1 exactly: the text was too short for the stride to drop a token), and the strides used.
//
//   node --import tsx scripts/filter-stats.ts runs/full/aimkp-s1 runs/full/aimkp-s2 runs/full/aimkp-s3
//
// Runs are pooled (one table over all of them). Markdown on stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingEvent, type StepEvent } from '../shared/training-events';

type Modality = 'text' | 'image';
interface Acc {
  cos: number[];
  accepted: number;
  identical: number;
  strides: Map<number, number>;
}

const runs = process.argv.slice(2);
if (runs.length === 0) {
  console.error('usage: node --import tsx scripts/filter-stats.ts RUN [RUN...]');
  process.exit(2);
}

const byEpoch = new Map<string, Acc>();
const acc = (epoch: number, m: Modality): Acc => {
  const key = `${epoch}:${m}`;
  let a = byEpoch.get(key);
  if (a === undefined) byEpoch.set(key, (a = { cos: [], accepted: 0, identical: 0, strides: new Map() }));
  return a;
};

for (const run of runs) {
  const lines = readFileSync(join(run, 'events.jsonl'), 'utf8').split('\n');
  for (const line of lines) {
    if (!line.includes('"type":"step"')) continue;
    const e = parseTrainingEvent(line) as StepEvent;
    for (const s of e.samples) {
      for (const [m, cos, ok, stride] of [
        ['text', s.cosText, s.acceptText, s.strideText],
        ['image', s.cosImage, s.acceptImage, s.strideImage],
      ] as const) {
        if (cos === null) continue;
        const a = acc(e.epoch, m);
        a.cos.push(cos);
        if (ok === true) a.accepted++;
        if (cos === 1) a.identical++;
        a.strides.set(stride, (a.strides.get(stride) ?? 0) + 1);
      }
    }
  }
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
};
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

console.log(`Gradient filter over ${runs.length} run(s): ${runs.join(', ')}\n`);
console.log(
  '| epoch | modality | checks | accepted | cos p10 | cos median | cos p90 | cos = 1 (nothing dropped) | strides used |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---|');
const keys = [...byEpoch.keys()].sort(
  (a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]) || a.localeCompare(b),
);
for (const key of keys) {
  const [epoch, m] = key.split(':');
  const a = byEpoch.get(key)!;
  const n = a.cos.length;
  const strides = [...a.strides.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([s, c]) => `${s}: ${c}`)
    .join(', ');
  console.log(
    `| ${Number(epoch) + 1} | ${m} | ${n} | ${pct(a.accepted / n)} | ${q(a.cos, 0.1).toFixed(3)} | ${q(a.cos, 0.5).toFixed(3)} | ${q(a.cos, 0.9).toFixed(3)} | ${pct(a.identical / n)} | ${strides} |`,
  );
}
