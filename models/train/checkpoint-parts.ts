// What the trainer puts into a checkpoint beyond the weights, in the shapes the run-folder format stores without
// reading them (models/run/checkpoint-io.ts): state.json (TrainState: where training stands, the stride maps, the
// data-order RNG, the epoch's running sums) and the AdamW moments as named float32 arrays with a JSON header.
import { join } from 'node:path';
import { CoreError } from '../core-error';
import type { CheckpointState, LoadedCheckpoint, OptimizerBlob } from '../run/checkpoint-io';
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

/**
 * A checkpoint's state.json as the trainer's TrainState. The run format checked the fields it reads (epoch,
 * globalStep); the rest is the trainer's own JSON, written by this code (and covered by the manifest's SHA-256).
 */
export function trainStateOf(ck: LoadedCheckpoint): TrainState {
  return ck.state as unknown as TrainState;
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
