// `aimkp bench --quick` prints one JSON object of the documented shape (no timing asserts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCommand } from '../../models/cli/commands/bench';
import { forwardFlops } from '../../models/bench/flops';
import { defaultLmConfig } from '../../models/lm/config';
import { tempDir } from '../fixtures/temp-dirs';

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

test('bench --quick: one JSON object with machine, train timings, ratios, peak and predict', async () => {
  const out = join(tempDir('aimkp-bench-'), 'bench.json');
  const printed: string[] = [];
  const origLog = console.log;
  const origErr = console.error;
  console.log = (s: string) => printed.push(s);
  console.error = () => {};
  try {
    assert.equal(await benchCommand(['--quick', '--out', out]), 0);
  } finally {
    console.log = origLog;
    console.error = origErr;
  }
  assert.equal(printed.length, 1);
  const r = JSON.parse(printed[0]);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), r);
  assert.equal(r.benchmark, 'aimkp-bench-v1');
  assert.equal(r.quick, true);
  assert.ok(!Number.isNaN(Date.parse(r.date)));
  assert.equal(typeof r.machine.cpuModel, 'string');
  assert.ok(r.machine.cores >= 1);
  assert.match(r.machine.node, /^v\d+/);
  assert.match(r.machine.backend, /^backend: /);
  for (const k of ['baseline', 'aimkpWarmup', 'aimkpMasked']) {
    const s = r.train[k];
    for (const f of [
      'msPerStep',
      'msPerSample',
      'gflopPerStep',
      'usefulGflopPerStep',
      'achievedGflops',
      'rowsPerSample',
    ])
      assert.ok(positive(s[f]), `${k}.${f}`);
  }
  assert.equal(r.train.baseline.rowsPerSample, 1);
  assert.equal(r.train.aimkpMasked.rowsPerSample, 3); // original + text@2 + image@2 for every synthetic row
  // Masked rows drop tokens: fewer useful FLOPs than executed (padded) ones.
  assert.ok(r.train.aimkpMasked.usefulGflopPerStep < r.train.aimkpMasked.gflopPerStep);
  for (const k of ['perMaskedEpoch', 'warmupEpoch', 'averagedOverRun', 'runVsBaselineRun'])
    assert.ok(positive(r.train.ratio[k]), k);
  // averagedOverRun = (warm-up + 3 masked) / 4 baseline epochs.
  const t = r.train;
  assert.ok(
    Math.abs(
      t.ratio.averagedOverRun -
        (t.aimkpWarmup.msPerSample + 3 * t.aimkpMasked.msPerSample) / (4 * t.baseline.msPerSample),
    ) < 1e-9,
  );
  assert.ok(positive(r.peak.measuredGflops));
  assert.ok(r.peak.matmul.length >= 1);
  assert.ok(positive(r.peak.theoretical.flopsPerCycle));
  assert.ok(positive(r.predict.greedy.msPerCase));
  assert.ok(positive(r.predict.beam5.msPerCase));
  assert.equal(typeof r.goals.ratioAtMost1_5.met, 'boolean');
  assert.equal(typeof r.goals.peakAtLeast30pct.met, 'boolean');
});

test('analytic forward FLOPs on a hand-computed configuration', () => {
  const c = defaultLmConfig({
    vocabSize: 10,
    dModel: 4,
    nLayers: 1,
    nHeads: 2,
    dFF: 8,
    maxPositions: 16,
    imageFeatureDim: 3,
    imageGrid: 2,
    adapterHidden: 5,
    dropout: 0,
  });
  const f = forwardFlops(c, { imageTokens: 4, seqLen: 6, answerTokens: 2 });
  assert.equal(f.adapter, 2 * 4 * (3 * 5 + 5 * 4)); // 280
  assert.equal(f.dense, 6 * 2 * (4 * 16 + 2 * 4 * 8)); // 1536
  assert.equal(f.attention, 4 * 36 * 4); // QKᵀ and AV: 2 · 2·T²·d = 576
  assert.equal(f.head, 2 * 2 * 6 * 4 + 2 * 2 * 4 * 10); // select + vocabulary projection = 256
  assert.equal(f.total, 280 + 1536 + 576 + 256);
});
