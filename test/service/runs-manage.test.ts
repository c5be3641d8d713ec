// Issue 16, items 4–6, through the contract on the real service: the report table of a workspace that holds a
// failed and an unevaluated run (skipped and said why, not a failed export); the base runs a new run may start from
// (runs.bases, runs.start initFrom = a run id the server resolves, never a path) with errors naming the form's field;
// and runs.start refusing absurd hyperparameters and seed counts with the bound and the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { align, alignDefaults } from '../../models/train/align';
import { pretrain, pretrainDefaults } from '../../models/train/pretrain';
import type { ApiClient } from '../../shared/contract/client';
import type { Service } from '../../electron/service/create-service';
import { isJobOf, TRAIN_JOB } from '../../electron/supervisor/job-kinds';
import { tempDir } from '../fixtures/temp-dirs';
import { openService } from './fixtures';

let ws = '';
let service: Service;
let api: ApiClient;

const TINY = {
  model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
  batchSize: 8,
  samplesPerCall: 8,
  maxValid: 4,
  epochs: 1,
  encoder: 'patch:3:4',
  checkpointEvery: 0,
};

before(async () => {
  ws = join(tempDir('aimkp-runs-manage-'), 'ws');
  await buildSynthDataset({ n: 40, seed: 5, out: join(ws, 'datasets', 'synth') });
  // A set with no train item: a run on it fails while preparing, before its folder has a config.json.
  mkdirSync(join(ws, 'datasets', 'no-train'), { recursive: true });
  writeFileSync(
    join(ws, 'datasets', 'no-train', 'manifest.jsonl'),
    JSON.stringify({ id: 't1', split: 'test', text: 'a cat', image: null, keyphrases: ['cat'] }) + '\n',
  );
  ({ service, api } = openService(ws));
});
after(() => service?.close());

async function ended(jobId: string, state = 'completed'): Promise<void> {
  const job = await service.supervisor().waitForJob(jobId);
  assert.equal(job.state, state, `${job.id}: ${JSON.stringify(job.error)}`);
}

test('report.table over every listed run: a failed and an unevaluated run are skipped with the reason', async () => {
  const [evaluated, unevaluated] = await Promise.all(
    [1, 2].map(
      async (seed) =>
        (await api.call('runs.start', { preset: 'baseline', dataset: 'synth', overrides: TINY, seeds: [seed] }))
          .runs[0],
    ),
  );
  const failed = (await api.call('runs.start', { preset: 'baseline', dataset: 'no-train', overrides: TINY })).runs[0];
  await ended(evaluated.jobId);
  await ended(unevaluated.jobId);
  await ended(failed.jobId, 'failed');
  await ended((await api.call('runs.evaluate', { id: evaluated.id, modes: ['multimodal'] })).jobId);

  // What the Runs view sends with nothing ticked: every run it lists, the failed start too.
  const listed = (await api.call('runs.list', {})).runs;
  assert.deepEqual(listed.map((r) => r.id).sort(), [evaluated.id, unevaluated.id, failed.id].sort());
  assert.equal(listed.find((r) => r.id === failed.id)?.status, 'failed');
  const r = await api.call('report.table', { runs: listed.map((x) => x.id), decode: 'greedy', format: 'md' });
  assert.deepEqual(
    r.groups.map((g) => [g.preset, g.runs]),
    [['baseline', [evaluated.id]]],
    'only the evaluated run is counted',
  );
  assert.match(r.text, /\| baseline \| 1 \| 1 \|/);
  const why = new Map(r.skipped.map((s) => [s.run, s.reason]));
  assert.equal(why.size, 2);
  assert.match(why.get(failed.id)!, /^failed before training: .*no usable train items/);
  assert.match(why.get(unevaluated.id)!, /^not evaluated on test with greedy decoding/);
  // With no list the same (runs with folders).
  const all = await api.call('report.table', { decode: 'greedy' });
  assert.deepEqual(
    all.skipped.map((s) => s.run),
    [unevaluated.id],
  );
  // A run id nobody knows is still an error naming it; among others (a run deleted elsewhere) it is skipped.
  await assert.rejects(api.call('report.table', { runs: ['no-such-run'] }), /run no-such-run: no such run/);
  const stale = await api.call('report.table', { runs: [evaluated.id, 'gone-run'], decode: 'greedy' });
  assert.deepEqual(stale.skipped, [{ run: 'gone-run', reason: 'no such run in this workspace (deleted?)' }]);
  assert.deepEqual(
    stale.groups.map((g) => g.runs),
    [[evaluated.id]],
  );
});

