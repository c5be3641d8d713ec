// Can the tests catch a wrong cosine in the AimKP step? The step's cosines, accept/reject decisions, stride moves
// and gradient are checked against brute force: one tf.variableGrads per row (model.weightedGradients on a single
// row), flattened, paired by hand. Thresholds sit halfway between real computed cosines, so any cosine error larger
// than the gap flips a decision. A model wrapper that breaks the pairing of original and masked rows (it permutes
// the Gram matrix the step reads) must make the same check fail — shown below for both settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type {
  EncodedExample,
  KeyphraseLM,
  LmConfig,
  PerRowGradients,
  PromptTemplate,
  RowVariant,
} from '../../models/lm/contract';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { initBackend } from '../../models/tf/backend';
import { aimkpStep, type StepGradient } from '../../models/train/train-step';
import { StrideState } from '../../models/train/stride-state';
import type { AimkpSettings } from '../../models/run/train-config';

const G = 3;
const C = 4;
const template: PromptTemplate = { prefix: Int32Array.from([5]), instruction: Int32Array.from([6, 7]), eos: 3, pad: 0 };
const SCRATCH: LmConfig = {
  vocabSize: 24,
  dModel: 8,
  nLayers: 1,
  nHeads: 2,
  dFF: 16,
  maxPositions: 40,
  imageFeatureDim: C,
  imageGrid: G,
  adapterHidden: 8,
  dropout: 0,
  lora: null,
};
const PAPER: LmConfig = { ...SCRATCH, lora: { rank: 2, alpha: 4, dropout: 0 } };

function examples(n: number): EncodedExample[] {
  return Array.from({ length: n }, (_, s) => ({
    index: s,
    id: `s${s}`,
    image: Float32Array.from({ length: G * G * C }, (_, i) => Math.sin(s * 13.1 + i * 0.7) + 0.3 * Math.cos(i * s)),
    text: Int32Array.from({ length: 4 + (s % 4) }, (_, i) => 8 + ((s * 5 + i * 3) % 16)),
    answer: Int32Array.from([8 + ((s * 7) % 16), 4, 8 + ((s * 11 + 3) % 16), 3]),
  }));
}

const plain = (textStride: number, imageStride: number): RowVariant => ({
  mode: 'multimodal',
  textStride,
  imageStride,
  kind: 'structured',
  seed: 0,
});

