// `aimkp report` math and rendering on hand-made metric files with hand-computed mean / sample std.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, meanStd, reportCsv, reportLatex, reportMarkdown } from '../../models/evaluate/report';
import { loadRunMetrics } from '../../models/evaluate/report-load';
import { reportCommand } from '../../models/cli/commands/report';
import { tempDir } from '../fixtures/temp-dirs';
import { reportRuns } from '../../models/evaluate/report-runs';

function metrics(f1at1: number, f1at3: number, map5: number) {
  return {
    run: 'x',
    split: 'test',
    mode: 'multimodal',
    decode: 'beam-sample',
    repeats: 3,
    n: 10,
    aimkp: { 'f1@1': f1at1, 'f1@3': f1at3, 'f1@5': 0.3, 'map@5': map5 },
    aimkpPerRepeat: [],
    cmkp: { 'f1@1': 0.1, 'f1@3': 0.2, 'f1@5': 0.2, 'map@5': 0.3 },
  };
}

/** Makes a run folder with config.json and the given metrics per mode. */
function makeRun(
  root: string,
  name: string,
  preset: string,
  seed: number,
  modes: Record<string, [number, number, number]>,
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'metrics'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ preset, seed }));
  for (const [mode, [a, b, c]] of Object.entries(modes)) {
    writeFileSync(join(dir, 'metrics', `test.${mode}.beam-sample.json`), JSON.stringify({ ...metrics(a, b, c), mode }));
  }
  return dir;
}

test('meanStd: sample standard deviation with n − 1', () => {
  const s = meanStd([60, 62, 64]);
  assert.equal(s.mean, 62);
  assert.equal(s.std, 2); // sqrt((4 + 0 + 4) / 2)
  const t = meanStd([38, 39, 41]);
  assert.ok(Math.abs(t.mean - 39.333333) < 1e-5);
  assert.ok(Math.abs((t.std ?? 0) - Math.sqrt(7 / 3)) < 1e-12); // squares 16/9 + 1/9 + 25/9 = 42/9, /2 = 7/3
  assert.equal(meanStd([5]).std, null);
});

test('report groups runs by preset across seeds and aggregates per mode', () => {
  const root = tempDir('aimkp-report-');
  const runs = [
    makeRun(root, 'aimkp-s1', 'aimkp', 1, { multimodal: [0.6, 0.38, 0.68], text: [0.5, 0.3, 0.55] }),
    makeRun(root, 'base-s1', 'baseline', 1, { multimodal: [0.55, 0.35, 0.6] }),
    makeRun(root, 'aimkp-s2', 'aimkp', 2, { multimodal: [0.62, 0.39, 0.7], text: [0.52, 0.32, 0.57] }),
    makeRun(root, 'aimkp-s3', 'aimkp', 3, { multimodal: [0.64, 0.41, 0.72] }),
  ];
  const loaded = loadRunMetrics(runs, { split: 'test', decode: 'beam-sample', modes: ['multimodal', 'text', 'image'] });
  assert.equal(loaded.missing.length, 6); // image of all 4 runs, text of base-s1 and aimkp-s3
  const r = buildReport(loaded.runs, {
    convention: 'aimkp',
    split: 'test',
    decode: 'beam-sample',
    modes: ['multimodal', 'text', 'image'],
  });
  assert.deepEqual(
    r.groups.map((g) => g.preset),
    ['aimkp', 'baseline'],
  );
  const a = r.groups[0];
  assert.deepEqual(a.seeds, [1, 2, 3]);
  const mm = a.cells.multimodal;
  assert.ok(Math.abs(mm['f1@1']!.mean - 62) < 1e-9);
  assert.ok(Math.abs(mm['f1@1']!.std! - 2) < 1e-9);
  assert.ok(Math.abs(mm['f1@3']!.std! - Math.sqrt(7 / 3)) < 1e-9);
  assert.ok(Math.abs(mm['map@5']!.mean - 70) < 1e-9);
  assert.ok(Math.abs(mm['map@5']!.std! - 2) < 1e-9);
  // text: two runs only: mean 51, std sqrt(2) (values 50, 52)
  assert.equal(a.cells.text['f1@1']!.n, 2);
  assert.ok(Math.abs(a.cells.text['f1@1']!.std! - Math.SQRT2) < 1e-9);
  assert.equal(a.cells.image['f1@1'], undefined);
  // baseline: one run, no std
  assert.equal(r.groups[1].cells.multimodal['f1@1']!.std, null);

  const md = reportMarkdown(r);
  assert.match(md, /AimKP convention/);
  assert.match(
    md,
    /\| aimkp \| 3 \| 1,2,3 \| 62\.00 ± 2\.00 \| 39\.33 ± 1\.53 \| 70\.00 ± 2\.00 \| 51\.00 ± 1\.41 \(n=2\)/,
  );
  assert.match(md, /\| baseline \| 1 \| 1 \| 55\.00 \| 35\.00 \| 60\.00 \| — \|/);

  const csv = reportCsv(r).trim().split('\n');
  assert.equal(csv[0], 'preset,mode,metric,convention,n,mean_pct,std_pct,values_pct,runs');
  assert.ok(
    csv.includes('aimkp,multimodal,f1@1,aimkp,3,62.0000,2.0000,60.0000;62.0000;64.0000,aimkp-s1;aimkp-s2;aimkp-s3'),
    csv.join('\n'),
  );
  assert.ok(csv.includes('baseline,multimodal,f1@1,aimkp,1,55.0000,,55.0000,base-s1'));

  const tex = reportLatex(r);
  assert.match(tex, /aimkp & 3 & \$62\.00 \\pm 2\.00\$ & \$39\.33 \\pm 1\.53\$/);
  assert.match(tex, /\\multicolumn\{3\}\{c\}\{text-only\}/);
  assert.match(tex, /\\bottomrule/);
});

