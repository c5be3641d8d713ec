// `aimkp robustness --table --group preset`: mean ± sample std over seeds per condition, the pure core and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { robustnessCommand } from '../../models/cli/commands/robustness';
import {
  robustnessCompareMarkdown,
  type ConditionResult,
  type RobustnessReport,
} from '../../models/evaluate/robustness';
import {
  groupedRobustnessCsv,
  groupedRobustnessMarkdown,
  groupRobustness,
  robustnessSettingsWarnings,
  type RobustnessInput,
} from '../../models/evaluate/robustness-table';
import { tempDir } from '../fixtures/temp-dirs';

/** A condition whose F1@1 is `f1` (F1@3 = f1 / 2, MAP@5 = f1 + 0.1), fractions as robustness.ts stores them. */
function cond(name: string, f1: number): ConditionResult {
  const family =
    name === 'clean'
      ? 'clean'
      : name.startsWith('image-mask')
        ? 'image-mask'
        : name === 'image-swap'
          ? 'image-swap'
          : 'text-swap';
  const level = name.includes('@') ? Number(name.split('@')[1]) : null;
  return {
    name,
    family,
    level,
    mode: 'multimodal',
    n: 20,
    aimkp: { 'f1@1': f1, 'f1@3': f1 / 2, 'map@5': f1 + 0.1 },
    seconds: 1,
  };
}

