// Shared tiny-model fixtures for the lm-*.test.ts files (cpu backend: exact, small, fast).
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
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

/** An AimKP step's rows for each of its samples: the original, text-masked and image-masked, at stride 2 then 4. */
export function maskedVariants(): RowVariant[] {
  return [
    variant(),
    variant({ textStride: 2 }),
    variant({ imageStride: 2 }),
    variant(),
    variant({ textStride: 4 }),
    variant({ imageStride: 4 }),
  ];
}

/**
 * Two samples' rows as an AimKP step makes them (maskedVariants: 14- and 9-token texts, 3- and 1-token answers) with
 * mixed-sign weights: the call the native-kernel tests run through weightedGradients and perRowGradients.
 */
export function maskedBatch(config: LmConfig): {
  examples: EncodedExample[];
  variants: RowVariant[];
  weights: number[];
} {
  const a = makeExample(0, config, 14, [7, 8, 9]);
  const b = makeExample(1, config, 9, [10]);
  return { examples: [a, a, a, b, b, b], variants: maskedVariants(), weights: [1, 0.5, 0.25, -1, 2, 0.5] };
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

/**
 * Incremental decoding with its key/value cache equals a full recompute of each hypothesis: different prompt
 * lengths, hypotheses reordered and duplicated (the cache's rows copied), then kept in place (the cache used as it
 * is), LoRA on. On whatever backend is current.
 */
export function assertKvCacheMatchesRecompute(): void {
  const config = tinyConfig({ lora: { rank: 2, alpha: 4, dropout: 0.1 } });
  const model = createKeyphraseLM(config, TEMPLATE, 51);
  randomizeVariables(model.namedVariables().values(), 52, 0.5);
  const examples = [makeExample(0, config, 5, []), makeExample(1, config, 2, [], false), makeExample(2, config, 8, [])];
  const V = config.vocabSize;
  const session = model.decodeSession(examples, 'multimodal', 4);
  const close = (a: Float32Array, b: Float32Array) => a.every((x, i) => Math.abs(x - b[i]) < 1e-4);
  const recompute = (owners: number[], prefixes: number[][], left: number) =>
    model.nextLogProbs(
      owners.map((i) => examples[i]),
      'multimodal',
      prefixes,
      owners.map(() => left),
    );
  assert.ok(close(session.first(), recompute([0, 1, 2], [[], [], []], 4)), 'the prompt');
  // Hypotheses: example 2 twice, example 0 once (reordered), then reorder again, then keep the order.
  let lp = session.next([2, 2, 0], [9, 10, 11]);
  assert.ok(close(lp, recompute([2, 2, 0], [[9], [10], [11]], 3)), 'reordered');
  lp = session.next([2, 0, 1, 1], [12, 13, 14, 15]);
  const prefixes = [
    [11, 12],
    [9, 13],
    [10, 14],
    [10, 15],
  ];
  assert.ok(close(lp, recompute([0, 2, 2, 2], prefixes, 2)), 'reordered and duplicated');
  assert.equal(lp.length, 4 * V);
  lp = session.next([0, 1, 2, 3], [16, 17, 18, 19]);
  assert.ok(
    close(
      lp,
      recompute(
        [0, 2, 2, 2],
        prefixes.map((p, h) => [...p, 16 + h]),
        1,
      ),
    ),
    'kept in place',
  );
  session.dispose();
  model.dispose();
}
