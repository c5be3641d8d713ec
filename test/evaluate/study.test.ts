// The Study view's numbers from the core (models/evaluate/study.ts): arms by folder name, mean / std / t-based 95 %
// CI per arm × mode × metric with each seed, Δ against the pinned baseline with Welch's t, df, p and CI, the filter's
// acceptance pooled per arm, and the runs left out. Expected values by hand, checked with scipy.stats
// (t.ppf(0.975, df), ttest_ind(equal_var=False)); the fixture is test/fixtures/study-runs.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { filterStats, groupOf, readFilterChecks, studyReport } from '../../models/index';
import { STUDY_RUNS, writeMinimalRun } from '../fixtures/study-runs';
import { tempDir } from '../fixtures/temp-dirs';

const close = (a: number | null | undefined, b: number, what: string, tol = 1e-6) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

const root = tempDir('aimkp-study-');
const dirs = STUDY_RUNS.map((r) => {
  const dir = join(root, r.id);
  writeMinimalRun(dir, r);
  return dir;
});
const report = (baseline?: string | null) =>
  studyReport({ runDirs: dirs, split: 'test', decode: 'greedy', convention: 'aimkp', baseline });

test('arms: folder name without -s<seed>; mean, sample std and t-based 95 % CI with every seed', () => {
  const r = report();
  assert.deepEqual(
    r.arms.map((a) => [a.arm, a.runs.map((x) => x.seed)]),
    [
      ['aimkp-e4', [1, 2, 3]],
      ['baseline-e6', [1, 2, 3]],
      ['solo', [7]],
    ],
  );
  const base = r.arms[1].cells;
  // 10, 12, 14: mean 12, s = 2, CI = 12 ± t₀.₉₇₅,₂ (4.302653) · 2/√3 = 12 ± 4.968275.
  assert.equal(base.multimodal['f1@1']!.mean, 12);
  close(base.multimodal['f1@1']!.std, 2, 'std');
  close(base.multimodal['f1@1']!.ci95![0], 7.0317245765, 'CI low');
  close(base.multimodal['f1@1']!.ci95![1], 16.9682754235, 'CI high');
  assert.deepEqual(
    base.multimodal['f1@1']!.seeds.map((s) => [s.run, s.seed, Math.round(s.value * 1e6) / 1e6, s.items]),
    [
      ['baseline-e6-s1', 1, 10, 20],
      ['baseline-e6-s2', 2, 12, 20],
      ['baseline-e6-s3', 3, 14, 20],
    ],
  );
  close(base.multimodal['map@5']!.mean, 14, 'MAP@5 = F1@1 + 2');
  // Image-only: seed 3 was not evaluated there: 5, 7 → mean 6, s = √2, CI = 6 ± 12.706205 · √2/√2.
  assert.equal(base.image['f1@1']!.n, 2);
  close(base.image['f1@1']!.ci95![0], -6.7062047362, 'image CI low');
  // Constant seeds: std 0, the CI is the point.
  assert.deepEqual(base.text['f1@1']!.ci95, [2, 2]);
  const aimkp = r.arms[0].cells.multimodal['f1@1']!;
  assert.equal(aimkp.n, 3, 'the unevaluated seed 4 is not counted');
  close(aimkp.mean, 16, 'aimkp mean');
  close(aimkp.ci95![1], 23.4524131353, 'aimkp CI high');
  const solo = r.arms[2].cells.multimodal['f1@1']!;
  assert.deepEqual([solo.n, solo.std, solo.ci95], [1, null, null]);
});

