// The project's one vocabulary: every enumeration that more than one side names (core, service, contract, UI),
// written once as an `as const` list with its type. Dependency-free, so the core, the contract's zod enums and the
// renderer all read it. A new value is added here and nowhere else.

/** The paper's three evaluation modes: image + text, text only (image removed), image only (text removed). */
export const EVAL_MODES = ['multimodal', 'text', 'image'] as const;
export type EvalMode = (typeof EVAL_MODES)[number];

export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Decoding strategies (docs/evaluation.md); the paper's test decoding is beam-sample. */
export const DECODE_STRATEGIES = ['greedy', 'beam', 'beam-sample'] as const;
export type DecodeStrategy = (typeof DECODE_STRATEGIES)[number];

/** TensorFlow.js backend requests; 'auto' tries the others in this order (docs/backends-and-encoders.md). */
export const BACKEND_CHOICES = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_CHOICES)[number];

/**
 * The built-in image encoders' specs (docs/backends-and-encoders.md): MobileNetV2-1.4 at 7×7×1792 (the default), its
 * last bottleneck at 7×7×448, and its stride-16 stage at 16×16×136 (256² input; `mobilenet-v2-s16@SIDE` for
 * another side). The form offers these; `patch:G:P` and `tfjs:/folder[#node]` are accepted too.
 */
export const BUILTIN_ENCODERS = ['mobilenet-v2', 'mobilenet-v2-bottleneck', 'mobilenet-v2-s16'] as const;
export type BuiltinEncoder = (typeof BUILTIN_ENCODERS)[number];

/** Data-parallel worker threads of one job (`--workers K`, Settings): at most this many (each holds a replica). */
export const MAX_WORKERS = 256;

/** Training methods: plain fine-tuning, or AimKP's masking + gradient filter. */
export const METHODS = ['standard', 'aimkp'] as const;
export type Method = (typeof METHODS)[number];

/** How a masked row is made: the released structured stride, random (ablation), pooling (feature compression). */
export const MASK_KINDS = ['structured', 'random', 'pool'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/** How a sample's stride grows: the paper's doubling, a fixed stride, a linear increase (ablations). */
export const STRIDE_RULES = ['progressive', 'fixed', 'linear'] as const;
export type StrideRule = (typeof STRIDE_RULES)[number];

/** Metric conventions (docs/metrics.md). */
export const CONVENTIONS = ['aimkp', 'cmkp'] as const;
export type Convention = (typeof CONVENTIONS)[number];

/** The paper's headline metrics (AimKP convention); model selection sums them. */
export const REPORT_METRICS = ['f1@1', 'f1@3', 'map@5'] as const;
export type ReportMetric = (typeof REPORT_METRICS)[number];

/**
 * A job's life, as the supervisor knows it: queued → running → completed | stopped (asked to) | failed (error, or
 * the worker died) | interrupted (the app quit or crashed while it ran: resumable); queued → cancelled.
 */
export const JOB_STATES = ['queued', 'running', 'completed', 'stopped', 'failed', 'interrupted', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINISHED_JOB_STATES = ['completed', 'stopped', 'failed', 'interrupted', 'cancelled'] as const;
export type FinishedJobState = (typeof FINISHED_JOB_STATES)[number];
export function isFinishedJobState(state: JobState): state is FinishedJobState {
  return (FINISHED_JOB_STATES as readonly string[]).includes(state);
}

/** A run's status in the run table: its newest job's state, or what its folder says (stopping: asked, not yet). */
export const RUN_STATUSES = ['queued', 'running', 'stopping', 'stopped', 'completed', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Compare's case filters and sort orders (docs/evaluation.md "compare"). */
export const COMPARE_FILTERS = ['all', 'wins', 'losses', 'diff', 'ties'] as const;
export type CompareFilter = (typeof COMPARE_FILTERS)[number];
export const COMPARE_SORTS = ['data', 'abs-diff', 'a-first', 'b-first', 'id'] as const;
export type CompareSort = (typeof COMPARE_SORTS)[number];
