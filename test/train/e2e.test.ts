// End to end: `aimkp train` on a tiny synthetic set writes a complete run folder; the best checkpoint
// reloads for inference and reproduces its validation score; the baseline preset trains too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { trainCommand } from '../../models/cli/commands/train';
import { loadRunForInference } from '../../models/run/run-loader';
import { encodeItems } from '../../models/train/data-prep';
import { validate } from '../../models/train/trainer';
import { readCheckpoint } from '../../models/run/checkpoint-io';
import { loadDataset } from '../../models/data/load-dataset';
import { encodeImages } from '../../models/vision/feature-cache';
import { loadImageEncoder } from '../../models/vision/load-image-encoder';
import { PRESET_NAMES } from '../../models/train/presets';
import { parseTrainingEvent, type EpochEndEvent, type TrainingEvent } from '../../shared/training-events';

const root = mkdtempSync(join(tmpdir(), 'aimkp-e2e-'));
const data = join(root, 'data');
after(() => rmSync(root, { recursive: true, force: true }));
const cfg = join(root, 'tiny.json');

function events(run: string): TrainingEvent[] {
  return readFileSync(join(run, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseTrainingEvent)
    .filter((e): e is TrainingEvent => e !== null);
}

test('aimkp train --help lists every preset', async () => {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    assert.equal(await trainCommand(['--help']), 0);
  } finally {
    console.log = orig;
  }
  for (const p of PRESET_NAMES) assert.ok(lines.join('\n').includes(`  ${p} `), p);
});

test('aimkp preset: run folder, events with stride histograms, checkpoints, best/ reloads with its score', async () => {
  await buildSynthDataset({ n: 50, seed: 2, out: data });
  writeFileSync(
    cfg,
    JSON.stringify({
      model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
      batchSize: 8,
      samplesPerCall: 8,
      checkpointEvery: 2,
    }),
  );
  const run = join(root, 'aimkp');
  const code = await trainCommand([
    '--data',
    data,
    '--preset',
    'aimkp',
    '--out',
    run,
    '--epochs',
    '3',
    '--encoder',
    'patch:3:4',
    '--config',
    cfg,
    '--quiet',
  ]);
  assert.equal(code, 0);

  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.deepEqual(
    [
      config.preset,
      config.method,
      config.epochs,
      config.encoder,
      config.aimkp.tauImage,
      config.lm.imageGrid,
      config.lm.dModel,
    ],
    ['aimkp', 'aimkp', 3, 'patch:3:4', 0.4, 3, 16],
  );
  assert.ok(
    config.trainItems === 40 && typeof config.trainFingerprint === 'string' && config.format === 'aimkp-run-v1',
  );
  assert.ok(existsSync(join(run, 'tokenizer.json')));
  for (const f of ['model.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json'])
    assert.ok(existsSync(join(run, 'checkpoints', 'last', f)), f);
  for (const f of ['model.json', 'weights.bin', 'state.json']) assert.ok(existsSync(join(run, 'best', f)), f);

  const ev = events(run);
  assert.equal(ev[0].type, 'run-start');
  assert.equal(ev[ev.length - 1].type, 'run-end');
  assert.equal(ev.filter((e) => e.type === 'step').length, 15);
  assert.ok(
    ev.some((e) => e.type === 'checkpoint' && e.which === 'last' && e.step === 2),
    'checkpoint every 2 steps',
  );
  const ends = ev.filter((e): e is EpochEndEvent => e.type === 'epoch-end');
  assert.equal(ends.length, 3);
  // After the warm-up epoch every sample moves 1 → 2 unchecked; afterwards hist[2s] = accepted, hist[max(s/2,2)] = rejected.
  assert.deepEqual(ends[0].strides!.text.histogram, { '2': 40 });
  assert.deepEqual(ends[0].strides!.image.histogram, { '2': 40 });
  assert.equal(ends[0].acceptance.text.checked, 0);
  for (const m of ['text', 'image'] as const) {
    const h = ends[1].strides![m].histogram;
    assert.equal(ends[1].acceptance[m].checked, 40);
    assert.equal(h['4'] ?? 0, ends[1].acceptance[m].accepted);
    assert.equal(h['2'] ?? 0, 40 - ends[1].acceptance[m].accepted);
    assert.equal(ends[1].strides![m].frozen, 40 - ends[1].acceptance[m].accepted);
  }
  const scores = ends.map((e) => e.validation!.score);
  // The later of tied epochs is the best (the released code's rule).
  const bestEpoch = scores.lastIndexOf(Math.max(...scores));
  const runEnd = ev[ev.length - 1];
  assert.ok(runEnd.type === 'run-end' && runEnd.status === 'completed' && runEnd.best!.epoch === bestEpoch);

  // best/ holds the best epoch's weights: re-validating it reproduces that epoch's score.
  const loaded = await loadRunForInference(run, 'best');
  assert.equal(loaded.checkpoint.epoch, bestEpoch);
  assert.equal(loaded.encoderSpec, 'patch:3:4');
  const ds = await loadDataset(data, { splits: ['valid'] });
  const encoder = await loadImageEncoder(loaded.encoderSpec);
  const features = await encodeImages(encoder, data, ds.items);
  const valid = encodeItems(ds.items, loaded.tokenizer, features, loaded.config);
  const again = (await validate(
    loaded.model,
    loaded.tokenizer,
    valid,
    ds.items.map((i) => i.keyphrases),
    loaded.config,
  ))!;
  assert.ok(Math.abs(again.score - scores[bestEpoch]) < 1e-9, `${again.score} vs ${scores[bestEpoch]}`);
  loaded.model.dispose();
  const last = await loadRunForInference(run, 'last');
  assert.equal(last.checkpoint.globalStep, 15);
  last.model.dispose();
});

