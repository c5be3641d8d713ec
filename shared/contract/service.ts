// THE service definition: every command's request and response schema and the event subscription. The
// TypeScript types, the runtime validators, the IPC channel and the WebSocket protocol all derive from this
// object; no command name or payload type is written anywhere else. docs/api.md describes each command.
//
// Conventions: requests are strict objects (unknown keys are refused, so typos fail loudly); optional fields
// with defaults are applied by the validator before the handler runs (handlers receive CommandArgs<C>).
// Responses are plain JSON. Long work (training, evaluation, robustness, imports) answers at once with a
// job id and the stream whose events report its progress.
import { z } from 'zod';
import {
  Backend,
  Convention,
  DatasetId,
  DecodeRequest,
  DecodeSettings,
  DecodeStrategy,
  EvalMode,
  IsoTime,
  ItemId,
  JobId,
  JobKind,
  JobState,
  JsonObject,
  LIMITS,
  PresetName,
  ReportMetric,
  RunId,
  RunStatus,
  Scores,
  Seed,
  Seq,
  Split,
  StreamId,
  Tag,
  UserPath,
  ApiErrorShape,
} from './common';
import { EventBatch, ServiceEventSchema, SubscribeRequest } from './events';
import type { RunHistory } from '../run-series';

export * from './common';
export * from './events';

const Empty = z.strictObject({});
const Offset = z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);
const pageLimit = (def: number, max: number = LIMITS.maxPage) => z.int().min(1).max(max).default(def);

// ---- shared response shapes --------------------------------------------------------------------------------

const BackendInfo = z.object({ name: z.string(), description: z.string() });

export const SystemInfo = z.object({
  app: z.object({ name: z.string(), version: z.string() }),
  /** Where the API runs: inside the Electron app or the browser-mode server. */
  host: z.enum(['electron', 'browser']),
  /** The backend the worker uses (or will use) and the one requested in the settings. */
  backend: BackendInfo.extend({ requested: Backend }),
  versions: z.object({
    node: z.string(),
    electron: z.string().nullable(),
    chrome: z.string().nullable(),
    tfjs: z.string().nullable(),
    zod: z.string().nullable(),
  }),
  platform: z.string(),
  arch: z.string(),
  cores: z.int(),
  memoryBytes: z.number(),
  accelerator: z.object({ kind: z.enum(['cpu', 'gpu']), name: z.string().nullable() }),
  workspace: z.string(),
});

export const PresetInfo = z.object({
  name: PresetName,
  description: z.string(),
  /** Where the paper reports this setting, e.g. 'Table 2 "w/o masking on text"'. */
  paper: z.string(),
  method: z.enum(['standard', 'aimkp']),
  mode: EvalMode,
  /** The preset's full TrainConfig: the form's defaults; runs.start overrides take the same keys. */
  config: JsonObject,
});

export const SplitCounts = z.object({ train: z.int(), valid: z.int(), test: z.int() });
export const DatasetKind = z.enum(['bundled', 'cmkp', 'clipart', 'manifest', 'synthetic']);
export const DatasetSummary = z.object({
  id: DatasetId,
  name: z.string(),
  kind: DatasetKind,
  /** Absolute folder (holds manifest.jsonl). */
  dir: z.string(),
  /** Bundled sets are read-only; their feature cache lives in the workspace. */
  readOnly: z.boolean(),
  items: SplitCounts,
  withImage: z.int(),
  issueCount: z.int(),
  createdAt: IsoTime.nullable(),
  /** How it was made (the command line or import options), when recorded in dataset.json. */
  builtWith: z.string().nullable(),
});

/** The paper's Table 3 row for one split (or all): sizes, lengths, keyphrase counts, vocabulary. */
export const SplitStats = z.object({
  size: z.int(),
  meanTextTokens: z.number(),
  meanKeyphrases: z.number(),
  meanKeyphraseWords: z.number(),
  vocabulary: z.int(),
  /** Share of keyphrases present in their item's text (stemmed contiguous match), fraction. */
  presentShare: z.number(),
  withImage: z.int(),
  skipped: z.int(),
});

export const DataIssue = z.object({
  file: z.string(),
  line: z.int(),
  field: z.string().optional(),
  message: z.string(),
  action: z.enum(['skipped', 'kept']),
  reason: z.string(),
});

/** A keyphrase with whether it occurs in the item's text (present) or not (absent). */
export const MarkedKeyphrase = z.object({ phrase: z.string(), present: z.boolean() });

