// Decoding a run on a data-set split: `predictSplit` (one mode → a predictions file) and `evaluateRun` (the
// paper's three modes → predictions + metrics files, both conventions). The CLI commands `aimkp predict` and
// `aimkp eval --run` and the workbench's evaluation jobs call these; options in, JSON-safe result out.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Split } from '../data/manifest-types';
import type { EvalMode } from '../lm/contract';
import type { BackendRequest } from '../tf/backend';
import { CoreError } from '../core-error';
import { absolutePath, optionalAbsolutePath } from '../paths';
import { throwIfAborted } from '../abort';
import { acquireRunLock } from '../run/run-lock';
import { resolveDecode, type DecodeRequest } from './decode-request';
import type { DecodeSettings } from './decode-settings';
import type { EncodedSplit } from './encoded-split';
import { JobProgress, withJobProgress, type JobOptions } from '../job-progress';
import { buildMetricsFile, writeMetricsFile, type MetricsFile } from './metrics-file';
import {
  clampMaxNew,
  encodeRunSplit,
  openRun,
  shareRunSplit,
  SPLIT_SET,
  startEvalWorkers,
  type OpenedRun,
  type Which,
} from './open-run';
import type { Replicas } from '../parallel/replicas';
import { predictExamples } from './predict-run';
import { keepTextTokens, textStridePositions } from './perturb';
import {
  formatPredictionIssues,
  readPredictionFile,
  writePredictionFile,
  type PredictionRecord,
} from './prediction-file';
import { EVAL_MODES, metricsPath, predictionsPath, splitOption, whichOption } from './run-paths';
import { scoreRepeats, type RepeatScores } from './score-predictions';

/** What decoding a split of a run needs. Paths are absolute. */
export interface RunSplitOptions extends JobOptions {
  runDir: string;
  /** Default: the data set recorded in the run's config.json. */
  dataDir?: string;
  /** Default 'test'. */
  split?: Split;
  /** Checkpoint: 'best' (default) or 'last'. */
  which?: Which;
  /** Only the first N items of the split. */
  limit?: number;
  /** Items per generate() call (default 8). */
  batchSize?: number;
  /** Image feature cache (default <dataDir>/.cache; the app passes a folder in its workspace). */
  cacheDir?: string;
  /** Default: the paper's test setting (beam-sample, beam 5, T 0.5, 40 new tokens, 3 repeats). */
  decode?: DecodeRequest;
  backend?: BackendRequest;
  /** Data-parallel ranks (this thread + K-1 workers) for encoding and decoding; default AIMKP_WORKERS, else the cores. */
  workers?: number;
}

export interface PredictSplitOptions extends RunSplitOptions {
  /** Default 'multimodal'. */
  mode?: EvalMode;
  /** Predictions file to write (absolute); default RUN/predictions/<split>.<mode>.<decode>.jsonl. */
  out?: string;
  /**
   * Keep only the text tokens the training-time structured text mask at this stride keeps (the last of each window
   * of s; the last token when s exceeds the text): the robustness suite's text-stride@s, as a predictions file.
   * Hides most of the text without the prompt-format change of mode 'image'. Default: the whole text.
   */
  textStride?: number;
}

export interface PredictSplitResult {
  run: string;
  split: Split;
  mode: EvalMode;
  /** The predictions file written. */
  file: string;
  items: number;
  /** Items left out (bad manifest lines, images that failed to encode). */
  skipped: number;
  decoding: DecodeSettings;
  checkpoint: string;
  scores: RepeatScores;
}

export interface EvaluateRunOptions extends RunSplitOptions {
  /** Default: multimodal, text, image. */
  modes?: EvalMode[];
  /** Score an existing predictions file of a mode instead of decoding it again. */
  reuse?: boolean;
  /** The caller already holds the run's writer lock (models/run/run-lock.ts); evaluation does not take it. */
  lockHeldByCaller?: boolean;
  /** Who the run lock names as its holder (default "aimkp eval"; the workbench: "aimkp serve (job <id>)"). */
  lockCommand?: string;
}

export interface EvaluateRunResult {
  run: string;
  split: Split;
  decoding: DecodeSettings;
  /** One per mode, as written to RUN/metrics/<split>.<mode>.<decode>.json. */
  metrics: MetricsFile[];
  /** Items of the split left out when it was decoded (bad manifest lines, images that failed to encode); 0 when every mode reused its file. */
  skipped: number;
}

