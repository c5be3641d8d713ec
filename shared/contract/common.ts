// Building blocks of the service contract: ids, enums, limits and the error shape. Plain zod 4, no Node or
// DOM imports, so the renderer, the preload and the main process all load the same validators.
import { z } from 'zod';
import {
  BACKEND_CHOICES,
  CONVENTIONS,
  DECODE_STRATEGIES,
  EVAL_MODES,
  JOB_STATES,
  METHODS,
  REPORT_METRICS,
  RUN_STATUSES,
  SPLITS,
} from '../vocabulary';

/** Caps that every transport enforces before a payload reaches a handler. */
export const LIMITS = {
  /** One wire message (JSON text). Large enough for one uploaded image in predict.case. */
  maxMessageBytes: 12 * 1024 * 1024,
  /** One uploaded image as a data URL (≈ 8 MiB of bytes once base64 is decoded). */
  maxImageDataUrlChars: 11 * 1024 * 1024,
  /** Free text (a post, a search string). */
  maxTextChars: 20_000,
  /** A file-system path given by the user. */
  maxPathChars: 4096,
  /** Items in one page of a listing. */
  maxPage: 500,
  /** Events in one runs.events answer. */
  maxEventsPerPage: 5000,
  /** Seeds in one runs.start (several seeds = several runs). */
  maxSeeds: 32,
  /** Runs compared in one predict.case. */
  maxPredictRuns: 8,
  /** Concurrent calls in flight per connection; more are refused with `BUSY`. */
  maxInFlightCalls: 64,
  /** Live subscriptions per connection. */
  maxSubscriptions: 64,
} as const;

/**
 * A run id is the run folder's name inside the workspace's runs/ folder: one path segment, so no request
 * can name a file outside the workspace.
 */
export const RunId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'a run id: letters, digits, ".", "_" or "-" (one folder name, at most 128 characters)',
  );
/** A data-set id: one folder name inside the workspace's datasets/ folder (or "clipart-kp", the bundled one). */
export const DatasetId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'a data-set id: letters, digits, ".", "_" or "-" (at most 128 characters)',
  );
/** An event stream: a run id, or "dataset:<id>" / "job:<id>" for work that belongs to no run (imports). */
export const StreamId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'a stream id: a run id, "dataset:<id>" or "job:<id>"');
export const JobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a job id');
export const ItemId = z.string().min(1).max(512);
export const PresetName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a preset name (see presets.list)');
export const Tag = z
  .string()
  .regex(/^[^\s,][^,]{0,62}$/, 'a tag: 1–63 characters, no comma, not starting with a space');
export const UserPath = z.string().min(1).max(LIMITS.maxPathChars);
export const Seed = z
  .int()
  .min(0)
  .max(2 ** 31 - 1);
/** Gap-free, 1-based sequence number of an event within its stream (its line in events.jsonl). */
export const Seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
export const IsoTime = z.string().max(40);

// The project's vocabulary (shared/vocabulary.ts) as validators: a value is added there, never here.
export const EvalMode = z.enum(EVAL_MODES);
export const Split = z.enum(SPLITS);
/** The splits a run is evaluated on (train is what it learned from). */
export const EvalSplit = Split.exclude(['train']);
export const DecodeStrategy = z.enum(DECODE_STRATEGIES);
export const Backend = z.enum(BACKEND_CHOICES);
export const ReportMetric = z.enum(REPORT_METRICS);
export const Convention = z.enum(CONVENTIONS);
export const Method = z.enum(METHODS);

/** Decoding settings; omitted fields take the strategy's defaults (docs/evaluation.md). */
export const DecodeRequest = z.strictObject({
  strategy: DecodeStrategy,
  beamSize: z.int().min(1).max(16).optional(),
  temperature: z.number().gt(0).max(10).optional(),
  maxNewTokens: z.int().min(1).max(256).optional(),
  repeats: z.int().min(1).max(10).optional(),
  seed: Seed.optional(),
});
export const DecodeSettings = z.object({
  strategy: DecodeStrategy,
  beamSize: z.number(),
  temperature: z.number(),
  maxNewTokens: z.number(),
  repeats: z.number(),
  seed: z.number(),
});

export const JsonValue = z.json();
export const JsonObject = z.record(z.string(), z.json());

export const RunStatus = z.enum(RUN_STATUSES);
/** What a job does, as the job list shows it (a resume is listed as 'train'). */
export const WIRE_JOB_KINDS = ['train', 'evaluate', 'robustness', 'predict', 'import'] as const;
export type WireJobKind = (typeof WIRE_JOB_KINDS)[number];
export const JobKind = z.enum(WIRE_JOB_KINDS);
/** The supervisor's job states, unchanged on the wire ('stopped': asked to stop; a stopped training is resumable). */
export const JobState = z.enum(JOB_STATES);

/**
 * Every failure crosses a transport as this plain object (never a thrown class). `code` is stable
 * (CoreError codes pass through; the transports add the ones in ERROR_CODES).
 */
export const ApiErrorShape = z.object({
  code: z.string().min(1).max(100),
  message: z.string().max(10_000),
  details: z.json().optional(),
});
export type ApiErrorShape = z.infer<typeof ApiErrorShape>;

/**
 * Error codes the contract layer itself produces, in the style of the core's CoreError codes (UPPER_SNAKE;
 * NOT_FOUND and INTERNAL are the core's own). Handlers add theirs (every CoreError code passes through).
 */
export const ERROR_CODES = {
  badRequest: 'BAD_REQUEST',
  unknownCommand: 'UNKNOWN_COMMAND',
  tooLarge: 'TOO_LARGE',
  forbidden: 'FORBIDDEN',
  cancelled: 'CANCELLED',
  busy: 'BUSY',
  disconnected: 'DISCONNECTED',
  internal: 'INTERNAL',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
} as const;

/** Metric triple in the AimKP convention, fractions in [0, 1]. */
export const Scores = z.object({ 'f1@1': z.number(), 'f1@3': z.number(), 'map@5': z.number() });
