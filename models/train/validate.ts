// Per-epoch validation: greedy decoding of the valid split, scored in the AimKP convention; the
// best-checkpoint criterion is F1@1 + F1@3 + MAP@5. Stops within one batch of an abort.
import type { EncodedExample, KeyphraseLM } from '../lm/contract';
import { scoreAimkp } from '../metrics/index';
import type { Tokenizer } from '../text/tokenizer-types';
import { checkpointAbort } from '../abort';
import type { ValidationScores } from '../../shared/training-events';
import type { TrainConfig } from '../run/train-config';
import { decodeParallel } from '../parallel/parallel-decode';
import type { Replicas } from '../parallel/replicas';

export interface ValidateOptions {
  signal?: AbortSignal;
  /** After every batch: items decoded so far, of the total. */
  onBatch?: (done: number, total: number) => void;
  /** Data-parallel workers holding `valid` as example set `set`: the same batches, decoded over every rank. */
  replicas?: { replicas: Replicas; set: string };
}

const GREEDY = (maxNewTokens: number) => ({
  strategy: 'greedy' as const,
  beamSize: 1,
  temperature: 1,
  maxNewTokens,
  seed: 0,
});

export async function validate(
  model: KeyphraseLM,
  tokenizer: Tokenizer,
  valid: EncodedExample[],
  gold: string[][],
  config: TrainConfig,
  o: ValidateOptions = {},
): Promise<ValidationScores | null> {
  if (valid.length === 0) return null;
  const preds: string[][] = [];
  if (o.replicas) {
    const ids = await decodeParallel(o.replicas.replicas, {
      model,
      set: o.replicas.set,
      examples: valid,
      batchSize: config.validBatch,
      mode: config.mode,
      options: GREEDY(config.maxAnswerTokens),
      signal: o.signal,
      what: 'validation',
      onBatch: o.onBatch,
    });
    for (const row of ids) preds.push(tokenizer.decodeKeyphrases(row));
  } else {
    for (let i = 0; i < valid.length; i += config.validBatch) {
      await checkpointAbort(o.signal, 'validation');
      const part = valid.slice(i, i + config.validBatch).map((e) => ({ ...e, answer: new Int32Array(0) }));
      const ids = model.generate(part, config.mode, GREEDY(config.maxAnswerTokens));
      for (const row of ids) preds.push(tokenizer.decodeKeyphrases(row));
      o.onBatch?.(preds.length, valid.length);
    }
  }
  const s = scoreAimkp(gold, preds);
  const v = { 'f1@1': s.f1[1], 'f1@3': s.f1[3], 'f1@5': s.f1[5], 'map@5': s.map[5] };
  return {
    split: 'valid',
    mode: config.mode,
    n: s.n,
    ...v,
    score: v['f1@1'] + v['f1@3'] + v['map@5'],
    decode: 'greedy',
  };
}