test('Δ against the pinned baseline: Welch t, df, p and 95 % CI per mode and metric', () => {
  const r = report();
  assert.equal(r.baseline, 'baseline-e6', 'the first arm named baseline by default');
  const d = (arm: string, mode: string, metric: string) =>
    r.deltas.find((x) => x.arm === arm && x.mode === mode && x.metric === metric)!;
  // 13 16 19 vs 10 12 14: Δ 4, se² = 9/3 + 4/3, t = 1.921538, df = 3.484536, CI [−2.132947, 10.132947], p 0.137507.
  const mm = d('aimkp-e4', 'multimodal', 'f1@1');
  close(mm.delta, 4, 'Δ');
  close(mm.welch!.t, 1.9215378457, 't');
  close(mm.welch!.df, 3.4845360825, 'df');
  close(mm.welch!.ci95[0], -2.1329472061, 'CI low');
  close(mm.welch!.ci95[1], 10.1329472061, 'CI high');
  close(mm.welch!.p, 0.1375065373, 'p');
  assert.deepEqual([mm.nArm, mm.nBaseline, mm.meanArm, mm.meanBaseline].map(Math.round), [3, 3, 16, 12]);
  close(d('aimkp-e4', 'multimodal', 'f1@3').delta, 4, 'F1@3 Δ');
  // Image-only, 9 8 10 vs 5 7: Δ 3, t 2.598076, df 1.684211, CI [−2.976997, 8.976997], p 0.144366.
  const im = d('aimkp-e4', 'image', 'f1@1');
  close(im.welch!.t, 2.5980762114, 'image t');
  close(im.welch!.df, 1.6842105263, 'image df');
  close(im.welch!.ci95[0], -2.9769974483, 'image CI low');
  close(im.welch!.p, 0.1443662048, 'image p');
  // Both sides constant: Δ without a t.
  const tx = d('aimkp-e4', 'text', 'f1@1');
  assert.deepEqual([Math.round(tx.delta * 1e9) / 1e9, tx.welch!.t, tx.welch!.df], [1, null, null]);
  // One seed: a Δ, no test.
  const solo = d('solo', 'multimodal', 'f1@1');
  close(solo.delta, -1, 'solo Δ');
  assert.equal(solo.welch, null);
  assert.ok(!r.deltas.some((x) => x.arm === 'baseline-e6'), 'no Δ of the baseline against itself');

  const pinned = report('aimkp-e4');
  close(pinned.deltas.find((x) => x.arm === 'baseline-e6' && x.mode === 'multimodal')!.delta, -4, 'the other way');
  assert.deepEqual(report(null).deltas, []);
  assert.throws(
    () => report('nope'),
    (e: Error & { code?: string }) =>
      e.code === 'BAD_INPUT' &&
      /"nope" is not an arm of this study \(arms: aimkp-e4, baseline-e6, solo\)/.test(e.message),
  );
});

test('left out: a run with no score at all, and the modes a run was not evaluated in, each with why', () => {
  const r = report();
  assert.deepEqual(
    r.leftOut.map((l) => [l.run, l.modes]),
    [
      ['aimkp-e4-s4', ['multimodal', 'text', 'image']],
      ['baseline-e6-s3', ['image']],
    ],
  );
  assert.match(r.leftOut[0].reason, /not evaluated on test with greedy decoding/);
  assert.match(r.leftOut[1].reason, /in image/);
});

test('acceptance per 1-based epoch and modality, pooled over the arm; a redone step counts once', () => {
  const r = report();
  const aimkp = r.arms[0];
  assert.equal(aimkp.filterRuns, 2, 'seed 3 logged no filter checks');
  assert.deepEqual(
    aimkp.acceptance.map((s) => [s.epoch, s.modality, s.checks, s.accepted, s.acceptedShare]),
    [
      [2, 'image', 8, 7, 0.875],
      [2, 'text', 8, 5, 0.625],
      [3, 'image', 8, 6, 0.75],
      [3, 'text', 8, 2, 0.25],
    ],
  );
  assert.deepEqual(r.arms[1].acceptance, []);
  assert.deepEqual(filterStats([dirs[3]])[1].strides, { 2: 4 });
});

test('filter checks: a half-written last line is skipped, a damaged line in the middle names file and line', () => {
  const dir = join(root, 'damaged');
  writeMinimalRun(dir, STUDY_RUNS[3]);
  appendFileSync(join(dir, 'events.jsonl'), '{"type":"step","epoch":2,"samp');
  assert.equal(readFilterChecks(dir).length, 4);
  const lines = [
    '{"type":"step","epoch":1,"step":1,"samples":[{"index":0}',
    JSON.stringify({ type: 'step', epoch: 1, step: 2, samples: [] }),
    '',
  ];
  writeFileSync(join(dir, 'events.jsonl'), lines.join('\n'));
  assert.throws(() => readFilterChecks(dir), /events\.jsonl:1: not a valid step event/);
});

test('groupOf: study.sh and sweep names lose -s<seed>; app launches also lose their launch time', () => {
  const g = (name: string) => groupOf({ name, preset: 'p' }, 'folder');
  assert.equal(g('aimkp-e4-tt0.1-tv0.4-s3'), 'aimkp-e4-tt0.1-tv0.4');
  assert.equal(g('aimkp-s2-20261204-213005'), 'aimkp');
  assert.equal(g('aimkp-s2-20261204-213005-2'), 'aimkp');
  assert.equal(g('solo'), 'solo');
  assert.equal(g('aimkp-s2-x'), 'aimkp-s2-x');
});

test('scripts/filter-stats.ts prints the pooled table from the same reading', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/filter-stats.ts', dirs[3], dirs[4]], {
    encoding: 'utf8',
  });
  assert.match(out, /\| 2 \| text \| 8 \| 62\.5 % \| 0\.050 \| 0\.900 \| 0\.900 \| 0\.0 % \| 2: 8 \|/);
});