test('report --convention cmkp reads the other scores; the CLI prints all three formats', async () => {
  const root = tempDir('aimkp-report-');
  const runs = [makeRun(root, 'r1', 'my_preset', 7, { multimodal: [0.5, 0.3, 0.6] })];
  const loaded = loadRunMetrics(runs, { split: 'test', decode: 'beam-sample', modes: ['multimodal'] });
  const r = buildReport(loaded.runs, {
    convention: 'cmkp',
    split: 'test',
    decode: 'beam-sample',
    modes: ['multimodal'],
  });
  assert.equal(r.groups[0].cells.multimodal['f1@1']!.mean, 10);
  assert.match(reportLatex(r), /my\\_preset/);

  const out: string[] = [];
  const orig = console.log;
  console.log = (s: string) => out.push(s);
  try {
    assert.equal(await reportCommand([...runs, '--modes', 'multimodal', '--format', 'csv']), 0);
    assert.equal(await reportCommand([...runs, '--modes', 'multimodal', '--format', 'latex']), 0);
    assert.equal(await reportCommand([...runs, '--modes', 'multimodal']), 0);
  } finally {
    console.log = orig;
  }
  assert.match(out[0], /^preset,mode,metric/);
  assert.match(out[1], /\\begin\{tabular\}/);
  assert.match(out[2], /\| my_preset \| 1 \| 7 \| 50\.00 \|/);
});