test('baseline and text-specialist presets train (standard path); bad config is reported by file and field', async () => {
  const run = join(root, 'baseline');
  assert.equal(
    await trainCommand([
      '--data',
      data,
      '--preset',
      'baseline',
      '--out',
      run,
      '--epochs',
      '1',
      '--encoder',
      'patch:3:4',
      '--config',
      cfg,
      '--quiet',
      '--max-steps',
      '2',
    ]),
    0,
  );
  assert.equal(await trainCommand(['--out', run, '--resume', '--quiet']), 0);
  const all = events(run);
  assert.deepEqual(
    all
      .filter((e) => e.type === 'run-start' || e.type === 'run-end')
      .map((e) => (e.type === 'run-end' ? e.status : `start@${e.type === 'run-start' ? e.startStep : ''}`)),
    ['start@0', 'stopped', 'start@2', 'completed'],
  );
  assert.deepEqual(
    all.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? e.step : 0)),
    [1, 2, 3, 4, 5],
  );
  const ends = all.filter((e): e is EpochEndEvent => e.type === 'epoch-end');
  assert.equal(ends.length, 1);
  assert.equal(ends[0].strides, null);
  assert.equal(ends[0].validation!.mode, 'multimodal');
  const spec = join(root, 'text');
  assert.equal(
    await trainCommand([
      '--data',
      data,
      '--preset',
      'text-specialist',
      '--out',
      spec,
      '--epochs',
      '1',
      '--encoder',
      'patch:3:4',
      '--config',
      cfg,
      '--quiet',
    ]),
    0,
  );
  const specEnd = events(spec).find((e): e is EpochEndEvent => e.type === 'epoch-end')!;
  assert.equal(specEnd.validation!.mode, 'text');

  const bad = join(root, 'bad.json');
  writeFileSync(bad, JSON.stringify({ aimkp: { tauImage: 'high' } }));
  await assert.rejects(
    trainCommand(['--data', data, '--out', join(root, 'x'), '--config', bad]),
    (e: Error) => e.message.includes(bad) && e.message.includes('"aimkp.tauImage"'),
  );
  await assert.rejects(
    trainCommand(['--data', data, '--out', join(root, 'x'), '--preset', 'nope']),
    /unknown preset "nope"/,
  );
});

test("--init-from + LoRA: the base LM stays exactly the source run's best weights, LoRA and adapter train", async () => {
  const src = join(root, 'baseline');
  const lora = join(root, 'lora.json');
  writeFileSync(
    lora,
    JSON.stringify({ batchSize: 8, samplesPerCall: 8, model: { lora: { rank: 2, alpha: 4, dropout: 0 } } }),
  );
  const run = join(root, 'lora-aimkp');
  assert.equal(
    await trainCommand([
      '--data',
      data,
      '--preset',
      'aimkp',
      '--out',
      run,
      '--epochs',
      '2',
      '--init-from',
      src,
      '--config',
      lora,
      '--quiet',
    ]),
    0,
  );
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.deepEqual([config.lm.dModel, config.lm.lora.rank, config.encoder], [16, 2, 'patch:3:4']);
  assert.deepEqual(
    readFileSync(join(run, 'tokenizer.json'), 'utf8'),
    readFileSync(join(src, 'tokenizer.json'), 'utf8'),
  );
  const before = await readCheckpoint(join(src, 'best'), false);
  const after = await readCheckpoint(join(run, 'checkpoints', 'last'), false);
  const same = (name: string) =>
    Buffer.from(before.weights[name].dataSync().buffer).equals(Buffer.from(after.weights[name].dataSync().buffer));
  assert.ok(same('lm.blocks.0.attn.q.w') && same('lm.tok_emb') && same('lm.head.w'), 'frozen base weights unchanged');
  assert.ok(!same('adapter.fc1.w'), 'adapter trained');
  assert.ok(after.weights['lm.blocks.0.attn.q.lora_b'].abs().max().dataSync()[0] > 0, 'LoRA B left its zero init');
});
