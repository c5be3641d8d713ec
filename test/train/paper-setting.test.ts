// The paper setting's stages on real tiny trainings: pretraining (text only, resumable exactly), alignment (adapter
// alone, LM frozen), then the paper presets on that base (LoRA + adapter trainable, embeddings / head frozen).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import type { ManifestItem } from '../../models/data/manifest-types';
import { align, alignDefaults, alignItems } from '../../models/train/align';
import { readCheckpoint } from '../../models/run/checkpoint-io';
import { resolveConfig } from '../../models/train/config-resolve';
import { getPreset, presetSetting, PRESET_NAMES } from '../../models/train/presets';
import { docIds, pretrain, pretrainDefaults } from '../../models/train/pretrain';
import { tokenizerFromJson } from '../../models/text/tokenizer';
import { buildCorpus, parseWordnetDataLine, type CorpusDoc } from '../../models/train/pretrain-corpus';
import { train } from '../../models/train/trainer';
import type { RunStartEvent, TrainingEvent } from '../../shared/training-events';

const root = mkdtempSync(join(tmpdir(), 'aimkp-paper-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SMALL = { dModel: 8, nLayers: 1, nHeads: 2, dFF: 16, adapterHidden: 8, dropout: 0, lora: null, freezeLm: false };

const corpus: CorpusDoc[] = [
  ...Array.from({ length: 30 }, (_, i): CorpusDoc => ({
    source: 'wordnet',
    text: `cat ${i % 5}: a small domesticated carnivorous mammal with soft fur number ${i}`,
  })),
  { source: 'train-tags', tags: ['red', 'blue circle'] },
];

async function weights(dir: string): Promise<Map<string, Float32Array>> {
  const ck = await readCheckpoint(dir, false);
  const out = new Map(Object.entries(ck.weights).map(([k, t]) => [k, t.dataSync() as Float32Array]));
  tf.dispose(ck.weights);
  return out;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

test('WordNet lines parse; the corpus takes train items only and synsets naming train words', () => {
  const line =
    '00406612 04 n 02 fold 0 folding 0 005 @ 00404403 n 0000 | the act of folding; "he gave the napkins a double fold"  ';
  assert.deepEqual(parseWordnetDataLine(line, 'x'), {
    lemmas: ['fold', 'folding'],
    gloss: 'the act of folding; "he gave the napkins a double fold"',
  });
  assert.equal(parseWordnetDataLine('  1 This software and database is being provided', 'x'), null);
  const item = (id: string, split: ManifestItem['split'], text: string, kps: string[]): ManifestItem => ({
    id,
    split,
    text,
    image: null,
    keyphrases: kps,
  });
  const synsets = [
    { lemmas: ['fold'], gloss: 'the act of folding' },
    { lemmas: ['zebra'], gloss: 'an african equid' },
    { lemmas: ['double fold'], gloss: 'two folds' },
  ];
  const docs = buildCorpus([item('a', 'train', 'a double fold', ['paper'])], synsets, { maxWordnetDocs: null });
  assert.deepEqual(docs, [
    { source: 'wordnet', text: 'fold: the act of folding' },
    { source: 'wordnet', text: 'double fold: two folds' },
    { source: 'train-text', text: 'a double fold' },
    { source: 'train-tags', tags: ['paper'] },
  ]);
  assert.throws(
    () => buildCorpus([item('t', 'test', 'x', ['y'])], synsets, { maxWordnetDocs: null }),
    /test split; only train items/,
  );
  assert.throws(() => alignItems([item('v', 'valid', 'x', ['y'])]), /valid split/);
});

test('presets: paper setting = LoRA + adapter at a 10:1 LR ratio; from-scratch presets keep their ids and answer to scratch-<name>', () => {
  for (const name of ['paper-baseline', 'paper-aimkp']) {
    const p = getPreset(name)!;
    assert.ok(p.model.lora !== null && p.model.lora.rank > 0, name);
    assert.equal(p.lr / p.adapterLr, 10);
    assert.equal(presetSetting(name), 'paper');
  }
  assert.equal(getPreset('paper-baseline')!.epochs, 6);
  assert.equal(getPreset('paper-aimkp')!.epochs, 4);
  assert.equal(resolveConfig({ preset: 'scratch-aimkp' }).preset, 'aimkp');
  assert.equal(presetSetting('scratch-baseline'), 'from-scratch');
  assert.ok(PRESET_NAMES.includes('baseline') && !PRESET_NAMES.includes('scratch-baseline'));
  assert.match(getPreset('aimkp')!.description, /^\[from scratch\]/);
});

test('a paper-setting run without a base is refused with what to do, before anything is written', async () => {
  const data = join(root, 'nobase-data');
  await buildSynthDataset({ n: 20, seed: 2, out: data });
  const out = join(root, 'nobase-run');
  await assert.rejects(
    train({ runDir: out, dataDir: data, config: resolveConfig({ preset: 'paper-aimkp' }) }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_INPUT');
      assert.match(
        e.message,
        /preset paper-aimkp fine-tunes a pretrained base: pass --init-from BASE .*from-scratch preset aimkp/,
      );
      return true;
    },
  );
  assert.throws(() => readFileSync(join(out, 'config.json')), /ENOENT/);
});

test('pretrain → align → paper-aimkp: exact resume, frozen weights stay put, only LoRA + adapter train', async () => {
  const data = join(root, 'data');
  await buildSynthDataset({ n: 24, seed: 4, out: data });
  const config = {
    ...pretrainDefaults(),
    epochs: 2,
    batchSize: 4,
    samplesPerCall: 4,
    model: { ...SMALL },
    encoder: 'patch:3:2',
    maxTextTokens: 12,
    maxAnswerTokens: 8,
  };
  const settings = { heldOutChunks: 2 };

  // Uninterrupted vs stopped after 3 steps and resumed: same losses, same weights.
  const full = await pretrain({
    runDir: join(root, 'pt-full'),
    dataDir: data,
    config,
    settings,
    corpusOverride: corpus,
  });
  const part = await pretrain({
    runDir: join(root, 'pt'),
    dataDir: data,
    config,
    settings,
    corpusOverride: corpus,
    maxSteps: 3,
  });
  assert.equal(part.status, 'stopped');
  const rest = await pretrain({ runDir: join(root, 'pt'), resume: true });
  assert.equal(rest.status, 'completed');
  assert.equal(full.globalStep, rest.globalStep);
  for (const [step, loss] of rest.losses) assert.ok(Math.abs(loss - full.losses.get(step)!) < 1e-6, `step ${step}`);
  assert.ok(full.losses.get(full.globalStep)! < full.losses.get(1)!, 'pretraining lowers the loss');
  const ptW = await weights(join(root, 'pt', 'best'));
  const fullW = await weights(join(root, 'pt-full', 'best'));
  for (const [k, v] of fullW) assert.ok(same(v, ptW.get(k)!), k);
  const ptConfig = JSON.parse(readFileSync(join(root, 'pt', 'config.json'), 'utf8')) as {
    pretrain: { docs: number };
    lm: { maxPositions: number };
  };
  assert.equal(ptConfig.pretrain.docs, corpus.length);
  // Out-of-vocabulary words are dropped from the chunks, never trained on as <unk>.
  const tok = tokenizerFromJson(JSON.parse(readFileSync(join(root, 'pt', 'tokenizer.json'), 'utf8')));
  const ids = docIds(tok, { source: 'wordnet', text: 'cat zzzunseenword mammal' });
  assert.ok(!Array.from(ids).includes(tok.specials.unk));
  assert.equal(ids.length, tok.encode('cat mammal').length + 1);

  // Alignment: the adapter alone trains; every LM weight is the pretrained one.
  const events: TrainingEvent[] = [];
  const al = await align({
    runDir: join(root, 'al'),
    base: join(root, 'pt'),
    dataDir: data,
    config: { ...alignDefaults(join(root, 'pt')), epochs: 1, batchSize: 4, samplesPerCall: 4 },
    onEvent: (e) => events.push(e),
  });
  assert.equal(al.status, 'completed');
  const start = events.find((e): e is RunStartEvent => e.type === 'run-start')!;
  assert.equal(start.parameters.lm, 0);
  assert.ok(start.parameters.adapter > 0);
  const alW = await weights(join(root, 'al', 'best'));
  for (const [k, v] of alW) {
    if (k.startsWith('adapter.')) assert.ok(!same(v, ptW.get(k)!), `${k} trained`);
    else assert.ok(same(v, ptW.get(k)!), `${k} frozen`);
  }

  // The paper's AimKP on that base: LoRA + adapter train; embeddings, head, blocks' base weights frozen.
  const c = resolveConfig({ preset: 'paper-aimkp', flags: { epochs: 2, initFrom: join(root, 'al') } });
  c.batchSize = 4;
  c.maxValid = 2;
  const ftEvents: TrainingEvent[] = [];
  const ft = await train({ runDir: join(root, 'ft'), dataDir: data, config: c, onEvent: (e) => ftEvents.push(e) });
  assert.equal(ft.status, 'completed');
  const ftW = await weights(join(root, 'ft', 'best'));
  for (const [k, v] of ftW) {
    if (/\.lora_[ab]$/.test(k)) continue;
    if (k.startsWith('adapter.')) continue;
    assert.ok(same(v, alW.get(k)!), `${k} frozen in the paper setting`);
  }
  assert.ok(
    [...ftW.keys()].some((k) => k.endsWith('lora_b') && ftW.get(k)!.some((x) => x !== 0)),
    'LoRA B moved from 0',
  );
  const steps = ftEvents.filter((e) => e.type === 'step');
  assert.ok(
    steps.some((e) => e.type === 'step' && e.checked.text + e.checked.image > 0),
    'the filter ran in epoch 2',
  );
});

test('aimkp pretrain / align: a bad --config names the file; a missing base is a clear error', async () => {
  const { pretrainCommand } = await import('../../models/cli/commands/pretrain');
  const { alignCommand } = await import('../../models/cli/commands/align');
  const bad = join(root, 'bad.json');
  writeFileSync(bad, '{"maxVocab": 12,');
  await assert.rejects(
    pretrainCommand(['--data', join(root, 'nowhere'), '--out', join(root, 'x'), '--config', bad, '--quiet']),
    (e: Error) => e.message.includes(bad) && /invalid JSON/.test(e.message),
  );
  writeFileSync(bad, '{"maxVocabulary": 12}');
  await assert.rejects(
    pretrainCommand(['--data', join(root, 'nowhere'), '--out', join(root, 'x'), '--config', bad, '--quiet']),
    /field "maxVocabulary": unknown field/,
  );
  await assert.rejects(alignCommand(['--data', join(root, 'nowhere'), '--out', join(root, 'y'), '--quiet']), /--base/);
});
