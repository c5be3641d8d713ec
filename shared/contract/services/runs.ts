// The runs domain: the training presets, every run of the workspace (app and CLI alike), its history and events,
// starting / stopping / resuming training, and the evaluations and robustness reports of a run (as jobs).
import { z } from 'zod';
import {
  ApiErrorShape,
  DecodeRequest,
  DecodeSettings,
  DecodeStrategy,
  DatasetId,
  EvalMode,
  EvalSplit,
  IsoTime,
  JobId,
  JsonObject,
  LIMITS,
  Method,
  PresetName,
  RunId,
  RunStatus,
  Scores,
  Seed,
  Seq,
  StreamId,
  Tag,
} from '../common';
import { ServiceEventSchema } from '../events';
import type { RunHistory } from '../../run-series';
import { command, Empty, pageLimit } from './define';
import { JobStarted } from './jobs';

export const PresetInfo = z.object({
  name: PresetName,
  description: z.string(),
  /** Where the paper reports this setting, e.g. 'Table 2 "w/o masking on text"'. */
  paper: z.string(),
  method: Method,
  mode: EvalMode,
  /** The preset's full TrainConfig: the form's defaults; runs.start overrides take the same keys. */
  config: JsonObject,
});
export type PresetInfo = z.infer<typeof PresetInfo>;

/** One evaluation's scores: split × mode × decoding, `n` items scored. */
export const ModeScores = z.object({
  mode: EvalMode,
  split: z.string(),
  decode: DecodeStrategy,
  scores: Scores,
  n: z.int(),
});

/**
 * runs.history: a run's training events folded into chartable columns on the server (shared/run-series.ts), so
 * opening a 20,000-step run moves ~1.5 MB instead of ~56 MB of raw events. Event objects (start, end, lastStep,
 * progress) are checked only for their type here; their shape is owned by shared/training-events.ts.
 */
const eventOf = <T extends string>(type: T) =>
  z.custom<object>((v) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === type, {
    message: `a "${type}" training event`,
  });
const NumCol = z.array(z.number().nullable());
const Band = z.object({ p10: z.number(), median: z.number(), p90: z.number(), n: z.int() });
const Modal = <T extends z.ZodType>(t: T) => z.object({ text: t, image: t });
export const RunHistorySchema = z.object({
  lastSeq: Seq,
  steps: z.object({
    step: z.array(z.number()),
    loss: NumCol,
    lossOriginal: NumCol,
    lossText: NumCol,
    lossImage: NumCol,
    cosText: NumCol,
    cosImage: NumCol,
    stepTimeMs: NumCol,
  }),
  epochs: z.array(
    z.object({
      epoch: z.int(),
      step: z.int(),
      meanLoss: z.number(),
      acceptance: Modal(z.number().nullable()),
      strides: Modal(z.record(z.string(), z.number())).nullable(),
      validation: z.object({ f1at1: z.number(), f1at3: z.number(), map5: z.number(), score: z.number() }).nullable(),
      improved: z.boolean(),
    }),
  ),
  cosine: z.array(
    z.object({ epoch: z.int(), firstStep: z.int(), lastStep: z.int(), text: Band.nullable(), image: Band.nullable() }),
  ),
  openEpoch: z
    .object({
      epoch: z.int(),
      firstStep: z.int(),
      text: z.array(z.tuple([z.int(), z.int()])),
      image: z.array(z.tuple([z.int(), z.int()])),
    })
    .nullable(),
  log: z.array(z.object({ time: z.string(), level: z.enum(['info', 'warn', 'error']), text: z.string() })),
  start: eventOf('run-start').nullable(),
  end: eventOf('run-end').nullable(),
  lastStep: eventOf('step').nullable(),
  progress: eventOf('progress').nullable(),
  error: z.string().nullable(),
  best: z.object({ epoch: z.int(), score: z.number() }).nullable(),
  recent: z.array(z.object({ t: z.number(), step: z.int() })),
});