interface RunSplitSettings {
  runDir: string;
  dataDir: string | undefined;
  cacheDir: string | undefined;
  split: Split;
  which: Which;
  batchSize: number;
  decoding: DecodeSettings;
  log: (line: string) => void;
}

function checkRunSplit(o: RunSplitOptions): RunSplitSettings {
  const batchSize = o.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new CoreError('BAD_INPUT', `batchSize must be an integer >= 1, got ${batchSize}`, { field: 'batchSize' });
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1))
    throw new CoreError('BAD_INPUT', `limit must be an integer >= 1, got ${o.limit}`, { field: 'limit' });
  const runDir = absolutePath(o.runDir, 'runDir');
  if (!existsSync(runDir)) throw new CoreError('NOT_FOUND', `run folder "${runDir}" does not exist`, { path: runDir });
  return {
    runDir,
    dataDir: optionalAbsolutePath(o.dataDir, 'dataDir'),
    cacheDir: optionalAbsolutePath(o.cacheDir, 'cacheDir'),
    split: splitOption(o.split),
    which: whichOption(o.which),
    batchSize,
    decoding: resolveDecode(o.decode),
    log: o.log ?? (() => undefined),
  };
}

interface OpenedSplit {
  run: OpenedRun;
  data: EncodedSplit;
  /** The data-parallel workers holding the model and the split (null: this thread only). */
  replicas: Replicas | null;
}

/** Opens the run and encodes the split (phases preparing, encoding). The caller calls closeSplit(). */
async function openAndEncode(
  c: RunSplitSettings,
  o: RunSplitOptions,
  progress: JobProgress,
  textStride = 1,
): Promise<OpenedSplit> {
  progress.phase('preparing', `opening ${basename(c.runDir)} (${c.which} checkpoint)`);
  const run = await openRun(c.runDir, c.which, c.log, o.backend);
  let replicas: Replicas | null = null;
  try {
    replicas = await startEvalWorkers(o.workers, o.backend);
    c.decoding.maxNewTokens = clampMaxNew(c.decoding.maxNewTokens, run, c.log);
    const dataDir = c.dataDir ?? run.dataDir;
    if (dataDir === null)
      throw new CoreError('BAD_INPUT', `${c.runDir}: its config.json does not name its data set; give dataDir`, {
        field: 'dataDir',
      });
    const data = await encodeRunSplit(run, dataDir, c.split, {
      limit: o.limit,
      cacheDir: c.cacheDir,
      log: c.log,
      signal: o.signal,
      progress,
      replicas,
    });
    // Before the split goes to the workers, so every rank decodes the same masked texts.
    if (textStride > 1)
      data.examples = data.examples.map((e) => ({
        ...e,
        text: keepTextTokens(e.text, textStridePositions(e.text.length, textStride)),
      }));
    if (replicas) await shareRunSplit(replicas, run, data);
    return { run, data, replicas };
  } catch (err) {
    await closeSplit({ run, replicas });
    throw err;
  }
}

async function closeSplit(o: Pick<OpenedSplit, 'run' | 'replicas'>): Promise<void> {
  try {
    await o.replicas?.close();
  } finally {
    o.run.model.dispose();
  }
}

async function decodeMode(
  { run, data, replicas }: OpenedSplit,
  mode: EvalMode,
  c: RunSplitSettings,
  o: RunSplitOptions,
  progress: JobProgress,
  label: string,
): Promise<PredictionRecord[]> {
  progress.phase('predicting', label, data.examples.length * c.decoding.repeats, 'items');
  return predictExamples(run.model, run.tokenizer, data.examples, data.gold, mode, c.decoding, {
    batchSize: c.batchSize,
    signal: o.signal,
    workers: replicas ? { replicas, set: SPLIT_SET } : undefined,
    onBatch: (done, _total, repeat) =>
      progress.update(done, c.decoding.repeats > 1 ? `(repeat ${repeat + 1}/${c.decoding.repeats})` : ''),
  });
}

function checkTextStride(value: number | undefined): number {
  if (value === undefined) return 1;
  if (!Number.isInteger(value) || value < 1)
    throw new CoreError('BAD_INPUT', `textStride must be an integer ≥ 1, got ${String(value)}`, {
      field: 'textStride',
    });
  return value;
}

