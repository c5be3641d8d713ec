// The paper-setting redo's large base (`aimkp pretrain --size large`: d 256, 4 layers, dFF 1024, 16k vocabulary, the
// 16×16 grid of mobilenet-v2-s16) with random inputs from a fixed seed, for the benchmarks that time or measure it
// (bench-paper-step, bench-memory): cost and memory depend on shapes, not on values, so no data set or pretrained
// run is needed.
import type { EncodedExample, LmConfig, PromptTemplate } from '../../models/lm/contract';
import { PRETRAIN_SIZES } from '../../models/train/pretrain';

const large = PRETRAIN_SIZES.large;
export const GRID = 16;
export const FEATURES = 136; // mobilenet-v2-s16's channels
export const CHUNK = 341; // pretraining chunk tokens (+ <bos> = maxPositions 342, as runs/clipart-redo's base)

/** A change to the large base's shape, one field at a time. */
export type Shape = Partial<Pick<LmConfig, 'dModel' | 'dFF' | 'nHeads' | 'nLayers'>>;

/** The large base's config with `lora`, `shape` overriding its dimensions. */
export function largeBaseConfig(lora: LmConfig['lora'], shape: Shape = {}): LmConfig {
  return {
    vocabSize: large.maxVocab,
    ...large.model,
    ...shape,
    lora,
    maxPositions: CHUNK + 1,
    imageFeatureDim: FEATURES,
    imageGrid: GRID,
  };
}

export interface RandomInputs {
  /** Token ids 5..vocab−1. */
  tokens(n: number): Int32Array;
  /** The fine-tuning prompt: a 2-token prefix and a 12-token instruction, as the aligned base's template. */
  template: PromptTemplate;
  /** A sample with GRID×GRID×FEATURES image features, a `text`-token text and an `answer`-token answer. */
  example(index: number, text: number, answer: number): EncodedExample;
}

/** Inputs drawn in call order from one LCG stream (seed 7 by default), the template first. */
export function randomInputs(seed = 7): RandomInputs {
  let s = seed;
  const uniform = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const tokens = (n: number) => Int32Array.from({ length: n }, () => 5 + Math.floor(uniform() * (large.maxVocab - 5)));
  const template: PromptTemplate = { prefix: tokens(2), instruction: tokens(12), eos: 3, pad: 0 };
  return {
    tokens,
    template,
    example: (index, text, answer) => ({
      index,
      id: `s${index}`,
      image: Float32Array.from({ length: GRID * GRID * FEATURES }, uniform),
      text: tokens(text),
      answer: tokens(answer),
    }),
  };
}