function flatGrad(model: KeyphraseLM, e: EncodedExample, v: RowVariant): { g: Float64Array; n: number } {
  const { result, grads } = model.weightedGradients([e], [v], [1], true);
  const parts = grads.map((t) => t.dataSync());
  tf.dispose(grads);
  const g = new Float64Array(parts.reduce((k, p) => k + p.length, 0));
  let o = 0;
  for (const p of parts) {
    g.set(p, o);
    o += p.length;
  }
  return { g, n: result.answerTokens[0] };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const cosine = (a: Float64Array, b: Float64Array) => dot(a, b) / Math.max(Math.sqrt(dot(a, a) * dot(b, b)), 1e-8);

interface BruteForce {
  orig: Float64Array[];
  text: Float64Array[];
  image: Float64Array[];
  n: number[];
  cosText: number[];
  cosImage: number[];
}

/** Per-row gradients by brute force (stride 2 on both modalities), and each sample's two cosines. */
function bruteForce(model: KeyphraseLM, ex: EncodedExample[]): BruteForce {
  const orig = ex.map((e) => flatGrad(model, e, plain(1, 1)));
  const text = ex.map((e) => flatGrad(model, e, plain(2, 1)).g);
  const image = ex.map((e) => flatGrad(model, e, plain(1, 2)).g);
  return {
    orig: orig.map((o) => o.g),
    text,
    image,
    n: orig.map((o) => o.n),
    cosText: ex.map((_, i) => cosine(orig[i].g, text[i])),
    cosImage: ex.map((_, i) => cosine(orig[i].g, image[i])),
  };
}

/** A threshold halfway between two neighbouring real cosines (the middle pair): some rows pass, some fail. */
function tauBetween(cos: number[]): number {
  const s = [...cos].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  assert.ok(s[k] - s[k - 1] > 1e-4, `cosines ${s[k - 1]} and ${s[k]} too close to place a threshold between them`);
  return (s[k - 1] + s[k]) / 2;
}

/** Every disagreement between a step and brute force (empty = the step is right). */
function mismatches(
  step: StepGradient,
  grads: Float64Array,
  bf: BruteForce,
  tauText: number,
  tauImage: number,
): string[] {
  const out: string[] = [];
  const N = bf.n.reduce((a, b) => a + b, 0);
  const expected = new Float64Array(grads.length);
  step.samples.forEach((s, i) => {
    const keepText = bf.cosText[i] >= tauText;
    const keepImage = bf.cosImage[i] >= tauImage;
    if (s.acceptText !== keepText)
      out.push(
        `sample ${i}: text ${s.acceptText ? 'accepted' : 'rejected'}, brute force cos ${bf.cosText[i].toFixed(5)} vs tau ${tauText.toFixed(5)}`,
      );
    if (s.acceptImage !== keepImage)
      out.push(
        `sample ${i}: image ${s.acceptImage ? 'accepted' : 'rejected'}, brute force cos ${bf.cosImage[i].toFixed(5)} vs tau ${tauImage.toFixed(5)}`,
      );
    if (Math.abs((s.cosText ?? NaN) - bf.cosText[i]) > 1e-4)
      out.push(`sample ${i}: cosText ${s.cosText} vs ${bf.cosText[i]}`);
    if (Math.abs((s.cosImage ?? NaN) - bf.cosImage[i]) > 1e-4)
      out.push(`sample ${i}: cosImage ${s.cosImage} vs ${bf.cosImage[i]}`);
    const kept = 1 + Number(keepText) + Number(keepImage);
    const w = bf.n[i] / kept / N;
    for (let k = 0; k < expected.length; k++)
      expected[k] += w * (bf.orig[i][k] + (keepText ? bf.text[i][k] : 0) + (keepImage ? bf.image[i][k] : 0));
  });
  let num = 0;
  let den = 0;
  for (let k = 0; k < expected.length; k++) {
    num = Math.max(num, Math.abs(grads[k] - expected[k]));
    den = Math.max(den, Math.abs(expected[k]));
  }
  if (num / den > 1e-4)
    out.push(
      `step gradient differs from the brute-force weighted sum (max rel. error ${(num / den).toExponential(2)})`,
    );
  return out;
}

/**
 * A deliberately broken model: its perRowGradients pairs each sample's masked rows with the NEXT sample's original
 * (the Gram matrix the step reads is permuted over the original rows) — the kind of bug an off-by-one in the row
 * plan would cause. Everything else is the real model.
 */
function withBrokenPairing(model: KeyphraseLM): KeyphraseLM {
  return new Proxy(model, {
    get(target, prop, receiver) {
      if (prop !== 'perRowGradients') return Reflect.get(target, prop, receiver) as unknown;
      return (ex: EncodedExample[], vs: RowVariant[], training: boolean): PerRowGradients => {
        const prg = target.perRowGradients(ex, vs, training); // full Gram
        const R = ex.length;
        const origRows = vs.map((v, r) => (v.textStride === 1 && v.imageStride === 1 ? r : -1)).filter((r) => r >= 0);
        const perm = Array.from({ length: R }, (_, r) => r);
        origRows.forEach((r, k) => (perm[r] = origRows[(k + 1) % origRows.length]));
        const gram = new Float64Array(R * R);
        for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) gram[a * R + b] = prg.gram[perm[a] * R + perm[b]];
        return { ...prg, gram, combine: (w) => prg.combine(w), dispose: () => prg.dispose() };
      };
    },
  });
}