export const DatasetItem = z.object({
  id: ItemId,
  split: Split,
  text: z.string().nullable(),
  /** A URL the renderer can put in <img src>: a data: URL or a URL of the app / server's media route. null = no image. */
  image: z.string().nullable(),
  keyphrases: z.array(MarkedKeyphrase),
});

const ModeScores = z.object({ mode: EvalMode, split: z.string(), decode: DecodeStrategy, scores: Scores, n: z.int() });

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

export const RunSummary = z.object({
  id: RunId,
  /** Display name (runs.rename); the id (folder) never changes. */
  name: z.string(),
  preset: z.string(),
  method: z.enum(['standard', 'aimkp']),
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
});

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

export const JobSummary = z.object({
  id: JobId,
  kind: JobKind,
  state: JobState,
  runId: RunId.nullable(),
  /** The stream whose events report this job's progress. */
  stream: StreamId,
  /** What the job is, in a few words (e.g. "evaluate test multimodal+text, greedy"). */
  label: z.string(),
  createdAt: IsoTime,
  startedAt: IsoTime.nullable(),
  endedAt: IsoTime.nullable(),
  /** Position in the queue (0 = next) while queued. */
  queuePosition: z.int().nullable(),
  error: ApiErrorShape.nullable(),
});

/** The answer to every command that starts long work. */
export const JobStarted = z.object({ jobId: JobId, stream: StreamId });

export const Settings = z.object({
  /** Folder with runs/, datasets/, cache/ and the job registry. Changing it takes effect for new work at once. */
  workspace: z.string(),
  backend: Backend,
  /** Jobs running at the same time (default 1 on CPU). */
  concurrency: z.int().min(1).max(16),
});

const PredictedPhrase = z.object({ phrase: z.string(), hit: z.boolean() });
const CaseSide = z.object({
  /** First repeat's predictions in order, each marked whether it matches a gold keyphrase. */
  predictions: z.array(PredictedPhrase),
  /** Per-case AimKP scores averaged over repeats, fractions. */
  'f1@1': z.number(),
  'f1@3': z.number(),
  ap: z.number(),
});
export const CompareCase = z.object({
  id: ItemId,
  /** 0-based position in the split (stable; a link to a case uses id). */
  index: z.int(),
  text: z.string().nullable(),
  image: z.string().nullable(),
  gold: z.array(MarkedKeyphrase),
  baseline: CaseSide,
  other: CaseSide,
  /** other F1@3 − baseline F1@3. */
  diff: z.number(),
  /** From the other run's side: win = other better. */
  outcome: z.enum(['win', 'loss', 'tie']),
});

export const ReportStat = z.object({
  n: z.int(),
  mean: z.number(),
  std: z.number().nullable(),
  values: z.array(z.number()),
});
export const ReportGroup = z.object({
  preset: z.string(),
  runs: z.array(z.string()),
  seeds: z.array(z.int().nullable()),
  /** mode → metric → mean ± std in percent (×100). */
  cells: z.partialRecord(EvalMode, z.partialRecord(ReportMetric, ReportStat)),
});

// ---- the image input of predict.case -----------------------------------------------------------------------

const ImageDataUrl = z
  .string()
  .max(LIMITS.maxImageDataUrlChars)
  .regex(
    /^data:image\/(png|jpeg|webp|gif|bmp);base64,[A-Za-z0-9+/]+=*$/,
    'an image as a base64 data: URL (png, jpeg, webp, gif or bmp)',
  );

export const PredictInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('item'), dataset: DatasetId, itemId: ItemId }),
  z.strictObject({
    kind: z.literal('upload'),
    image: ImageDataUrl.nullable(),
    text: z.string().max(LIMITS.maxTextChars).nullable(),
  }),
]);

// ---- data-set import sources -------------------------------------------------------------------------------

export const ImportSource = z.discriminatedUnion('kind', [
  /** CMKP release files: one *_src.txt per split, with optional OCR / attribute files and an image folder. */
  z.strictObject({
    kind: z.literal('cmkp'),
    files: z
      .array(
        z.strictObject({
          src: UserPath,
          split: Split.optional(),
          ocr: UserPath.optional(),
          attributes: UserPath.optional(),
        }),
      )
      .min(1)
      .max(3),
    images: UserPath.optional(),
  }),
  /** Build ClipArt-KP from a folder of Openclipart SVGs. */
  z.strictObject({
    kind: z.literal('clipart'),
    source: UserPath.optional(),
    size: z.int().min(32).max(1024).optional(),
  }),
  /** A folder that already holds manifest.jsonl (+ images/): registered and checked, copied when `copy`. */
  z.strictObject({ kind: z.literal('manifest'), dir: UserPath, copy: z.boolean().default(false) }),
  /** The synthetic set (known signal; used by the tests). */
  z.strictObject({
    kind: z.literal('synthetic'),
    items: z.int().min(3).max(100_000),
    seed: Seed.default(1),
    noise: z.number().min(0).max(1).optional(),
    misaligned: z.number().min(0).max(1).optional(),
    missingImage: z.number().min(0).max(1).optional(),
    missingText: z.number().min(0).max(1).optional(),
  }),
]);

