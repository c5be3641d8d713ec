// Decoding a split with a trained model: batches, repeats with their own seeds, progress, and a stop
// checked between batches (generate() is synchronous, so each boundary hands the event loop a turn).
import type { EncodedExample, EvalMode, KeyphraseLM } from '../lm/contract';
import type { Tokenizer } from '../text/tokenizer-types';
import { checkpointAbort } from '../abort';
import { decodeOptionsFor, type DecodeSettings } from './decode-settings';
import type { PredictionRecord } from './prediction-file';
import { decodeParallel } from '../parallel/parallel-decode';
import type { Replicas } from '../parallel/replicas';

/** Data-parallel workers holding the examples as set `set` (same order): batches decode over every rank. */
export interface DecodeWorkers {
  replicas: Replicas;
  set: string;
}

export interface PredictOptions {
  /** Examples per generate() call. */
  batchSize: number;
  /** Called after every batch with the decoded count (of examples × repeats) and the repeat (0-based). */
  onBatch?: (done: number, total: number, repeat: number) => void;
  /** Checked after every batch: the job throws a CoreError 'ABORTED' within one batch of the abort. */
  signal?: AbortSignal;
  /** The same batches decoded over the data-parallel ranks (identical predictions). */
  workers?: DecodeWorkers;
}

/**
 * Decodes every example `settings.repeats` times (repeat r uses seed settings.seed + r, the same for every
 * batch so that a repeat is one reproducible pass) and turns the ids into keyphrase lists.
 */
export async function predictExamples(
  model: KeyphraseLM,
  tokenizer: Tokenizer,
  examples: readonly EncodedExample[],
  gold: readonly string[][],
  mode: EvalMode,
  settings: DecodeSettings,
  o: PredictOptions,
): Promise<PredictionRecord[]> {
  const records: PredictionRecord[] = examples.map((e, i) => ({ id: e.id, gold: [...gold[i]], predictions: [] }));
  const total = examples.length * settings.repeats;
  let done = 0;
  for (let r = 0; r < settings.repeats; r++) {
    const options = decodeOptionsFor(settings, r);
    if (o.workers) {
      const before = done;
      const ids = await decodeParallel(o.workers.replicas, {
        model,
        set: o.workers.set,
        examples,
        batchSize: o.batchSize,
        mode,
        options,
        signal: o.signal,
        what: 'prediction',
        onBatch: (d) => o.onBatch?.(before + d, total, r),
      });
      ids.forEach((seq, k) => records[k].predictions.push(tokenizer.decodeKeyphrases(seq)));
      done += examples.length;
      continue;
    }
    for (let start = 0; start < examples.length; start += o.batchSize) {
      await checkpointAbort(o.signal, 'prediction');
      const batch = examples.slice(start, start + o.batchSize).map((e) => ({ ...e, answer: new Int32Array(0) }));
      const ids = model.generate(batch, mode, options);
      ids.forEach((seq, k) => records[start + k].predictions.push(tokenizer.decodeKeyphrases(seq)));
      done += batch.length;
      o.onBatch?.(done, total, r);
    }
  }
  return records;
}

/**
 * Plain decoding without repeats (validation, robustness conditions): keyphrase lists in example order. With
 * `replicas`, the examples go to the workers as a temporary set (features already shared are not copied again).
 */
export async function decodeKeyphraseLists(
  model: KeyphraseLM,
  tokenizer: Tokenizer,
  examples: readonly EncodedExample[],
  mode: EvalMode,
  settings: DecodeSettings,
  batchSize: number,
  signal?: AbortSignal,
  replicas?: Replicas | null,
): Promise<string[][]> {
  const out: string[][] = [];
  const options = decodeOptionsFor(settings, 0);
  if (replicas) {
    const set = 'decode';
    await replicas.shareExamples(set, [...examples], false);
    try {
      const ids = await decodeParallel(replicas, {
        model,
        set,
        examples,
        batchSize,
        mode,
        options,
        signal,
        what: 'decoding',
      });
      return ids.map((seq) => tokenizer.decodeKeyphrases(seq));
    } finally {
      // Queued behind any batch still decoding; nothing waits for it.
      replicas.dropExamples(set).catch(() => undefined);
    }
  }
  for (let start = 0; start < examples.length; start += batchSize) {
    await checkpointAbort(signal, 'decoding');
    const batch = examples.slice(start, start + batchSize).map((e) => ({ ...e, answer: new Int32Array(0) }));
    for (const seq of model.generate(batch, mode, options)) out.push(tokenizer.decodeKeyphrases(seq));
  }
  return out;
}
