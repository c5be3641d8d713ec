// The training event stream: what `aimkp train` emits in process (onEvent) and appends, one JSON object
// per line, to RUN/events.jsonl (from the moment the run folder exists; earlier events, e.g. a failure while
// preparing, reach onEvent only). The desktop UI consumes these types; they are plain data (JSON-safe) and
// import nothing from models/. Every event has `type`, `time` (ISO 8601) and `run` (the run folder).
// ProgressEvent also serves the evaluation jobs (their onProgress). A training ends with `run-end`
// (completed / stopped) or `error`; evaluation jobs end with a progress event in phase done / stopped / failed.
import type { EvalMode, Method } from './vocabulary';

/** JSON-safe value, for the parts of an event whose shape belongs to another module (config, data summary). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type TrainingModality = 'text' | 'image';

interface EventBase {
  time: string;
  run: string;
}

/** One data-set problem found while loading (file + line + field), skipped or kept with a warning. */
export interface TrainingDataIssue {
  file: string;
  line: number;
  field?: string;
  message: string;
  action: 'skipped' | 'kept';
  reason: string;
}

export interface RunStartEvent extends EventBase {
  type: 'run-start';
  /** The resolved TrainConfig (the same object as config.json). */
  config: JsonValue;
  preset: string;
  method: Method;
  /** Backend in use, e.g. { name: 'wasm', picked: 'wasm', ... } and a one-line description. */
  backend: { name: string; description: string };
  data: {
    dir: string;
    /** The loader's summary (lines, loaded, skipped, bySplit, byReason). */
    summary: JsonValue;
    train: number;
    valid: number;
    /** Number of issues; the first `issues.length` of them are listed. */
    issueCount: number;
    issues: TrainingDataIssue[];
  };
  encoder: string;
  vocabSize: number;
  /** Trainable parameters, total and per optimizer group. */
  parameters: { total: number; adapter: number; lm: number };
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** true when this process continues an earlier run (--resume). */
  resumed: boolean;
  /** Where the run (re)starts: 0-based epoch and global step. */
  startEpoch: number;
  startStep: number;
  /** Data-parallel ranks this process trains with (absent in logs written before data-parallel training: 1). */
  workers?: number;
  /**
   * A resume with another worker count than the checkpoint's steps ran on, and what that means ("resumed with 2
   * workers; the checkpoint was written with 1: the result matches an uninterrupted run within float tolerance,
   * not bit for bit"). Absent when the count is the same (then a resume is exact) or the run is new.
   */
  workersChange?: { checkpoint: number; now: number; message: string };
}

/** Per sample of an AimKP step: cosine with the original row's gradient, and the filter's decision. null = no such row. */
export interface StepSampleRecord {
  /** The sample's dense index in the train split. */
  index: number;
  /** Strides used for this visit (1 = not masked). */
  strideText: number;
  strideImage: number;
  cosText: number | null;
  cosImage: number | null;
  acceptText: boolean | null;
  acceptImage: boolean | null;
}

export interface StepEvent extends EventBase {
  type: 'step';
  epoch: number;
  /** 1-based global optimizer step. */
  step: number;
  /** 1-based step within the epoch, of stepsPerEpoch. */
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** The optimized objective: Σ_r w_r·L_r (token-weighted mean over kept rows). */
  loss: number;
  /** Mean loss over the rows of each kind in this step (null when the step had no row of that kind). */
  variantLoss: { original: number; text: number | null; image: number | null };
  /** AimKP only; [] for standard training. */
  samples: StepSampleRecord[];
  /** Masked rows accepted / built in this step, per modality. */
  accepted: { text: number; image: number };
  checked: { text: number; image: number };
  rows: number;
  lr: number;
  adapterLr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  ms: number;
}

export interface ValidationScores {
  split: 'valid';
  mode: EvalMode;
  n: number;
  'f1@1': number;
  'f1@3': number;
  'f1@5': number;
  'map@5': number;
  /** F1@1 + F1@3 + MAP@5 (fractions), the best-checkpoint criterion. */
  score: number;
  decode: 'greedy';
}

export interface StrideSummary {
  /** stride value → number of train samples with that stride for the next epoch. */
  histogram: Record<string, number>;
  frozen: number;
}

