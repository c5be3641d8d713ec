// Decoding a split with a trained model: batches, repeats with their own seeds, progress.
import type { EncodedExample, EvalMode, KeyphraseLM } from '../lm/contract';
import type { Tokenizer } from '../text/tokenizer-types';
import { decodeOptionsFor, type DecodeSettings } from './decode-settings';
import type { PredictionRecord } from './prediction-file';
import { Progress } from './progress';

export interface PredictOptions {
  /** Examples per generate() call. */
  batchSize: number;
  /** Progress label; null = silent. */
  label: string | null;
}

/**
 * Decodes every example `settings.repeats` times (repeat r uses seed settings.seed + r, the same for every
 * batch so that a repeat is one reproducible pass) and turns the ids into keyphrase lists.
 */
export function predictExamples(model: KeyphraseLM, tokenizer: Tokenizer, examples: readonly EncodedExample[], gold: readonly string[][], mode: EvalMode, settings: DecodeSettings, o: PredictOptions): PredictionRecord[] {
  const records: PredictionRecord[] = examples.map((e, i) => ({ id: e.id, gold: [...gold[i]], predictions: [] }));
  const total = examples.length * settings.repeats;
  const progress = o.label === null ? null : new Progress(o.label, total);
  let done = 0;
  for (let r = 0; r < settings.repeats; r++) {
    const options = decodeOptionsFor(settings, r);
    for (let start = 0; start < examples.length; start += o.batchSize) {
      const batch = examples.slice(start, start + o.batchSize).map((e) => ({ ...e, answer: new Int32Array(0) }));
      const ids = model.generate(batch, mode, options);
      ids.forEach((seq, k) => records[start + k].predictions.push(tokenizer.decodeKeyphrases(seq)));
      done += batch.length;
      progress?.update(done, settings.repeats > 1 ? `(repeat ${r + 1}/${settings.repeats})` : '');
    }
  }
  return records;
}

/** Plain decoding without repeats (robustness conditions): keyphrase lists in example order. */
export function decodeKeyphraseLists(model: KeyphraseLM, tokenizer: Tokenizer, examples: readonly EncodedExample[], mode: EvalMode, settings: DecodeSettings, batchSize: number): string[][] {
  const out: string[][] = [];
  const options = decodeOptionsFor(settings, 0);
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize).map((e) => ({ ...e, answer: new Int32Array(0) }));
    for (const seq of model.generate(batch, mode, options)) out.push(tokenizer.decodeKeyphrases(seq));
  }
  return out;
}