async function runCase(config: LmConfig, seed: number): Promise<void> {
  await initBackend();
  const model = createKeyphraseLM(config, template, seed);
  // Weights as after some training (a fresh LoRA B = 0 zeroes every LoRA A gradient; tiny fresh weights make every
  // cosine ≈ 1): seeded random values, so the cosines spread and thresholds can sit between them.
  let k = 0;
  for (const v of model.namedVariables().values())
    v.assign(tf.randomNormal(v.shape, 0, 0.4, 'float32', seed * 101 + ++k));
  if (config.lora !== null) {
    const names = [...model.namedVariables()].filter(([, v]) => model.trainableVariables().includes(v)).map(([n]) => n);
    assert.ok(
      names.every((n) => n.startsWith('adapter.') || /\.lora_[ab]$/.test(n)),
      `paper setting trains LoRA + adapter only: ${names.join(', ')}`,
    );
  }
  const ex = examples(6);
  const bf = bruteForce(model, ex);
  const settings: AimkpSettings = {
    maskText: true,
    maskImage: true,
    filter: true,
    tauText: tauBetween(bf.cosText),
    tauImage: tauBetween(bf.cosImage),
    stride: { rule: 'progressive', fixedStride: 2, warmup: true },
    maskKind: 'structured',
  };
  const atStride2 = () => {
    const s = new StrideState(ex.length, settings.stride);
    for (let i = 0; i < ex.length; i++) {
      s.update('text', i, true);
      s.update('image', i, true);
    }
    return s;
  };

  // The real step: no mismatch; thresholds split the samples, so both decisions occur in each modality.
  const strides = atStride2();
  const step = aimkpStep(model, ex, { settings, strides, seed: 1, epoch: 1, samplesPerCall: 4 });
  const grads = Float64Array.from(step.grads.flatMap((g) => Array.from(g.dataSync())));
  tf.dispose(step.grads);
  assert.deepEqual(mismatches(step, grads, bf, settings.tauText, settings.tauImage), []);
  assert.ok(
    step.accepted.text > 0 && step.accepted.text < ex.length,
    `text accepted ${step.accepted.text}/${ex.length}`,
  );
  assert.ok(
    step.accepted.image > 0 && step.accepted.image < ex.length,
    `image accepted ${step.accepted.image}/${ex.length}`,
  );
  // Strides follow the brute-force decisions: 2 → 4 when cos > tau, else 2 and frozen.
  assert.deepEqual(
    Array.from(strides.text),
    bf.cosText.map((c) => (c > settings.tauText ? 4 : 2)),
  );
  assert.deepEqual(
    Array.from(strides.image),
    bf.cosImage.map((c) => (c > settings.tauImage ? 4 : 2)),
  );

  // The broken pairing: the same check reports mismatches (decisions and cosines).
  const broken = aimkpStep(withBrokenPairing(model), ex, {
    settings,
    strides: atStride2(),
    seed: 1,
    epoch: 1,
    samplesPerCall: 4,
  });
  const brokenGrads = Float64Array.from(broken.grads.flatMap((g) => Array.from(g.dataSync())));
  tf.dispose(broken.grads);
  const found = mismatches(broken, brokenGrads, bf, settings.tauText, settings.tauImage);
  assert.ok(
    found.some((m) => /accepted|rejected/.test(m)),
    `a broken pairing must flip at least one decision; found: ${found.join('; ')}`,
  );
  assert.ok(found.some((m) => /step gradient differs/.test(m)));
  model.dispose();
}

test('AimKP step vs brute-force per-row gradients, from scratch (all weights): cosines, decisions, strides, gradient; a broken pairing is caught', async () => {
  await runCase(SCRATCH, 5);
});

test('AimKP step vs brute-force per-row gradients, paper setting (LoRA + adapter only): cosines, decisions, strides, gradient; a broken pairing is caught', async () => {
  await runCase(PAPER, 9);
});
