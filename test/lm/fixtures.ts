// Shared tiny-model fixtures for the lm-*.test.ts files (cpu backend: exact, small, fast).
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from '../../models/lm/contract';
import { defaultLmConfig } from '../../models/lm/config';
import { seededRandom } from '../../models/lm/masking';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function tinyConfig(partial: Partial<LmConfig> = {}): LmConfig {
  return defaultLmConfig({
    vocabSize: 24,
    dModel: 8,
    nLayers: 2,
    nHeads: 2,
    dFF: 16,
    maxPositions: 48,
    imageFeatureDim: 3,
    imageGrid: 3,
    adapterHidden: 6,
    dropout: 0,
    ...partial,
  });
}

export const TEMPLATE: PromptTemplate = {
  prefix: Int32Array.from([1, 2]),
  instruction: Int32Array.from([3, 4]),
  eos: 5,
  pad: 0,
};

export function makeExample(
  index: number,
  config: LmConfig,
  textLen: number,
  answer: number[],
  withImage = true,
): EncodedExample {
  const rand = seededRandom(1000 + index);
  const G = config.imageGrid;
  const image = withImage ? Float32Array.from({ length: G * G * config.imageFeatureDim }, () => rand() * 2 - 1) : null;
  const text = Int32Array.from({ length: textLen }, () => 6 + Math.floor(rand() * (config.vocabSize - 6)));
  return { index, id: `ex${index}`, image, text, answer: Int32Array.from([...answer, TEMPLATE.eos]) };
}

export function variant(partial: Partial<RowVariant> = {}): RowVariant {
  return { mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 7, ...partial };
}

/** Sets every variable to seeded random values (so LoRA B and LayerNorm params are non-trivial). */
export function randomizeVariables(vars: Iterable<tf.Variable>, seed: number, scale = 0.5): void {
  let k = 0;
  for (const v of vars) {
    const t = tf.randomNormal(v.shape, 0, scale, 'float32', seed * 131 + ++k);
    v.assign(t);
    t.dispose();
  }
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}