test('study tables: per-seed CSV, Δ with Welch t and 95 % CI against a pinned baseline, τ-grid folders kept apart', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'aimkp-report-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // F1@1 of the hand-computed Welch example (test/metrics/welch.test.ts): baseline 1…5 %, AimKP 2…10 %.
  const runs: string[] = [];
  for (let s = 1; s <= 5; s++) {
    runs.push(makeRun(root, `baseline-s${s}`, 'baseline', s, { multimodal: [s / 100, 0.3, 0.4] }));
    runs.push(makeRun(root, `aimkp-s${s}`, 'aimkp', s, { multimodal: [(2 * s) / 100, 0.3, 0.4] }));
  }
  // Two cells of a tau grid: same preset, folders apart.
  runs.push(makeRun(root, 'aimkp-tt0.1-tv0.4-s1', 'aimkp', 1, { multimodal: [0.5, 0.3, 0.4] }));
  runs.push(makeRun(root, 'aimkp-tt0.1-tv0.4-s2', 'aimkp', 2, { multimodal: [0.7, 0.3, 0.4] }));
  const out: string[] = [];
  const orig = console.log;
  const origErr = console.error;
  console.log = (s: string) => out.push(s);
  console.error = () => {};
  try {
    const common = [...runs, '--modes', 'multimodal'];
    assert.equal(await reportCommand([...common, '--format', 'seeds-csv']), 0);
    assert.equal(await reportCommand([...common, '--format', 'delta-csv', '--baseline', 'baseline']), 0);
    assert.equal(await reportCommand([...common, '--format', 'delta-md', '--baseline', 'baseline']), 0);
    await assert.rejects(reportCommand([...common, '--format', 'delta-md']), /needs --baseline GROUP/);
    await assert.rejects(
      reportCommand([...common, '--format', 'delta-md', '--baseline', 'nope']),
      /"nope" is not a group of these runs \(groups by folder: baseline, aimkp, aimkp-tt0\.1-tv0\.4\)/,
    );
  } finally {
    console.log = orig;
    console.error = origErr;
  }
  const seeds = out[0].trim().split('\n');
  assert.equal(seeds[0], 'group,run,preset,seed,mode,metric,convention,split,decode,value_pct,items');
  assert.equal(seeds.length, 1 + 12 * 3);
  assert.ok(seeds.includes('aimkp,aimkp-s3,aimkp,3,multimodal,f1@1,aimkp,test,beam-sample,6.0000,10'));
  assert.ok(
    seeds.includes('aimkp-tt0.1-tv0.4,aimkp-tt0.1-tv0.4-s2,aimkp,2,multimodal,f1@1,aimkp,test,beam-sample,70.0000,10'),
  );
  const delta = out[1].trim().split('\n');
  const row = delta.find((l) => l.startsWith('aimkp,baseline,multimodal,f1@1,'))!.split(',');
  // n 5 vs 5, means 6 / 3, Δ 3, CI [−0.8877, 6.8877], t 1.8974, df 5.882, p 0.1075 (the hand-computed example).
  assert.deepEqual(row.slice(4), [
    '5',
    '5',
    '6.0000',
    '3.0000',
    '3.0000',
    '-0.8877',
    '6.8877',
    '1.8974',
    '5.882',
    '0.1075',
  ]);
  assert.ok(delta.some((l) => l.startsWith('aimkp-tt0.1-tv0.4,baseline,multimodal,f1@1,2,5,60.0000,3.0000,57.0000,')));
  assert.match(
    out[2],
    /\| aimkp \| multimodal \| F1@1 \| 5 vs 5 \| \+3\.00 \| \[-0\.89, 6\.89\] \| 1\.90 \| 5\.88 \| 0\.108 \|/,
  );
});

test('a run without any metrics file is skipped (said why), not counted in its group; unreadable folders too when asked', () => {
  const root = mkdtempSync(join(tmpdir(), 'aimkp-report-'));
  const done = makeRun(root, 'b-s1', 'baseline', 1, { multimodal: [0.5, 0.3, 0.6] });
  const never = makeRun(root, 'b-s2', 'baseline', 2, {});
  const noConfig = join(root, 'failed-early');
  mkdirSync(noConfig);
  assert.throws(
    () => reportRuns({ runDirs: [done, noConfig], decode: 'beam-sample' }),
    /failed-early" has no config.json/,
    'the CLI names folders on purpose: an unreadable one is still an error',
  );
  const r = reportRuns({ runDirs: [done, never, noConfig], decode: 'beam-sample', skipUnreadable: true });
  assert.deepEqual(
    r.report.groups.map((g) => [g.preset, g.runs]),
    [['baseline', ['b-s1']]],
  );
  assert.match(r.markdown, /\| baseline \| 1 \| 1 \| 50\.00 \|/);
  assert.deepEqual(
    r.skipped.map((s) => [s.name, s.reason]),
    [
      ['b-s2', 'not evaluated on test with beam-sample decoding (no metrics/test.<mode>.beam-sample.json)'],
      ['failed-early', `run folder "${noConfig}" has no config.json`],
    ],
  );
  rmSync(root, { recursive: true, force: true });
});