const RobustnessOptions = z.strictObject({
  ratios: z.array(z.number().min(0).max(1)).max(20).optional(),
  strides: z.array(z.int().min(1).max(64)).max(20).optional(),
  sigmas: z.array(z.number().min(0).max(100)).max(20).optional(),
  pattern: z.enum(['random', 'structured']).optional(),
  seed: Seed.optional(),
});

// ---- the service ------------------------------------------------------------------------------------------

function command<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, doc: string) {
  return { request, response, doc };
}

export const SERVICE = {
  commands: {
    'system.info': command(Empty, SystemInfo, 'Backend, versions, cores, accelerator, workspace.'),

    'presets.list': command(
      Empty,
      z.object({ presets: z.array(PresetInfo) }),
      'Every training preset with description, paper reference and defaults.',
    ),

    'datasets.list': command(
      Empty,
      z.object({ datasets: z.array(DatasetSummary) }),
      'The bundled and imported data sets.',
    ),
    'datasets.import': command(
      z.strictObject({ name: z.string().min(1).max(100), source: ImportSource }),
      JobStarted.extend({ datasetId: DatasetId }),
      'Imports or builds a data set as a job; progress on the returned stream, the set appears in datasets.list when done.',
    ),
    'datasets.stats': command(
      z.strictObject({ id: DatasetId }),
      z.object({
        id: DatasetId,
        stats: z.object({ train: SplitStats, valid: SplitStats, test: SplitStats, all: SplitStats }),
      }),
      "The paper's Table 3 numbers per split.",
    ),
    'datasets.items': command(
      z.strictObject({
        id: DatasetId,
        split: Split.optional(),
        search: z.string().max(200).optional(),
        offset: Offset,
        limit: pageLimit(50, 200),
      }),
      z.object({ total: z.int(), offset: z.int(), items: z.array(DatasetItem) }),
      'A page of items (image URL, text, keyphrases marked present / absent); search matches text and keyphrases.',
    ),
    'datasets.issues': command(
      z.strictObject({ id: DatasetId, offset: Offset, limit: pageLimit(100) }),
      z.object({ total: z.int(), offset: z.int(), issues: z.array(DataIssue) }),
      'Problems found loading the set: file, line, field, reason, skipped or kept.',
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
        metrics: z.array(
          ModeScores.extend({ decodeSettings: DecodeSettings.nullable(), createdAt: IsoTime.nullable() }),
        ),
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
        split: z.enum(['valid', 'test']).default('test'),
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
        split: z.enum(['valid', 'test']).default('test'),
        options: RobustnessOptions.default({}),
      }),
      JobStarted,
      'Runs the robustness suite (masking, strides, removal, swaps, noise) as a job; the report lands in runs.get robustness.',
    ),

    'compare.cases': command(
      z.strictObject({
        baseline: RunId,
        other: RunId,
        mode: EvalMode.default('multimodal'),
        split: z.enum(['valid', 'test']).default('test'),
        decode: DecodeStrategy.default('greedy'),
        filter: z.enum(['all', 'wins', 'losses', 'ties']).default('all'),
        search: z.string().max(200).optional(),
        sort: z.enum(['index', 'diff-desc', 'diff-asc', 'baseline-desc', 'other-desc']).default('index'),
        offset: Offset,
        limit: pageLimit(50),
      }),
      z.object({
        summary: z.object({
          common: z.int(),
          wins: z.int(),
          losses: z.int(),
          ties: z.int(),
          meanF1at3Baseline: z.number(),
          meanF1at3Other: z.number(),
          onlyInBaseline: z.int(),
          onlyInOther: z.int(),
          goldMismatch: z.int(),
        }),
        /** Cases after filter and search (what offset / limit page through). */
        total: z.int(),
        offset: z.int(),
        cases: z.array(CompareCase),
      }),
      "Both runs' predictions case by case (needs both evaluated with that split / mode / decode); wins = the other run better.",
    ),

    'report.table': command(
      z.strictObject({
        runs: z.array(RunId).max(1000).optional(),
        split: z.enum(['valid', 'test']).default('test'),
        decode: DecodeStrategy.default('beam-sample'),
        modes: z.array(EvalMode).min(1).max(3).default(['multimodal', 'text', 'image']),
        convention: Convention.default('aimkp'),
        format: z.enum(['md', 'csv', 'latex']).default('md'),
      }),
      z.object({ groups: z.array(ReportGroup), text: z.string(), format: z.enum(['md', 'csv', 'latex']) }),
      'Mean ± std over seeds by preset, and the same table as Markdown, CSV or LaTeX text.',
    ),

    'predict.case': command(
      z.strictObject({
        runIds: z.array(RunId).min(1).max(LIMITS.maxPredictRuns),
        input: PredictInput,
        mode: EvalMode.optional(),
        decode: DecodeRequest.default({ strategy: 'greedy' }),
        /** Also each robustness condition of the suite applied to this case (greedy). */
        conditions: z.boolean().default(false),
      }),
      z.object({
        /** Gold keyphrases when the input is a data-set item. */
        gold: z.array(z.string()).nullable(),
        /** The item whose image / text the swap conditions used (the next item of the split with an image). */
        donor: z.object({ itemId: ItemId }).nullable().optional(),
        results: z.array(
          z.object({
            runId: RunId,
            mode: EvalMode,
            keyphrases: z.array(z.string()),
            ms: z.number(),
            error: ApiErrorShape.nullable(),
            /** With `conditions`: per condition the keyphrases, and with gold their hits and F1@3 (AimKP convention). */
            conditions: z
              .array(
                z.object({
                  name: z.string(),
                  family: z.string(),
                  mode: EvalMode,
                  keyphrases: z.array(z.string()),
                  hits: z.array(z.boolean()).nullable(),
                  f1at3: z.number().nullable(),
                }),
              )
              .optional(),
          }),
        ),
      }),
      "Each chosen run's keyphrases for one image + text (uploaded, or a data-set item), with the time each took; with `conditions`, also under each robustness condition.",
    ),

    'settings.get': command(Empty, Settings, 'Workspace folder, backend, concurrency.'),
    'settings.set': command(
      z.strictObject({
        workspace: UserPath.optional(),
        backend: Backend.optional(),
        concurrency: z.int().min(1).max(16).optional(),
      }),
      Settings,
      'Changes settings (omitted fields stay); answers the settings now in force.',
    ),

    'jobs.list': command(
      z.strictObject({ state: JobState.optional() }),
      z.object({ jobs: z.array(JobSummary) }),
      'Queued, running and finished jobs.',
    ),
    'jobs.cancel': command(
      z.strictObject({ id: JobId }),
      z.object({ job: JobSummary }),
      'Cancels a queued job or stops a running one at a step boundary.',
    ),
  },
  subscriptions: {
    'events.subscribe': {
      request: SubscribeRequest,
      batch: EventBatch,
      doc: 'Event batches of one stream (from sinceSeq) or of all streams.',
    },
  },
  event: ServiceEventSchema,
} as const;

