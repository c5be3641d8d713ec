// Messages between rank 0 (the thread that runs the job) and the data-parallel workers (ranks 1..K-1,
// pool-worker.ts). Bulk data never travels per step: image features live in SharedArrayBuffers sent once per
// example set, the trainable weights in one shared buffer rank 0 publishes after each update, and every worker
// writes its gradient into its own shared slot. Messages carry only indices, strides, seeds and per-sample results.
import type { DecodeOptions, EvalMode, LmConfig, PromptTemplate } from '../lm/contract';
import type { BackendRequest } from '../tf/backend';
import type { AimkpSettings } from '../run/train-config';
import type { StepSampleRecord } from '../../shared/training-events';
import type { EncodeProgress, ImageIssue, ImageItem } from '../vision/feature-cache';

/** workerData of a pool worker. */
export interface PoolWorkerInit {
  rank: number;
  ranks: number;
  /** The backend rank 0 picked (a concrete one, so that every replica computes on the same kind). */
  backend: Exclude<BackendRequest, 'auto'>;
}

/** Where an example's image features are: a float32 range of a shared buffer. */
export interface SharedImageRef {
  buffer: number;
  offset: number;
  length: number;
}

export interface SharedExampleRow {
  index: number;
  id: string;
  text: Int32Array;
  answer: Int32Array;
  image: SharedImageRef | null;
}

/** An example set as sent to the workers: the shared buffers it adds (by id) and its rows. */
export interface SharedExampleSet {
  buffers: { id: number; buffer: SharedArrayBuffer }[];
  rows: SharedExampleRow[];
}

/** The replica: the same model as rank 0's (all variables' values) plus the shared weight and gradient buffers. */
export interface ModelRequest {
  t: 'model';
  lm: LmConfig;
  template: PromptTemplate;
  seed: number;
  /** Every variable by name (trainable or not), as rank 0 holds them now. */
  variables: { name: string; values: Float32Array }[];
  /** The trainable variables' names in the flat layout's order. */
  trainable: string[];
  /** float32 trainable weights in layout order, written by rank 0 (published version in `control[0]`). */
  weights: SharedArrayBuffer;
  /** Int32Array[1]: the published weights version. */
  control: SharedArrayBuffer;
  /** float32 gradient of this rank's shard, in layout order. */
  gradient: SharedArrayBuffer;
  /** Every rank's gradient slot by rank (rank 0's too): a reduce request reads them. */
  slots: SharedArrayBuffer[];
  /** float32: the step's summed gradient, written by the ranks' reduce requests, a range each. */
  sum: SharedArrayBuffer;
}

export interface ExamplesRequest {
  t: 'examples';
  name: string;
  set: SharedExampleSet;
}

export interface DropRequest {
  t: 'drop';
  name: string;
  /** Shared buffers no set uses any more. */
  buffers: number[];
}

export type StepMethod =
  | { kind: 'standard'; mode: EvalMode }
  | {
      kind: 'aimkp';
      settings: AimkpSettings;
      /** Seeds random masks (the run's seed). */
      seed: number;
      epoch: number;
      /** Current [text, image] stride of each shard sample, in shard order. */
      strides: [number, number][];
    };

/** One shard of an optimizer step: the samples' indices in the set, the global answer-token total N. */
export interface StepRequest {
  t: 'step';
  set: string;
  samples: number[];
  total: number;
  samplesPerCall: number;
  dropoutSeed: number;
  /** Weights version the shard must be computed with. */
  version: number;
  method: StepMethod;
}

/** A stride transition the shard's step decided; rank 0 applies them in batch order. */
export interface StrideUpdate {
  modality: 'text' | 'image';
  index: number;
  accepted: boolean;
}

export interface StepReply {
  loss: number;
  variantLoss: { original: number; text: number | null; image: number | null };
  samples: StepSampleRecord[];
  accepted: { text: number; image: number };
  checked: { text: number; image: number };
  rows: number;
  strideUpdates: StrideUpdate[];
}

/**
 * Sum the gradient slots of `ranks` (in that order, float32 after each addition) over floats [start, end) into the
 * shared sum: every rank reduces one range, so the sum of K slots costs rank 0 a K-th of it.
 */
export interface ReduceRequest {
  t: 'reduce';
  start: number;
  end: number;
  ranks: number[];
}

/** Decode set rows [start, end) (answers cleared) with the replica. */
export interface DecodeRequest {
  t: 'decode';
  set: string;
  start: number;
  end: number;
  mode: EvalMode;
  options: DecodeOptions;
  version: number;
}

/** Encode a share of the images (through the on-disk feature cache). */
export interface EncodeRequest {
  t: 'encode';
  encoder: string;
  dataDir: string;
  items: ImageItem[];
  cacheDir?: string;
}

export interface EncodeReply {
  /** Aligned with the request's items: features, or null (no image, or it failed: see issues). */
  features: (Float32Array | null)[];
  issues: ImageIssue[];
  warnings: string[];
  stats: EncodeProgress;
}

/** The worker's state for tests: live tensors (requests leave none behind), its backend and own kernels' use. */
export interface MemoryRequest {
  t: 'memory';
}

export interface MemoryReply {
  /** tf.memory().numTensors */
  numTensors: number;
  backend: string;
  /** Calls of this thread's own wasm kernels so far (models/lm/wasm-kernels.ts; 0 off wasm). */
  wasmKernelCalls: number;
}

export type PoolRequest =
  | ModelRequest
  | ExamplesRequest
  | DropRequest
  | StepRequest
  | ReduceRequest
  | DecodeRequest
  | EncodeRequest
  | MemoryRequest;

export type ToPoolWorker = { t: 'request'; id: number; request: PoolRequest } | { t: 'cancel'; id: number };

export type FromPoolWorker =
  | { t: 'ready'; backend: string }
  | { t: 'init-failed'; error: { code: string; message: string } }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: { code: string; message: string; stack?: string } }
  | { t: 'progress'; id: number; value: EncodeProgress };
