// What the trainer puts into a checkpoint beyond the weights, in the shapes the run-folder format stores without
// reading them (models/run/checkpoint-io.ts): state.json (TrainState: where training stands, the stride maps, the
// data-order RNG, the epoch's running sums) and the AdamW moments as named float32 arrays with a JSON header.
import { join } from 'node:path';
import { CoreError } from '../core-error';
import type { CheckpointState, LoadedCheckpoint, OptimizerBlob, StoredState } from '../run/checkpoint-io';
import type { RunConfig } from '../run/run-files';
import type { AdamWStateData } from './adamw';
import type { StrideStateJson } from './stride-state';

export interface EpochRecord {
  epoch: number;
  meanLoss: number;
  score: number | null;
}

/** Running sums of the epoch in progress (so a resumed epoch reports the same epoch-end numbers). */
export interface EpochStats {
  steps: number;
  lossSum: number;
  variantSum: { original: number; text: number; image: number };
  variantCount: { original: number; text: number; image: number };
  accepted: { text: number; image: number };
  checked: { text: number; image: number };
  trainMs: number;
}

export function emptyEpochStats(): EpochStats {
  return {
    steps: 0,
    lossSum: 0,
    variantSum: { original: 0, text: 0, image: 0 },
    variantCount: { original: 0, text: 0, image: 0 },
    accepted: { text: 0, image: 0 },
    checked: { text: 0, image: 0 },
    trainMs: 0,
  };
}

/** state.json: where training stands after the checkpointed step. */
export interface TrainState extends CheckpointState, StrideStateJson {
  version: 1;
  /** Steps of `epoch` already done. */
  stepInEpoch: number;
  /** This epoch's permutation of train indices ([] = not drawn yet: draw it from rngState). */
  dataOrder: number[];
  rngState: number[];
  history: EpochRecord[];
  epochStats: EpochStats;
  /** Data-parallel ranks the checkpointed steps ran on (absent in checkpoints written before: 1). */
  workers?: number;
}

/** The state before the first step: nothing trained, no best epoch; the data-order RNG's and the stride maps' start. */
export function freshTrainState(rngState: TrainState['rngState'], strides: StrideStateJson): TrainState {
  return {
    version: 1,
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    dataOrder: [],
    rngState,
    ...strides,
    bestScore: null,
    bestEpoch: null,
    history: [],
    epochStats: emptyEpochStats(),
  };
}

/**
 * A checkpoint's state.json as the trainer's TrainState. The run format checked the fields it reads (epoch,
 * globalStep); the rest is the trainer's own JSON, written by this code (and covered by the manifest's SHA-256).
 */
export function trainStateOf(ck: LoadedCheckpoint): TrainState {
  return ck.state as unknown as TrainState;
}

/** What a state.json must agree with: the run's sample counts, epochs and batch size, where known. */
export interface TrainStateExpectations {
  /** Entries of each stride map (the train items; 0 for pretrain, which has none); null = unknown. */
  strideSamples: number | null;
  /** Length of a drawn data order (train items, or pretrain chunks); null = unknown. */
  orderSize: number | null;
  epochs: number | null;
  batchSize: number | null;
}

/** The expectations config.json gives (doctor, evaluation); pretrain runs keep no stride maps. */
export function expectationsOf(config: RunConfig | null): TrainStateExpectations {
  if (config === null) return { strideSamples: null, orderSize: null, epochs: null, batchSize: null };
  const pretrain = (config as { pretrain?: unknown }).pretrain !== undefined;
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);
  return {
    strideSamples: pretrain ? 0 : count(config.trainItems),
    // Pretrain orders its training chunks, which config.json does not count exactly.
    orderSize: pretrain ? null : count(config.trainItems),
    epochs: count(config.epochs),
    batchSize: count(config.batchSize) || null,
  };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const shown = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
};

/**
 * Checks that a checkpoint's state.json means something a training could have written (the manifest only proves
 * the bytes are the ones written with it): counts are counts, the data order is a permutation of the train items,
 * the stride maps have one entry per train item, the RNG state is four uint32 words, the epoch's sums are finite.
 * Throws CoreError CHECKPOINT_CORRUPT naming the file and the field, e.g.
 * `checkpoints/last/state.json: field "globalStep": -7 is not a step count`.
 */
