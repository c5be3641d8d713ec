// The training steps against the real LM: the AimKP step's gradient equals the hand-weighted sum of the
// per-row gradients, the warm-up step equals standard fine-tuning, and stride transitions follow decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from '../../models/lm/contract';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { initBackend } from '../../models/tf/backend';
import { aimkpStep, standardStep } from '../../models/train/train-step';
import { StrideState } from '../../models/train/stride-state';
import type { AimkpSettings } from '../../models/run/train-config';

const G = 2;
const C = 3;
const lm: LmConfig = {
  vocabSize: 20,
  dModel: 8,
  nLayers: 1,
  nHeads: 2,
  dFF: 16,
  maxPositions: 32,
  imageFeatureDim: C,
  imageGrid: G,
  adapterHidden: 8,
  dropout: 0,
  lora: null,
};
const template: PromptTemplate = { prefix: Int32Array.from([5]), instruction: Int32Array.from([6, 7]), eos: 3, pad: 0 };

function examples(): EncodedExample[] {
  const img = (s: number) => Float32Array.from({ length: G * G * C }, (_, i) => Math.sin(s * 7 + i));
  return [
    {
      index: 0,
      id: 'a',
      image: img(1),
      text: Int32Array.from([8, 9, 10, 11]),
      answer: Int32Array.from([12, 4, 13, 3]),
    },
    { index: 1, id: 'b', image: img(2), text: Int32Array.from([14, 15]), answer: Int32Array.from([16, 3]) },
    { index: 2, id: 'c', image: null, text: Int32Array.from([17, 18, 19]), answer: Int32Array.from([12, 16, 3]) },
  ];
}

const settings: AimkpSettings = {
  maskText: true,
  maskImage: true,
  filter: true,
  tauText: 0.1,
  tauImage: 0.4,
  stride: { rule: 'progressive', fixedStride: 2, warmup: true },
  maskKind: 'structured',
};

async function flat(grads: tf.Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(grads.map((g) => g.data()));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as Float32Array, o);
    o += p.length;
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('warm-up AimKP step == standard token-weighted step; strides all move 1 → 2 without a check', async () => {
  await initBackend();
  const model = createKeyphraseLM(lm, template, 7);
  const ex = examples();
  const strides = new StrideState(3, settings.stride);
  const a = aimkpStep(model, ex, { settings, strides, seed: 1, epoch: 0, samplesPerCall: 2 });
  const s = standardStep(model, ex, 'multimodal', 3);
  assert.equal(a.rows, 3);
  assert.ok(Math.abs(a.loss - s.loss) < 1e-6);
  assert.ok(maxDiff(await flat(a.grads), await flat(s.grads)) < 1e-6);
  // Token-weighted: loss = Σ n_i L_i / N with n = (4, 2, 3).
  const L = model.losses(
    ex,
    ex.map(() => ({ mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 })),
  );
  assert.ok(Math.abs(s.loss - (4 * L.losses[0] + 2 * L.losses[1] + 3 * L.losses[2]) / 9) < 1e-6);
  assert.deepEqual(Array.from(strides.text), [2, 2, 2]);
  // Sample c has no image: its image stride never moves.
  assert.deepEqual(Array.from(strides.image), [2, 2, 1]);
  tf.dispose([...a.grads, ...s.grads]);
  model.dispose();
});

test('AimKP step gradient == Σ hand weights · per-row gradients; decisions drive the strides', async () => {
  await initBackend();
  const model = createKeyphraseLM(lm, template, 11);
  const ex = examples();
  const strides = new StrideState(3, settings.stride);
  for (let i = 0; i < 3; i++) {
    strides.update('text', i, true);
    if (ex[i].image !== null) strides.update('image', i, true);
  }
  // Strides 2: rows a, a_text, a_image, b, b_text, b_image, c, c_text (c has no image).
  // tau_v = 1 rejects every image row; tau_t = -1 accepts every text row (cos > −1).
  const strict = { ...settings, tauText: -1, tauImage: 1 };
  const step = aimkpStep(model, ex, { settings: strict, strides, seed: 1, epoch: 1, samplesPerCall: 2 });
  assert.equal(step.rows, 8);
  assert.deepEqual(
    step.samples.map((s) => [s.acceptText, s.acceptImage]),
    [
      [true, false],
      [true, false],
      [true, null],
    ],
  );
  assert.deepEqual(step.checked, { text: 3, image: 2 });
  assert.deepEqual(step.accepted, { text: 3, image: 0 });

  // Expected: per sample, (original + text-masked) / 2 · n_i / N with N = 9, image rows weight 0.
  const rows: { e: EncodedExample; v: RowVariant; w: number }[] = [];
  const n = [4, 2, 3];
  ex.forEach((e, i) => {
    rows.push({
      e,
      v: { mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 },
      w: n[i] / 2 / 9,
    });
    rows.push({
      e,
      v: { mode: 'multimodal', textStride: 2, imageStride: 1, kind: 'structured', seed: 0 },
      w: n[i] / 2 / 9,
    });
  });
  const ref = model.weightedGradients(
    rows.map((r) => r.e),
    rows.map((r) => r.v),
    rows.map((r) => r.w),
    true,
  );
  const expectedLoss = rows.reduce((s, r, i) => s + r.w * ref.result.losses[i], 0);
  assert.ok(Math.abs(step.loss - expectedLoss) < 1e-5, `${step.loss} vs ${expectedLoss}`);
  assert.ok(maxDiff(await flat(step.grads), await flat(ref.grads)) < 1e-5);

  // Text accepted at 2 → 4; image rejected at 2 → max(1, 2) = 2 and frozen; c's image untouched.
  assert.deepEqual(Array.from(strides.text), [4, 4, 4]);
  assert.deepEqual(Array.from(strides.image), [2, 2, 1]);
  assert.deepEqual(Array.from(strides.frozenImage), [1, 1, 0]);
  assert.equal(step.variantLoss.image !== null && step.variantLoss.text !== null, true);
  tf.dispose([...step.grads, ...ref.grads]);
  model.dispose();
});

test('a step plus its AdamW update leaves no tensors behind', async () => {
  await initBackend();
  const { AdamW, ADAMW_DEFAULTS, paramSlots } = await import('../../models/train/adamw');
  const model = createKeyphraseLM(lm, template, 3);
  const opt = new AdamW(paramSlots(model.trainableVariables(), model.namedVariables(), /^adapter/), {
    ...ADAMW_DEFAULTS,
    lr: 1e-3,
    adapterLr: 1e-3,
  });
  const strides = new StrideState(3, settings.stride);
  const run = () => {
    const g = aimkpStep(model, examples(), { settings, strides, seed: 1, epoch: 0, samplesPerCall: 2 });
    opt.apply(g.grads, 1);
    tf.dispose(g.grads);
  };
  run(); // warm-up visit
  const before = tf.memory().numTensors;
  run(); // masked rows
  run();
  assert.equal(tf.memory().numTensors, before);
  opt.dispose();
  model.dispose();
});
