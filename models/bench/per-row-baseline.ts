// The baseline objective (token-weighted mean of row losses, one row per sample) computed through
// perRowGradients().combine instead of weightedGradients: the same gradient through AimKP's per-row machinery.
// No pairs are asked for (each row is its own group: only the Gram diagonal, as AimKP computes for its rows), so
// this is the like-for-like reference for what the machinery costs on top of a plain backward.
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, KeyphraseLM, RowVariant } from '../lm/contract';
import { accumulateGrads } from '../lm/ops';
import type { StepGradient } from '../train/train-step';

export function perRowStandardStep(model: KeyphraseLM, batch: EncodedExample[], samplesPerCall: number): StepGradient {
  const total = batch.reduce((s, e) => s + e.answer.length, 0);
  let grads: tf.Tensor[] | null = null;
  let loss = 0;
  for (let i = 0; i < batch.length; i += samplesPerCall) {
    const part = batch.slice(i, i + samplesPerCall);
    const variants: RowVariant[] = part.map(() => ({
      mode: 'multimodal',
      textStride: 1,
      imageStride: 1,
      kind: 'structured',
      seed: 0,
    }));
    const prg = model.perRowGradients(part, variants, true, []);
    try {
      const weights = part.map((e) => e.answer.length / total);
      part.forEach((_, k) => (loss += weights[k] * prg.losses[k]));
      grads = accumulateGrads(grads, prg.combine(weights));
    } finally {
      prg.dispose();
    }
  }
  return {
    grads: grads ?? [],
    loss,
    variantLoss: { original: loss, text: null, image: null },
    samples: [],
    accepted: { text: 0, image: 0 },
    checked: { text: 0, image: 0 },
    rows: batch.length,
  };
}