export function validateTrainState(state: StoredState, file: string, expect: TrainStateExpectations): void {
  const bad = (field: string, problem: string) =>
    new CoreError('CHECKPOINT_CORRUPT', `${file}: field "${field}": ${problem}`, { path: file, field });
  const s = state as Partial<Record<keyof TrainState, unknown>>;
  if (s.version !== 1) throw bad('version', `expected 1, got ${shown(s.version)}`);
  if (!isCount(s.globalStep)) throw bad('globalStep', `${shown(s.globalStep)} is not a step count`);
  if (!isCount(s.epoch)) throw bad('epoch', `${shown(s.epoch)} is not an epoch number`);
  if (expect.epochs !== null && s.epoch > expect.epochs)
    throw bad('epoch', `${s.epoch} is past the run's ${expect.epochs} epochs`);
  if (!isCount(s.stepInEpoch)) throw bad('stepInEpoch', `${shown(s.stepInEpoch)} is not a step count`);
  if (s.stepInEpoch > s.globalStep)
    throw bad('stepInEpoch', `${s.stepInEpoch} steps into the epoch, but only ${s.globalStep} steps in all`);

  if (!Array.isArray(s.dataOrder)) throw bad('dataOrder', `${shown(s.dataOrder)} is not an array`);
  const order = s.dataOrder as unknown[];
  if (order.length > 0) {
    if (expect.orderSize !== null && order.length !== expect.orderSize)
      throw bad('dataOrder', `${order.length} entries, the run has ${expect.orderSize} train items`);
    const seen = new Uint8Array(order.length);
    for (const [i, x] of order.entries()) {
      if (!isCount(x) || x >= order.length || seen[x] === 1)
        throw bad('dataOrder', `entry ${i} (${shown(x)}): not a permutation of 0..${order.length - 1}`);
      seen[x] = 1;
    }
    if (expect.batchSize !== null && s.stepInEpoch > Math.ceil(order.length / expect.batchSize))
      throw bad(
        'stepInEpoch',
        `${s.stepInEpoch} is past the epoch's ${Math.ceil(order.length / expect.batchSize)} steps`,
      );
  }
  const rng = s.rngState;
  if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((w) => isCount(w) && w <= 0xffffffff))
    throw bad('rngState', `${shown(rng)} is not four uint32 words`);

  const strideKeys = ['strideText', 'strideImage', 'frozenText', 'frozenImage'] as const;
  for (const key of strideKeys) if (!Array.isArray(s[key])) throw bad(key, `${shown(s[key])} is not an array`);
  const strideLength = (s.strideText as unknown[]).length;
  const expected = expect.strideSamples ?? strideLength;
  for (const key of strideKeys) {
    const n = (s[key] as unknown[]).length;
    if (n !== expected)
      throw bad(
        key,
        `${n} entries, ${expect.strideSamples !== null ? `the run has ${expected} train items` : `strideText has ${expected}`}`,
      );
  }
  for (const key of ['strideText', 'strideImage'] as const) {
    const i = (s[key] as unknown[]).findIndex((x) => !(isCount(x) && x >= 1));
    if (i >= 0) throw bad(key, `entry ${i} (${shown((s[key] as unknown[])[i])}) is not a stride (an integer ≥ 1)`);
  }
  for (const key of ['frozenText', 'frozenImage'] as const) {
    const i = (s[key] as unknown[]).findIndex((x) => typeof x !== 'boolean');
    if (i >= 0) throw bad(key, `entry ${i} (${shown((s[key] as unknown[])[i])}) is not true or false`);
  }

  if (s.bestScore !== null && !isNumber(s.bestScore)) throw bad('bestScore', `${shown(s.bestScore)} is not a score`);
  if (s.bestEpoch !== null && !(isCount(s.bestEpoch) && s.bestEpoch <= s.epoch))
    throw bad('bestEpoch', `${shown(s.bestEpoch)} is not an epoch up to ${s.epoch}`);
  if (!Array.isArray(s.history)) throw bad('history', `${shown(s.history)} is not an array`);
  for (const [i, h] of (s.history as unknown[]).entries()) {
    const r = h as Partial<EpochRecord> | null;
    if (
      typeof r !== 'object' ||
      r === null ||
      !isCount(r.epoch) ||
      !isNumber(r.meanLoss) ||
      !(r.score === null || isNumber(r.score))
    )
      throw bad('history', `entry ${i} (${shown(h)}) is not {epoch, meanLoss, score}`);
  }
  if ((s.history as unknown[]).length > s.epoch + 1)
    throw bad('history', `${(s.history as unknown[]).length} epochs recorded, but training is in epoch ${s.epoch}`);

  const stats = s.epochStats as Partial<EpochStats> | undefined;
  if (typeof stats !== 'object' || stats === null) throw bad('epochStats', `${shown(stats)} is not an object`);
  if (!isCount(stats.steps)) throw bad('epochStats.steps', `${shown(stats.steps)} is not a step count`);
  if (!isNumber(stats.lossSum)) throw bad('epochStats.lossSum', `${shown(stats.lossSum)} is not a finite number`);
  for (const key of ['variantSum', 'variantCount', 'accepted', 'checked'] as const) {
    const group = stats[key] as Record<string, unknown> | undefined;
    if (typeof group !== 'object' || group === null || !Object.values(group).every(isNumber))
      throw bad(`epochStats.${key}`, `${shown(group)} is not an object of finite numbers`);
  }
}

/** validateTrainState against the run's config.json, as the run format's hook (doctor, evaluation). */
export function validateTrainStateOfRun(state: StoredState, file: string, config: RunConfig | null): void {
  validateTrainState(state, file, expectationsOf(config));
}

const ADAMW_FORMAT = 'aimkp-adamw-v1';

/** AdamW's state as optimizer.json's header ({format, step, names}) and its moments as `m/<name>`, `v/<name>`. */
export function adamwBlob(o: AdamWStateData): OptimizerBlob {
  const arrays = new Map<string, Float32Array>();
  o.names.forEach((name, i) => {
    arrays.set(`m/${name}`, o.m[i]);
    arrays.set(`v/${name}`, o.v[i]);
  });
  return { header: { format: ADAMW_FORMAT, step: o.step, names: o.names }, arrays };
}

/** The AdamW state stored in the checkpoint folder `dir`; a missing moment is named. */
export function adamwStateOf(blob: OptimizerBlob, dir: string): AdamWStateData {
  const names = blob.header.names as string[];
  const moment = (k: string): Float32Array => {
    const a = blob.arrays.get(k);
    if (!a)
      throw new CoreError('CHECKPOINT_CORRUPT', `${join(dir, 'optimizer.bin')}: moment "${k}" missing`, {
        path: join(dir, 'optimizer.bin'),
      });
    return a;
  };
  return {
    step: blob.header.step as number,
    names,
    m: names.map((n) => moment(`m/${n}`)),
    v: names.map((n) => moment(`v/${n}`)),
  };
}