test('runs.bases + runs.start initFrom: a base picked by id, errors name "Initialise from", never a raw path', async () => {
  assert.deepEqual((await api.call('runs.bases', {})).runs, [], 'baselines are not bases');
  const presets = (await api.call('presets.list', {})).presets;
  assert.equal(presets.find((p) => p.name === 'paper-aimkp')?.needsBase, true);
  assert.equal(presets.find((p) => p.name === 'aimkp')?.needsBase, false);

  const refused = async (req: Parameters<typeof api.call<'runs.start'>>[1], code: string, message: RegExp) =>
    assert.rejects(api.call('runs.start', req), (e: Error & { code?: string; details?: { field?: string } }) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /--init-from/);
      return true;
    });
  await refused(
    { preset: 'paper-aimkp', dataset: 'synth' },
    'BAD_INPUT',
    /^Initialise from: preset paper-aimkp fine-tunes a pretrained base; pick a base run \(made by `aimkp pretrain` then `aimkp align`.*from-scratch preset aimkp$/,
  );
  await refused(
    { preset: 'aimkp', dataset: 'synth', overrides: { initFrom: join(ws, 'runs') } },
    'BAD_INPUT',
    /^Initialise from: pick a base run by its id .*a folder path in overrides.initFrom is not accepted$/,
  );
  await refused(
    { preset: 'paper-aimkp', dataset: 'synth', initFrom: 'nope' },
    'NOT_FOUND',
    /^Initialise from: run nope: no such run/,
  );
  const plain = (await api.call('runs.list', {})).runs.find((r) => r.status === 'completed')!;
  await refused(
    { preset: 'paper-aimkp', dataset: 'synth', initFrom: plain.id },
    'BAD_INPUT',
    new RegExp(`^Initialise from: run ${plain.id} is not a base`),
  );

  // A real (tiny) base: aimkp pretrain, then aimkp align, into the workspace as the CLI would.
  const data = join(ws, 'datasets', 'synth');
  const SMALL = {
    dModel: 8,
    nLayers: 1,
    nHeads: 2,
    dFF: 16,
    adapterHidden: 8,
    dropout: 0,
    lora: null,
    freezeLm: false,
  };
  const pt = join(ws, 'runs', 'base-pt');
  await pretrain({
    runDir: pt,
    dataDir: data,
    config: { ...pretrainDefaults(), epochs: 1, batchSize: 4, samplesPerCall: 4, model: SMALL, encoder: 'patch:3:4' },
    settings: { heldOutChunks: 2 },
    corpusOverride: [{ source: 'wordnet', text: 'cat: a small domesticated carnivorous mammal with soft fur' }],
  });
  await align({
    runDir: join(ws, 'runs', 'base-al'),
    base: pt,
    dataDir: data,
    config: { ...alignDefaults(pt), epochs: 1, batchSize: 4, samplesPerCall: 4 },
  });
  const bases = (await api.call('runs.bases', {})).runs;
  assert.deepEqual(
    bases.map((b) => [b.id, b.preset]),
    [
      ['base-al', 'align'],
      ['base-pt', 'lm-pretrain'],
    ],
    'align first',
  );
  const started = await api.call('runs.start', {
    preset: 'paper-aimkp',
    dataset: 'synth',
    initFrom: 'base-al',
    overrides: { epochs: 1, batchSize: 4, samplesPerCall: 4, maxValid: 2 },
  });
  const job = service.supervisor().queue.get(started.runs[0].jobId)!;
  assert.ok(isJobOf(job.spec, TRAIN_JOB));
  assert.equal(
    job.spec.params.config.initFrom,
    join(ws, 'runs', 'base-al'),
    'the server resolved the id to its folder',
  );
  await ended(started.runs[0].jobId);
  assert.equal((await api.call('runs.get', { id: started.runs[0].id })).config.initFrom, join(ws, 'runs', 'base-al'));
});

test('runs.start refuses absurd hyperparameters naming the field and its bound, and too many seeds saying why', async () => {
  const cases: [Record<string, number>, RegExp][] = [
    [{ epochs: 1e9 }, /field "epochs": .*\[1, 1000\]/],
    [{ lr: 100 }, /field "lr": .*\(0, 1\]/],
    [{ batchSize: 999_999 }, /field "batchSize": .*\[1, 4096\]/],
  ];
  for (const [overrides, message] of cases)
    await assert.rejects(
      api.call('runs.start', { preset: 'aimkp', dataset: 'synth', overrides }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_INPUT', e.message);
        assert.match(e.message, message);
        return true;
      },
    );
  const seeds = Array.from({ length: 100 }, (_, i) => i + 1);
  await assert.rejects(
    api.call('runs.start', { preset: 'aimkp', dataset: 'synth', seeds }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_REQUEST');
      assert.match(e.message, /seeds: at most 32 seeds in one launch \(one run each; LIMITS.maxSeeds\)/);
      assert.doesNotMatch(e.message, /Too big/);
      return true;
    },
  );
  assert.equal((await api.call('jobs.list', {})).jobs.filter((j) => j.state === 'queued').length, 0, 'nothing queued');
});
