// Messages between rank 0 (the thread that runs the job) and the data-parallel workers (ranks 1..K-1,
// pool-worker.ts). Bulk data never travels per step: image features live in SharedArrayBuffers sent once per
// example set, every rank writes its shard's gradient into its own shared slot and sums one range of the slots into
// the shared sum, and every rank applies the same AdamW update to its own replica from that sum (so the weights
// never travel). Messages carry only indices, strides, seeds and per-sample results.
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

/** AdamW's settings as plain data (models/train/adamw.ts's AdamWOptions; this room may not import the trainer). */
export interface OptimizerOptions {
  lr: number;
  adapterLr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  clipNorm: number | null;
}

/** AdamW's state as plain data (models/train/adamw.ts's AdamWStateData). */
export interface OptimizerStateData {
  step: number;
  names: string[];
  m: Float32Array[];
  v: Float32Array[];
}

/**
 * The optimizer every rank runs on its own replica: its parameters (by checkpoint name, in slot order: the flat
 * layout of the gradient slots), their groups, the settings and the current state (a resumed run's, restored).
 */
export interface OptimizerSetup {
  slots: { name: string; group: 'adapter' | 'lm' }[];
  options: OptimizerOptions;
  state: OptimizerStateData;
}

/** The replica: the same model as rank 0's (all variables' values), its optimizer and the shared step buffers. */
export interface ModelRequest {
  t: 'model';
  lm: LmConfig;
  template: PromptTemplate;
  seed: number;
  /** Every variable by name (trainable or not), as rank 0 holds them now. */
  variables: { name: string; values: Float32Array }[];
  /** Training jobs: the optimizer (its slots are the flat layout); null for decoding-only jobs. */
  optimizer: OptimizerSetup | null;
  /** Int32Array of step-barrier.ts: the step barrier's counters. */
  control: SharedArrayBuffer;
  /** Every rank's float32 gradient slot by rank (rank 0's too), in layout order. */
  slots: SharedArrayBuffer[];
  /** float32: the step's summed gradient, written by the ranks a range each. */
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

/**
 * One rank's part of an optimizer step: its shard (the samples' indices in the set; none for an empty shard), the
 * global answer-token total N; then the barrier, its range of the sum and the AdamW update with `lrFactor`.
 */
export interface StepRequest {
  t: 'step';
  set: string;
  samples: number[];
  total: number;
  samplesPerCall: number;
  dropoutSeed: number;
  /** Optimizer updates the replica must have applied before this step (rank 0's count). */
  version: number;
  /** The step's number since the model was set (1, 2, …): the barrier's generation. */
  seq: number;
  /** The ranks whose shards are not empty, in rank order: the slots summed. */
  ranks: number[];
  lrFactor: number;
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
  /** The global gradient norm this rank's update saw (rank 0 checks it equals its own). */
  gradNorm: number;
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

/** The replica's trainable weights and optimizer state (tests: every rank's equal rank 0's, bit for bit). */
export interface StateRequest {
  t: 'state';
}

export interface StateReply {
  /** Optimizer updates applied. */
  updates: number;
  /** The optimizer's parameters' values, in slot order. */
  weights: { name: string; values: Float32Array }[];
  optimizer: OptimizerStateData;
}

export type PoolRequest =
  | ModelRequest
  | ExamplesRequest
  | DropRequest
  | StepRequest
  | DecodeRequest
  | EncodeRequest
  | MemoryRequest
  | StateRequest;

export type ToPoolWorker = { t: 'request'; id: number; request: PoolRequest } | { t: 'cancel'; id: number };

export type FromPoolWorker =
  | { t: 'ready'; backend: string }
  | { t: 'init-failed'; error: { code: string; message: string } }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: { code: string; message: string; stack?: string } }
  | { t: 'progress'; id: number; value: EncodeProgress };