function report(run: string, conditions: ConditionResult[], over: Partial<RobustnessReport> = {}): RobustnessReport {
  return {
    run,
    split: 'test',
    decode: 'greedy',
    maskPattern: 'random',
    seed: 1,
    n: 20,
    featureStd: 0.5,
    conditions,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

const input = (
  preset: string,
  seed: number,
  conditions: ConditionResult[],
  over: Partial<RobustnessReport> = {},
): RobustnessInput => ({
  file: `runs/${preset}-s${seed}/robustness/test.json`,
  report: report(`${preset}-s${seed}`, conditions, over),
  preset,
  seed,
});

// baseline clean F1@1: 40, 42, 47 % → mean 43, sample std √((9 + 1 + 16) / 2) = √13 = 3.6056.
// aimkp clean F1@1: 50, 52, 54 % → mean 52, std 2. aimkp image-swap only in s1, s2: 30, 36 → mean 33, std √18 = 4.2426.
// The inputs come out of seed order (as a shell glob of s1, s10, s2 would); columns list the seeds ascending.
const INPUTS: RobustnessInput[] = [
  input('baseline', 2, [cond('clean', 0.42), cond('image-mask@0.5', 0.2), cond('image-swap', 0.1)]),
  input('baseline', 1, [cond('clean', 0.4), cond('image-mask@0.5', 0.2), cond('image-swap', 0.1)]),
  input('baseline', 3, [cond('clean', 0.47), cond('image-mask@0.5', 0.2), cond('image-swap', 0.1)]),
  input('aimkp', 1, [cond('clean', 0.5), cond('image-mask@0.5', 0.4), cond('image-swap', 0.3)]),
  input('aimkp', 2, [cond('clean', 0.52), cond('image-mask@0.5', 0.4), cond('image-swap', 0.36)]),
  input('aimkp', 3, [cond('clean', 0.54), cond('image-mask@0.5', 0.4), cond('text-swap', 0.05)]),
];

test('groupRobustness: mean and sample std per preset, missing condition averaged over the rest and marked', () => {
  const g = groupRobustness(INPUTS, 'f1@1');
  assert.deepEqual(
    g.columns.map((c) => [c.label, c.seeds]),
    [
      ['baseline', [1, 2, 3]],
      ['aimkp', [1, 2, 3]],
    ],
  );
  assert.deepEqual(
    g.rows.map((r) => r.condition),
    ['clean', 'image-mask@0.5', 'image-swap', 'text-swap'],
  ); // first report's order, then the rest
  const clean = g.rows[0].cells;
  assert.ok(Math.abs(clean[0]!.mean - 43) < 1e-9);
  assert.ok(Math.abs(clean[0]!.std! - Math.sqrt(13)) < 1e-9);
  assert.deepEqual(clean[0]!.seeds, [1, 2, 3]);
  assert.ok(Math.abs(clean[1]!.mean - 52) < 1e-9);
  assert.ok(Math.abs(clean[1]!.std! - 2) < 1e-9);
  const swap = g.rows[2].cells[1]!;
  assert.equal(swap.n, 2);
  assert.ok(Math.abs(swap.mean - 33) < 1e-9);
  assert.ok(Math.abs(swap.std! - Math.sqrt(18)) < 1e-9);
  assert.equal(g.rows[3].cells[0], null); // no baseline report has text-swap
  assert.equal(g.rows[3].cells[1]!.std, null); // one aimkp report has it
  assert.deepEqual(g.warnings, []);

  const md = groupedRobustnessMarkdown(g);
  assert.match(
    md,
    /^F1@1 by condition \(AimKP convention, %, greedy decoding\); columns: presets, mean ± sample std over seeds \(n − 1\); split test, 20 items\n/,
  );
  assert.match(md, /\n\| condition \| baseline \(seeds 1,2,3\) \| aimkp \(seeds 1,2,3\) \|\n\|---\|---:\|---:\|\n/);
  assert.match(md, /\n\| clean \| 43\.00 ± 3\.61 \| 52\.00 ± 2\.00 \|\n/);
  assert.match(md, /\n\| image-mask@0\.5 \| 20\.00 ± 0\.00 \| 40\.00 ± 0\.00 \|\n/);
  assert.match(md, /\n\| image-swap \| 10\.00 ± 0\.00 \| 33\.00 ± 4\.24 \(n=2\) \|\n/);
  assert.match(md, /\n\| text-swap \| — \| 5\.00 \(n=1\) \|\n$/);

  // The metric is chosen: F1@3 = F1@1 / 2 here.
  assert.match(
    groupedRobustnessMarkdown(groupRobustness(INPUTS, 'f1@3')),
    /\| clean \| 21\.50 ± 1\.80 \| 26\.00 ± 1\.00 \|/,
  );
});

test('groupRobustness: CSV rows per condition × preset; a single report shows the mean and n=1', () => {
  const csv = groupedRobustnessCsv(groupRobustness(INPUTS, 'f1@1')).trimEnd().split('\n');
  assert.equal(csv[0], 'condition,preset,metric,n,mean_pct,std_pct,values_pct,seeds,runs');
  assert.equal(
    csv[1],
    'clean,baseline,f1@1,3,43.0000,3.6056,40.0000;42.0000;47.0000,1;2;3,baseline-s1;baseline-s2;baseline-s3',
  );
  assert.equal(csv[2], 'clean,aimkp,f1@1,3,52.0000,2.0000,50.0000;52.0000;54.0000,1;2;3,aimkp-s1;aimkp-s2;aimkp-s3');
  assert.ok(csv.includes('image-swap,aimkp,f1@1,2,33.0000,4.2426,30.0000;36.0000,1;2,aimkp-s1;aimkp-s2'));
  assert.ok(csv.includes('text-swap,aimkp,f1@1,1,5.0000,,5.0000,3,aimkp-s3'));
  assert.equal(csv.filter((l) => l.startsWith('text-swap,baseline')).length, 0); // absent from the whole group: no row
  assert.equal(csv.length, 1 + 4 * 2 - 1);

  const one = groupRobustness([input('aimkp', 7, [cond('clean', 0.45)])], 'f1@1');
  const md = groupedRobustnessMarkdown(one);
  assert.match(md, /\| condition \| aimkp \(seed 7; n=1\) \|/);
  assert.match(md, /\| clean \| 45\.00 \|/);
  assert.equal(groupedRobustnessCsv(one).trimEnd().split('\n')[1], 'clean,aimkp,f1@1,1,45.0000,,45.0000,7,aimkp-s7');
});

test('settings warnings name the files whose split, suite seed, pattern or item count differ; duplicate seeds', () => {
  const a = input('aimkp', 1, [cond('clean', 0.5)]);
  const b = input('aimkp', 2, [cond('clean', 0.5)], { n: 10 });
  const c = input('baseline', 1, [cond('clean', 0.5)], { split: 'valid', seed: 3 });
  const w = robustnessSettingsWarnings([a, b, c]);
  assert.equal(w.length, 3);
  assert.equal(
    w[0],
    'warning: the robustness reports differ in split: test (runs/aimkp-s1/robustness/test.json, runs/aimkp-s2/robustness/test.json); valid (runs/baseline-s1/robustness/test.json)',
  );
  assert.match(
    w[1],
    /suite seed \(--seed\): 1 \(runs\/aimkp-s1\/robustness\/test\.json, runs\/aimkp-s2\/robustness\/test\.json\); 3 \(runs\/baseline-s1/,
  );
  assert.match(
    w[2],
    /item count \(--limit\): 20 \(runs\/aimkp-s1\/robustness\/test\.json, runs\/baseline-s1\/robustness\/test\.json\); 10 \(runs\/aimkp-s2/,
  );
  assert.deepEqual(robustnessSettingsWarnings([a, input('aimkp', 2, [])]), []);
  const dup = groupRobustness([a, { ...a, file: 'copy.json' }], 'f1@1');
  assert.deepEqual(dup.warnings, [
    'warning: preset aimkp: seed 1 appears in 2 reports (runs/aimkp-s1/robustness/test.json, copy.json); each is counted',
  ]);
  assert.match(groupedRobustnessMarkdown(groupRobustness([a, b, c], 'f1@1')), /; splits test, valid, 20\/10 items\n/);
});

/** Runs the command with stdout and stderr captured. */
async function capture(fn: () => Promise<number>): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (s: string) => out.push(s);
  process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
  try {
    const rc = await fn();
    return { rc, out: out.join('\n'), err: err.join('') };
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}

test("aimkp robustness --table --group preset reads each run folder's config.json", async () => {
  const root = tempDir('aimkp-robustness-table-');
  const write = (name: string, config: Record<string, unknown> | null, r: RobustnessReport): string => {
    const dir = join(root, 'runs', name);
    mkdirSync(join(dir, 'robustness'), { recursive: true });
    if (config)
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'aimkp-run-v1', ...config }, null, 2) + '\n');
    const file = join(dir, 'robustness', `${r.split}.json`);
    writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
    return file;
  };
  const files = [
    write(
      'baseline-s1',
      { preset: 'baseline', seed: 1 },
      report('baseline-s1', [cond('clean', 0.4), cond('image-swap', 0.1)]),
    ),
    write(
      'baseline-s2',
      { preset: 'baseline', seed: 2 },
      report('baseline-s2', [cond('clean', 0.44), cond('image-swap', 0.2)]),
    ),
    write('aimkp-s1', { preset: 'aimkp', seed: 1 }, report('aimkp-s1', [cond('clean', 0.5), cond('image-swap', 0.3)])),
  ];

  const md = await capture(() => robustnessCommand(['--table', ...files, '--group', 'preset', '--metric', 'f1@1']));
  assert.equal(md.rc, 0);
  assert.equal(md.err, '');
  // baseline clean: 40, 44 → 42.00 ± 2.83 (√8); image-swap: 10, 20 → 15.00 ± 7.07 (√50).
  assert.deepEqual(md.out.split('\n').slice(2), [
    '| condition | baseline (seeds 1,2) | aimkp (seed 1; n=1) |',
    '|---|---:|---:|',
    '| clean | 42.00 ± 2.83 | 50.00 |',
    '| image-swap | 15.00 ± 7.07 | 30.00 |',
  ]);

  const csv = await capture(() =>
    robustnessCommand(['--table', ...files, '--group', 'preset', '--metric', 'f1@1', '--format', 'csv']),
  );
  assert.equal(
    csv.out.split('\n')[1],
    'clean,baseline,f1@1,2,42.0000,2.8284,40.0000;44.0000,1;2,baseline-s1;baseline-s2',
  );

  // --group none --format csv: one column per report, labelled by its run, with the training seed from config.json.
  const perRun = await capture(() => robustnessCommand(['--table', ...files, '--format', 'csv', '--metric', 'f1@1']));
  assert.deepEqual(perRun.out.split('\n').slice(0, 3), [
    'condition,run,metric,n,mean_pct,std_pct,values_pct,seeds,runs',
    'clean,baseline-s1,f1@1,1,40.0000,,40.0000,1,baseline-s1',
    'clean,baseline-s2,f1@1,1,44.0000,,44.0000,2,baseline-s2',
  ]);

  // --group none (the default) prints today's table unchanged.
  const plain = await capture(() => robustnessCommand(['--table', ...files]));
  const reports = ['baseline-s1', 'baseline-s2', 'aimkp-s1'].map((run, i) =>
    report(run, [cond('clean', [0.4, 0.44, 0.5][i]), cond('image-swap', [0.1, 0.2, 0.3][i])]),
  );
  assert.equal(plain.out, robustnessCompareMarkdown(reports, 'f1@3').trimEnd());

  // A report of another split and item count: a warning naming it on stderr, and the table still printed.
  const other = write(
    'aimkp-s2',
    { preset: 'aimkp', seed: 2 },
    report('aimkp-s2', [cond('clean', 0.6)], { split: 'valid', n: 5 }),
  );
  const warned = await capture(() => robustnessCommand(['--table', ...files, other, '--group', 'preset']));
  assert.equal(warned.rc, 0);
  assert.match(
    warned.err,
    /warning: the robustness reports differ in split: test \(.*baseline-s1.*\); valid \(.*aimkp-s2\/robustness\/valid\.json\)/,
  );
  assert.match(warned.err, /differ in item count \(--limit\): 20 .*; 5 \(.*aimkp-s2/);
  assert.match(warned.out, /\| clean \| 21\.00 ± 1\.41 \| 27\.50 ± 3\.54 \|/);

  // Errors name the report file.
  const noConfig = write('orphan', null, report('orphan', [cond('clean', 0.5)]));
  await assert.rejects(
    robustnessCommand(['--table', noConfig, '--group', 'preset']),
    (e: Error) => e.message.includes(noConfig) && /no config\.json/.test(e.message),
  );
  const noPreset = write('nopreset', { seed: 4 }, report('nopreset', [cond('clean', 0.5)]));
  await assert.rejects(
    robustnessCommand(['--table', noPreset, '--group', 'preset']),
    (e: Error) => e.message.includes(noPreset) && /no "preset" field/.test(e.message),
  );
  await assert.rejects(robustnessCommand(['--table', ...files, '--group', 'seed']), /--group must be none or preset/);
  await assert.rejects(robustnessCommand(['--table', ...files, '--format', 'latex']), /--format must be md or csv/);
  await assert.rejects(robustnessCommand(['--run', 'x', '--group', 'preset']), /--group goes with --table/);
});
