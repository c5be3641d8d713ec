// Sweeps: a spec (presets × grid × seeds) expands into runs with stable names; every bad input names its file and
// line or field; `aimkp sweep FILE` queues them on the in-process queue (the default: nothing to install) and
// trains them here, tiny real runs; resubmitting the same file queues nothing again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sweepBaseRun, sweepRunConfig } from '../../electron/queue/cli';
import { expandSweep, meanStd, parseSweepSpec, sweepIdOf, sweepProgress, type SweepSpec } from '../../shared/sweep';
import { makeWorkspace, runEvents, type TestWorkspace } from '../supervisor/fixtures';

const ROOT = join(import.meta.dirname, '..', '..');
const TINY = {
  batchSize: 4,
  samplesPerCall: 4,
  model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0.1, lora: null },
  encoder: 'patch:3:4',
  maxValid: 4,
  checkpointEvery: 3,
  epochs: 1,
};

const spec = (over: Partial<SweepSpec> = {}): SweepSpec => ({
  name: 'tau',
  dataset: 'data',
  presets: ['aimkp', 'cmkp'],
  seeds: [1, 2],
  grid: { 'aimkp.tauText': [0.05, 0.1], 'aimkp.tauImage': [0.4] },
  overrides: {},
  ...over,
});

test('expansion: stable names, seed-major order, cells, the same id for the same spec in any key order', () => {
  const e = expandSweep(spec());
  assert.equal(e.runs.length, 8);
  assert.deepEqual(
    e.runs.slice(0, 4).map((r) => r.runId),
    [
      'tau-aimkp-tauImage0.4-tauText0.05-s1',
      'tau-aimkp-tauImage0.4-tauText0.1-s1',
      'tau-cmkp-tauImage0.4-tauText0.05-s1',
      'tau-cmkp-tauImage0.4-tauText0.1-s1',
    ],
  );
  assert.equal(e.runs[4].runId, 'tau-aimkp-tauImage0.4-tauText0.05-s2');
  assert.equal(e.cells.length, 4);
  assert.equal(e.runs[0].ref.cell, 'aimkp tauImage=0.4 tauText=0.05');
  assert.deepEqual(e.runs[1].overrides, { aimkp: { tauImage: 0.4, tauText: 0.1 } });
  assert.deepEqual(
    e.runs.map((r) => r.ref.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  const reordered = parseSweepSpec(
    '{"seeds":[1,2],"grid":{"aimkp.tauImage":[0.4],"aimkp.tauText":[0.05,0.1]},"presets":["aimkp","cmkp"],"dataset":"data","name":"tau"}',
    'x.json',
  );
  assert.equal(sweepIdOf(reordered), e.sweepId);
  assert.notEqual(sweepIdOf(spec({ seeds: [1, 3] })), e.sweepId);
  // The config of a cell: the preset, the sweep's overrides and the cell's values, the seed.
  const c = sweepRunConfig('aimkp', e.runs[1].overrides, 2);
  assert.equal(c.aimkp?.tauText, 0.1);
  assert.equal(c.aimkp?.tauImage, 0.4);
  assert.equal(c.seed, 2);
});

test('every bad sweep file names the file and the line or field', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseSweepSpec(text, 'study.json'), re);
  bad('{\n "name": "x",\n "seeds": [1,]\n}', /^SweepFileError: study\.json:3: not valid JSON/);
  bad('[]', /study\.json: field "\(top\)": expected an object/);
  bad('{"name":"a b","dataset":"d","presets":["aimkp"],"seeds":[1]}', /field "name": letters, digits/);
  bad('{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[1, 1.5]}', /field "seeds\[1\]": expected integer seeds/);
  bad('{"name":"a","dataset":"d","presets":[],"seeds":[1]}', /field "presets": give at least one preset/);
  bad('{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[1],"grd":{}}', /field "grd": unknown field/);
  bad(
    '{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[1],"grid":{"aimkp.tauText":[0.1,0.1]}}',
    /field "grid\["aimkp\.tauText"\]\[1\]": 0\.1 is listed twice/,
  );
  bad(
    '{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[1],"grid":{"aimkp.tauText":[0.1],"cmkp.tauText":[0.2]}}',
    /run names would clash/,
  );
  bad(
    '{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[1],"grid":{"seed":[1,2]}}',
    /"seed" is not a grid axis: list it under "seeds"/,
  );
  bad(
    `{"name":"a","dataset":"d","presets":["aimkp"],"seeds":[${Array.from({ length: 30 }, (_, i) => i)}],"grid":{"x.a":[${Array.from({ length: 20 }, (_, i) => i)}]}}`,
    /field "grid": 600 runs; a sweep makes at most 500/,
  );
  assert.throws(() => sweepRunConfig('nope', {}, 1), /unknown preset "nope"/);
  assert.throws(() => sweepRunConfig('aimkp', { batchSize: 'big' }, 1), /batchSize/);
});