export interface EpochEndEvent extends EventBase {
  type: 'epoch-end';
  /** 0-based epoch that just ended. */
  epoch: number;
  epochs: number;
  step: number;
  meanLoss: number;
  meanVariantLoss: { original: number; text: number | null; image: number | null };
  /** AimKP: stride maps after this epoch (the strides of the next one). null for standard training. */
  strides: { text: StrideSummary; image: StrideSummary } | null;
  /** Accepted masked rows / checked masked rows this epoch (share null when none were checked). */
  acceptance: Record<TrainingModality, { accepted: number; checked: number; share: number | null }>;
  validation: ValidationScores | null;
  best: { epoch: number; score: number } | null;
  /** true when this epoch became the best checkpoint. */
  improved: boolean;
  timings: { trainMs: number; validMs: number; checkpointMs: number };
}

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  which: 'last' | 'best';
  /** Path relative to the run folder. */
  path: string;
  epoch: number;
  step: number;
  ms: number;
}

export interface RunEndEvent extends EventBase {
  type: 'run-end';
  /** 'completed': all epochs; 'stopped': stopped early (maxSteps or abort), resumable. */
  status: 'completed' | 'stopped';
  step: number;
  epoch: number;
  best: { epoch: number; score: number } | null;
  totalMs: number;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  message: string;
  stack?: string;
  /** The core error's stable code (models/core-error.ts), e.g. 'data-invalid'; absent for unexpected errors. */
  code?: string;
  /** The phase that failed (a failure before the run folder exists has 'preparing' or 'encoding'). */
  phase?: ProgressPhase;
}

/**
 * The phases every long operation of the core goes through. Training: preparing → encoding → training ⇄
 * validating / checkpointing → done. Evaluation jobs: preparing → encoding → evaluating | predicting |
 * robustness → done. 'failed' ends any of them; 'stopped' is a job that an abort ended early.
 */
export type ProgressPhase =
  | 'preparing'
  | 'encoding'
  | 'training'
  | 'validating'
  | 'checkpointing'
  | 'evaluating'
  | 'predicting'
  | 'robustness'
  | 'done'
  | 'stopped'
  | 'failed';

export const PROGRESS_PHASES: readonly ProgressPhase[] = [
  'preparing',
  'encoding',
  'training',
  'validating',
  'checkpointing',
  'evaluating',
  'predicting',
  'robustness',
  'done',
  'stopped',
  'failed',
];

/** What `done` / `total` count. */
export type ProgressUnit = 'images' | 'items' | 'steps' | 'conditions' | 'modes';

/**
 * Where a job stands: emitted at every phase change and, within a phase, as work completes (at most a few per
 * second, always the last one). `run` is the run folder the job trains or reads ('' for a job without one).
 */
export interface ProgressEvent extends EventBase {
  type: 'progress';
  phase: ProgressPhase;
  /** Units completed within the phase and their total; null when the phase is not counted. */
  done: number | null;
  total: number | null;
  unit: ProgressUnit | null;
  /** One short line for people ("encoding test images", "mode text (2/3)"). */
  message: string;
  /** Image encoding: how the done images were obtained. */
  images?: { cached: number; computed: number; failed: number };
  /** Failed jobs: the error (code from models/core-error.ts when it is a core error). */
  error?: { code: string; message: string };
}

export type TrainingEvent =
  RunStartEvent | StepEvent | EpochEndEvent | CheckpointEvent | RunEndEvent | ErrorEvent | ProgressEvent;
export type TrainingEventType = TrainingEvent['type'];
export const TRAINING_EVENT_TYPES: readonly TrainingEventType[] = [
  'run-start',
  'step',
  'epoch-end',
  'checkpoint',
  'run-end',
  'error',
  'progress',
];

/** Receives progress of a core job (evaluation, prediction, robustness, encoding); training uses onEvent. */
export type ProgressListener = (event: ProgressEvent) => void;

/** Parses one events.jsonl line; null when it is not a training event (blank, malformed or unknown type). */
export function parseTrainingEvent(line: string): TrainingEvent | null {
  if (line.trim() === '') return null;
  try {
    const v = JSON.parse(line) as { type?: unknown };
    if (typeof v !== 'object' || v === null || !TRAINING_EVENT_TYPES.includes(v.type as TrainingEventType)) return null;
    return v as TrainingEvent;
  } catch {
    return null;
  }
}