/** Decodes one mode of a split and writes the predictions file (atomically). */
export async function predictSplit(options: PredictSplitOptions): Promise<PredictSplitResult> {
  const progress = new JobProgress(options.runDir, options.onProgress);
  return withJobProgress(progress, async () => {
    const c = checkRunSplit(options);
    const mode = options.mode ?? 'multimodal';
    if (!EVAL_MODES.includes(mode))
      throw new CoreError('BAD_INPUT', `mode must be one of ${EVAL_MODES.join(', ')}, got "${String(mode)}"`, {
        field: 'mode',
      });
    const out =
      optionalAbsolutePath(options.out, 'out') ?? predictionsPath(c.runDir, c.split, mode, c.decoding.strategy);
    const stride = checkTextStride(options.textStride);
    const opened = await openAndEncode(c, options, progress, stride);
    const { run, data } = opened;
    try {
      const what = `predicting ${c.split} (${mode}${stride > 1 ? `, text stride ${stride}` : ''})`;
      const records = await decodeMode(opened, mode, c, options, progress, what);
      throwIfAborted(options.signal, 'prediction');
      writePredictionFile(out, records);
      const result: PredictSplitResult = {
        run: basename(c.runDir),
        split: c.split,
        mode,
        file: out,
        items: records.length,
        skipped: data.skipped,
        decoding: c.decoding,
        checkpoint: run.checkpoint,
        scores: scoreRepeats(records),
      };
      progress.done(`${records.length} items predicted`);
      return result;
    } finally {
      await closeSplit(opened);
    }
  });
}

/**
 * Evaluates a run in each mode (multimodal; text = image removed from the prompt; image = text removed):
 * decodes the split once per mode (or reuses its predictions file), scores every decoding repeat in both
 * conventions, and writes RUN/predictions and RUN/metrics files. The model and the encoded split are
 * loaded once, and only when some mode needs decoding.
 */
export async function evaluateRun(options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const progress = new JobProgress(options.runDir, options.onProgress);
  return withJobProgress(progress, async () => {
    const c = checkRunSplit(options);
    const modes = options.modes ?? [...EVAL_MODES];
    if (modes.length === 0 || modes.some((m) => !EVAL_MODES.includes(m)))
      throw new CoreError('BAD_INPUT', `modes must be a non-empty list of ${EVAL_MODES.join(', ')}`, {
        field: 'modes',
      });
    let opened: OpenedSplit | null = null;
    let skipped = 0;
    const metrics: MetricsFile[] = [];
    // Evaluation writes RUN/predictions and RUN/metrics: one writer per run (refused while training runs).
    const lock =
      options.lockHeldByCaller === true
        ? null
        : acquireRunLock(c.runDir, { command: options.lockCommand ?? 'aimkp eval' });
    if (lock?.tookOver) c.log(`warning: ${lock.tookOver}`);
    try {
      for (const [i, mode] of modes.entries()) {
        const file = predictionsPath(c.runDir, c.split, mode, c.decoding.strategy);
        let records: PredictionRecord[];
        let checkpoint: string | undefined;
        let checkpointFallback: string | undefined;
        if (options.reuse === true && existsSync(file)) {
          const f = readPredictionFile(file);
          if (f.issues.length > 0) c.log(formatPredictionIssues(f.issues));
          if (f.records.length === 0)
            throw new CoreError('BAD_INPUT', `${file}: no valid prediction lines`, { path: file });
          c.log(`eval: reusing ${file} (${f.records.length} items, ${f.repeats} repeat(s))`);
          records = f.records;
        } else {
          if (opened === null) {
            opened = await openAndEncode(c, options, progress);
            skipped = opened.data.skipped;
          }
          records = await decodeMode(
            opened,
            mode,
            c,
            options,
            progress,
            `evaluating ${c.split}: mode ${mode} (${i + 1}/${modes.length})`,
          );
          throwIfAborted(options.signal, 'evaluation');
          writePredictionFile(file, records);
          checkpoint = opened.run.checkpoint;
          checkpointFallback = opened.run.checkpointFallback ?? undefined;
        }
        progress.phase('evaluating', `scoring ${mode}`);
        const scores = scoreRepeats(records);
        const m = buildMetricsFile(
          {
            run: basename(c.runDir),
            split: c.split,
            mode,
            decoding: { ...c.decoding, repeats: scores.repeats },
            checkpoint,
            checkpointFallback,
            predictions: file,
          },
          scores,
        );
        writeMetricsFile(metricsPath(c.runDir, c.split, mode, c.decoding.strategy), m);
        metrics.push(m);
      }
    } finally {
      try {
        if (opened) await closeSplit(opened);
      } finally {
        lock?.release();
      }
    }
    progress.done(`${modes.length} mode(s) evaluated`);
    return { run: basename(c.runDir), split: c.split, decoding: c.decoding, metrics, skipped };
  });
}