export type Service = typeof SERVICE;
export type CommandName = keyof Service['commands'];
export type SubscriptionName = keyof Service['subscriptions'];
/** What a client sends (defaults may be omitted). */
export type CommandRequest<C extends CommandName> = z.input<Service['commands'][C]['request']>;
/** What a handler receives: the request after validation, defaults applied. */
export type CommandArgs<C extends CommandName> = z.output<Service['commands'][C]['request']>;
export type CommandResponse<C extends CommandName> = z.output<Service['commands'][C]['response']>;
export type SubscriptionRequest<S extends SubscriptionName> = z.input<Service['subscriptions'][S]['request']>;
export type SubscriptionArgs<S extends SubscriptionName> = z.output<Service['subscriptions'][S]['request']>;
export type SubscriptionBatch<S extends SubscriptionName> = z.output<Service['subscriptions'][S]['batch']>;

export const COMMAND_NAMES = Object.keys(SERVICE.commands) as CommandName[];
export const SUBSCRIPTION_NAMES = Object.keys(SERVICE.subscriptions) as SubscriptionName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(SERVICE.commands, name);
}
export function isSubscriptionName(name: unknown): name is SubscriptionName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(SERVICE.subscriptions, name);
}

export type RunSummary = z.infer<typeof RunSummary>;
export type JobSummary = z.infer<typeof JobSummary>;
export type DatasetSummary = z.infer<typeof DatasetSummary>;
export type PresetInfo = z.infer<typeof PresetInfo>;
export type SystemInfo = z.infer<typeof SystemInfo>;
export type Settings = z.infer<typeof Settings>;
export type CompareCase = z.infer<typeof CompareCase>;
export type DatasetItem = z.infer<typeof DatasetItem>;
export type ImportSource = z.input<typeof ImportSource>;