test('progress and mean ± std of a sweep', () => {
  assert.deepEqual(sweepProgress(['completed', 'running', 'queued', 'failed', 'stopped', 'completed'], 8), {
    total: 8,
    done: 2,
    running: 1,
    queued: 1,
    failed: 1,
    stopped: 1,
  });
  const s = meanStd([1, 2, 3]);
  assert.equal(s.mean, 2);
  assert.equal(s.std, 1);
  assert.equal(meanStd([5]).std, null);
});

let ws: TestWorkspace;
before(async () => {
  ws = await makeWorkspace('sweep-cli', 40);
});
after(() => ws.cleanup());

test('aimkp sweep FILE: a 2×1 sweep trains here on the in-process queue; resubmitting queues nothing', () => {
  const file = join(ws.root, 'study.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'mini',
      dataset: 'data', // relative to the file
      presets: ['aimkp'],
      seeds: [1],
      grid: { 'aimkp.tauText': [0.5, 0.25] },
      overrides: TINY,
      maxSteps: 4,
    }),
  );
  const run = () =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'aimkp.mjs'), 'sweep', file, '--workspace', ws.workspace], {
      encoding: 'utf8',
      timeout: 300_000,
    });
  const r = run();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /sweep mini-[0-9a-f]{8}: 2 runs in 2 cells/);
  assert.match(r.stdout, /mini-aimkp-tauText0\.5-s1: stopped/);
  for (const id of ['mini-aimkp-tauText0.5-s1', 'mini-aimkp-tauText0.25-s1']) {
    const steps = runEvents(ws.workspace, id).filter((e) => e.type === 'step');
    assert.equal(steps.length, 4, `${id}: maxSteps 4`);
    const meta = JSON.parse(readFileSync(join(ws.workspace, 'runs', id, 'run-meta.json'), 'utf8')) as {
      sweep: { cell: string; total: number };
    };
    assert.equal(meta.sweep.total, 2);
    assert.match(meta.sweep.cell, /^aimkp tauText=0\.(5|25)$/);
  }
  const again = run();
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /queued 0, 2 already there/);
  const badFile = join(ws.root, 'bad.json');
  writeFileSync(badFile, '{"name":"x","dataset":"data","presets":["aimkp"],"seeds":[1],"overrides":{"epochs":"two"}}');
  const bad = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'aimkp.mjs'), 'sweep', badFile, '--workspace', ws.workspace],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.trim(), /^aimkp sweep: .*bad\.json: field "run x-aimkp-s1": .*epochs/);
  // A base run (initFrom) that is nowhere: refused before anything is queued.
  const noBase = join(ws.root, 'no-base.json');
  writeFileSync(
    noBase,
    '{"name":"nb","dataset":"data","presets":["aimkp"],"seeds":[1],"overrides":{"initFrom":"gone"}}',
  );
  const nb = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'aimkp.mjs'), 'sweep', noBase, '--workspace', ws.workspace],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(nb.status, 1, nb.stdout + nb.stderr);
  assert.match(nb.stderr.trim(), /^aimkp sweep: .*no-base\.json: field "overrides\.initFrom": no base run at .*gone/);
});

test("a sweep's base run (initFrom) becomes absolute: relative to the file, or a run id; a missing one names the field", () => {
  const base = (dir: string) => {
    mkdirSync(join(dir, 'best'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
  };
  const studies = join(ws.root, 'studies');
  const runs = join(ws.root, 'base-ws', 'runs');
  base(join(ws.root, 'bases', 'align-a'));
  base(join(runs, 'align-b'));
  const file = join(studies, 'paper.json');
  // Left relative, each worker would resolve it against its own working directory.
  assert.equal(sweepBaseRun('../bases/align-a', file, runs), join(ws.root, 'bases', 'align-a'));
  assert.equal(sweepBaseRun('align-b', file, runs), join(runs, 'align-b'));
  assert.equal(sweepBaseRun(join(runs, 'align-b'), file, runs), join(runs, 'align-b'));
  mkdirSync(join(runs, 'half'), { recursive: true });
  writeFileSync(join(runs, 'half', 'config.json'), '{}');
  assert.throws(
    () => sweepBaseRun('half', file, runs),
    /paper\.json: field "overrides\.initFrom": no base run at .*studies\/half and no run "half" in .*runs \(a base run holds config\.json and best\/\)/,
  );
});