/** The sweep a run belongs to (shared/sweep.ts SweepRef): the Runs view's group; mean ± std per cell. */
export const SweepRefSchema = z.object({
  id: z.string(),
  cell: z.string(),
  seed: z.int(),
  index: z.int(),
  total: z.int(),
});

export const RunSummary = z.object({
  id: RunId,
  /** Display name (runs.rename); the id (folder) never changes. */
  name: z.string(),
  preset: z.string(),
  method: Method,
  seed: z.int().nullable(),
  dataset: z.string().nullable(),
  status: RunStatus,
  tags: z.array(z.string()),
  createdAt: IsoTime.nullable(),
  updatedAt: IsoTime.nullable(),
  /** 0-based epoch in progress (or last finished), of `epochs`. */
  epoch: z.int(),
  epochs: z.int(),
  step: z.int(),
  totalSteps: z.int(),
  best: z.object({ epoch: z.int(), score: z.number() }).nullable(),
  /** Test scores per mode and decoding that have been evaluated (the latest of each pair; `n` = items scored). */
  test: z.array(ModeScores),
  /** Seq of the stream's last event: subscribe with sinceSeq = this to get only what comes next. */
  lastSeq: Seq,
  /** Why the run failed or was interrupted. */
  error: ApiErrorShape.nullable(),
  /** 'cli' for runs found in the workspace that `aimkp train` made; 'app' for runs started here. Same folder format. */
  origin: z.enum(['app', 'cli']),
  /** Set on the runs of a sweep. */
  sweep: SweepRefSchema.optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const ConditionResult = z.object({
  name: z.string(),
  family: z.string(),
  level: z.number().nullable(),
  mode: EvalMode,
  n: z.int(),
  aimkp: Scores,
  seconds: z.number(),
});
export const RobustnessReport = z.object({
  run: z.string(),
  split: z.string(),
  decode: z.literal('greedy'),
  maskPattern: z.string(),
  seed: z.number(),
  n: z.int(),
  featureStd: z.number(),
  conditions: z.array(ConditionResult),
  createdAt: z.string(),
});

const RobustnessOptions = z.strictObject({
  ratios: z.array(z.number().min(0).max(1)).max(20).optional(),
  strides: z.array(z.int().min(1).max(64)).max(20).optional(),
  sigmas: z.array(z.number().min(0).max(100)).max(20).optional(),
  pattern: z.enum(['random', 'structured']).optional(),
  seed: Seed.optional(),
});

export const RUNS_COMMANDS = {
  'presets.list': command(
    Empty,
    z.object({ presets: z.array(PresetInfo) }),
    'Every training preset with description, paper reference and defaults.',
  ),
  'runs.list': command(
    z.strictObject({
      preset: z.string().max(64).optional(),
      status: RunStatus.optional(),
      tag: Tag.optional(),
      dataset: DatasetId.optional(),
    }),
    z.object({ runs: z.array(RunSummary) }),
    'Every run of the workspace (app and CLI alike), newest first.',
  ),
  'runs.get': command(
    z.strictObject({ id: RunId }),
    z.object({
      run: RunSummary,
      dir: z.string(),
      /** The resolved TrainConfig (config.json). */
      config: JsonObject,
      /** Every evaluation found in metrics/ (split × mode × decode). */
      metrics: z.array(ModeScores.extend({ decodeSettings: DecodeSettings.nullable(), createdAt: IsoTime.nullable() })),
      robustness: z.array(RobustnessReport),
      /** Checkpoints present: resumable from last/, evaluable from best/. */
      checkpoints: z.object({
        last: z.object({ epoch: z.int(), step: z.int() }).nullable(),
        best: z.object({ epoch: z.int(), score: z.number() }).nullable(),
      }),
    }),
    "One run's summary, config, evaluations, robustness reports and checkpoints.",
  ),
  'runs.history': command(
    z.strictObject({ id: RunId }),
    RunHistorySchema as unknown as z.ZodType<RunHistory>,
    "A run's chartable history folded on the server (loss, cosine and step-time columns, epochs, log, status), up to `lastSeq`; subscribe from lastSeq for what follows. Numbers are rounded to 7 significant digits.",
  ),
  'runs.events': command(
    z.strictObject({ id: StreamId, sinceSeq: Seq.default(0), limit: pageLimit(1000, LIMITS.maxEventsPerPage) }),
    z.object({ events: z.array(ServiceEventSchema), lastSeq: Seq, more: z.boolean() }),
    "A page of a stream's history (events with seq > sinceSeq); page on with sinceSeq = last returned seq while `more`.",
  ),
  'runs.start': command(
    z.strictObject({
      preset: PresetName,
      dataset: DatasetId,
      /** TrainConfig fields over the preset (same keys as presets.list config; nested objects merge). */
      overrides: JsonObject.default({}),
      seeds: z.array(Seed).min(1).max(LIMITS.maxSeeds).default([1]),
      name: z.string().min(1).max(100).optional(),
      tags: z.array(Tag).max(20).default([]),
    }),
    z.object({ runs: z.array(z.object({ id: RunId, jobId: JobId })) }),
    'Queues one training run per seed; each run streams its events under its id.',
  ),
  'runs.sweep': command(
    z.strictObject({
      /** Run ids start with it (letters, digits, '-', '_'). */
      name: z.string().min(1).max(40),
      dataset: DatasetId,
      presets: z.array(PresetName).min(1).max(16),
      seeds: z.array(Seed).min(1).max(LIMITS.maxSeeds),
      /** Dotted TrainConfig paths → the values to try, e.g. {"aimkp.tauText": [0.05, 0.1]}. */
      grid: z.record(z.string(), z.array(z.union([z.number(), z.string(), z.boolean(), z.null()])).min(1)).default({}),
      overrides: JsonObject.default({}),
      maxSteps: z.int().min(1).optional(),
      tags: z.array(Tag).max(20).default([]),
    }),
    z.object({
      sweepId: z.string(),
      runs: z.array(z.object({ id: RunId, jobId: JobId })),
      /** Runs of this sweep that exist already (a resubmitted sweep queues only what is missing). */
      skipped: z.array(RunId),
    }),
    'Expands a sweep (presets × grid × seeds) into runs with stable names and queues them together; each run carries the sweep (runs.list groups by it).',
  ),
  'runs.stop': command(
    z.strictObject({ id: RunId }),
    z.object({ run: RunSummary }),
    'Stops a running or queued run at the next step boundary, with a checkpoint (resumable).',
  ),
  'runs.resume': command(
    z.strictObject({ id: RunId }),
    z.object({ run: RunSummary, jobId: JobId }),
    'Resumes a stopped or interrupted run exactly from its last checkpoint.',
  ),
  'runs.delete': command(
    z.strictObject({ id: RunId }),
    z.object({ id: RunId, deleted: z.literal(true) }),
    'Deletes a run folder (refused while it runs).',
  ),
  'runs.rename': command(
    z.strictObject({ id: RunId, name: z.string().min(1).max(100) }),
    z.object({ run: RunSummary }),
    'Sets the display name; the folder keeps its id.',
  ),
  'runs.tag': command(
    z.strictObject({ id: RunId, add: z.array(Tag).max(20).default([]), remove: z.array(Tag).max(20).default([]) }),
    z.object({ run: RunSummary }),
    'Adds and removes tags.',
  ),
  'runs.evaluate': command(
    z.strictObject({
      id: RunId,
      split: EvalSplit.default('test'),
      modes: z.array(EvalMode).min(1).max(3).default(['multimodal', 'text', 'image']),
      decode: DecodeRequest.default({ strategy: 'greedy' }),
      checkpoint: z.enum(['best', 'last']).default('best'),
    }),
    JobStarted,
    'Evaluates the run in the three modes (or those given) as a job; results land in runs.get metrics.',
  ),
  'runs.robustness': command(
    z.strictObject({
      id: RunId,
      split: EvalSplit.default('test'),
      options: RobustnessOptions.default({}),
    }),
    JobStarted,
    'Runs the robustness suite (masking, strides, removal, swaps, noise) as a job; the report lands in runs.get robustness.',
  ),
};
