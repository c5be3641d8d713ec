// The non-training tasks a worker runs (evaluate, robustness, predict, data-set import), registered by name into
// worker-tasks.ts TASKS. Their params are built by electron/service/ from requests the contract has validated;
// they hold absolute folders of the workspace, never ids to resolve here.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '../../models/core-error';
import { loadDataset } from '../../models/data/load-dataset';
import { datasetStats } from '../../models/data/dataset-stats';
import { systemInfo } from '../../models/api/system';
import { importClipart, importCmkpFiles, importManifestFolder, importSynthetic } from '../../models/api/datasets';
import type { Split } from '../../models/data/manifest-types';
import type { EvalMode } from '../../models/lm/contract';
import { evaluateRun } from '../../models/evaluate/evaluate-run';
import { runRobustness } from '../../models/evaluate/robustness-run';
import { Predictor, type ConditionPrediction } from '../../models/evaluate/predict-case';
import type { DecodeRequest } from '../../models/evaluate/decode-request';
import { registerTask, type TaskContext } from './worker-tasks';
import type { JsonValue, ProgressEvent } from '../../shared/training-events';

export interface EvaluateTaskParams {
  runDir: string;
  split: 'valid' | 'test';
  modes: EvalMode[];
  decode: DecodeRequest;
  checkpoint: 'best' | 'last';
}

export interface RobustnessTaskParams {
  runDir: string;
  split: 'valid' | 'test';
  suite: { ratios?: number[]; strides?: number[]; sigmas?: number[]; pattern?: 'random' | 'spread'; seed?: number };
}

export interface PredictTaskParams {
  runs: { runId: string; runDir: string }[];
  /** An item of a data set (image path absolute), or uploaded bytes as base64. */
  input: { imagePath: string | null; imageBase64: string | null; text: string };
  mode?: EvalMode;
  decode: DecodeRequest;
  /** Also the robustness conditions applied to this case (greedy); `donor` is the case whose image / text the swaps use. */
  conditions?: boolean;
  donor?: { imagePath: string | null; text: string } | null;
}

export interface PredictTaskResult {
  results: {
    runId: string;
    mode: EvalMode;
    keyphrases: string[];
    ms: number;
    error: { code: string; message: string } | null;
    conditions?: ConditionPrediction[];
  }[];
}

export type ImportTaskSource =
  | {
      kind: 'synthetic';
      items: number;
      seed: number;
      noise?: number;
      misaligned?: number;
      missingImage?: number;
      missingText?: number;
    }
  | { kind: 'manifest'; dir: string; copy: boolean }
  | { kind: 'cmkp'; files: { src: string; split?: Split; ocr?: string; attributes?: string }[]; images?: string }
  | { kind: 'clipart'; source?: string; size?: number };

export interface ImportTaskParams {
  /** The new data set's folder in the workspace (datasets/<id>). */
  out: string;
  name: string;
  source: ImportTaskSource;
}

/** datasets/<id>/link.json: a registered folder that stays where it is (manifest import without copy). */
export const DATASET_LINK_FILE = 'link.json';

let registered = false;

export function registerServiceTasks(): void {
  if (registered) return;
  registered = true;
  registerTask('evaluate', (p, ctx) => evaluateTask(p as unknown as EvaluateTaskParams, ctx));
  registerTask('robustness', (p, ctx) => robustnessTask(p as unknown as RobustnessTaskParams, ctx));
  registerTask('predict', (p, ctx) => predictTask(p as unknown as PredictTaskParams, ctx));
  registerTask('import', (p, ctx) => importTask(p as unknown as ImportTaskParams, ctx));
  // The data-set registry's loads (seconds of parsing and stemming for ClipArt-KP): kept off the main thread.
  registerTask('dataset-load', async (p) => {
    const dir = (p as { dir?: unknown }).dir;
    if (typeof dir !== 'string')
      throw new CoreError('BAD_INPUT', 'dataset-load: params.dir must be a folder path', { field: 'dir' });
    const loaded = await loadDataset(dir, { checkImages: false });
    return JSON.parse(JSON.stringify({ loaded, stats: datasetStats(loaded.items, loaded.summary) })) as JsonValue;
  });
  registerTask('probe', async (_p, ctx) => {
    const info = await systemInfo(ctx.backend);
    return {
      name: info.backend.name,
      picked: info.backend.picked,
      description: info.backend.description,
      tfjs: info.versions.tfjs,
    };
  });
}

const toProgress = (ctx: TaskContext) => (e: ProgressEvent) =>
  ctx.progress({ phase: e.phase, done: e.done, total: e.total, unit: e.unit, message: e.message });

async function evaluateTask(p: EvaluateTaskParams, ctx: TaskContext): Promise<JsonValue> {
  const result = await evaluateRun({
    runDir: p.runDir,
    split: p.split,
    modes: p.modes,
    decode: p.decode,
    which: p.checkpoint,
    cacheDir: ctx.cacheDir,
    backend: ctx.backend,
    signal: ctx.signal,
    onProgress: toProgress(ctx),
    log: ctx.log,
  });
  return JSON.parse(JSON.stringify(result)) as JsonValue;
}

async function robustnessTask(p: RobustnessTaskParams, ctx: TaskContext): Promise<JsonValue> {
  const result = await runRobustness({
    runDir: p.runDir,
    split: p.split,
    suite: p.suite,
    cacheDir: ctx.cacheDir,
    backend: ctx.backend,
    signal: ctx.signal,
    onProgress: toProgress(ctx),
    log: ctx.log,
  });
  return { file: result.file, conditions: result.report.conditions.length };
}

/** Where a prediction gets a run's loaded model: opened per call (a job) or kept loaded (the predict server). */
export interface PredictorSource {
  get(runDir: string): Promise<Predictor>;
  release(p: Predictor): void;
}

export function oneShotPredictors(ctx: {
  backend: TaskContext['backend'];
  log: (line: string) => void;
}): PredictorSource {
  return {
    get: (runDir) => Predictor.open(runDir, { backend: ctx.backend, log: ctx.log }),
    release: (p) => p.dispose(),
  };
}

/** Each run's keyphrases for one case; a run that fails gets its error, the others still answer. */
export async function predictRuns(
  p: PredictTaskParams,
  signal: AbortSignal | undefined,
  source: PredictorSource,
): Promise<PredictTaskResult> {
  const image =
    p.input.imagePath !== null
      ? { path: p.input.imagePath }
      : p.input.imageBase64 !== null
        ? { bytes: new Uint8Array(Buffer.from(p.input.imageBase64, 'base64')) }
        : null;
  const out: PredictTaskResult = { results: [] };
  for (const run of p.runs) {
    const t0 = performance.now();
    let predictor: Predictor | null = null;
    try {
      predictor = await source.get(run.runDir);
      const r = await predictor.predict({ image, text: p.input.text, mode: p.mode, decode: p.decode }, signal);
      const conditions = p.conditions
        ? await predictor.predictConditions(
            { image, text: p.input.text },
            p.donor
              ? { image: p.donor.imagePath === null ? null : { path: p.donor.imagePath }, text: p.donor.text }
              : null,
            signal,
          )
        : undefined;
      out.results.push({
        runId: run.runId,
        mode: r.mode,
        keyphrases: r.keyphrases[0] ?? [],
        ms: r.ms,
        error: null,
        ...(conditions ? { conditions } : {}),
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      out.results.push({
        runId: run.runId,
        mode: p.mode ?? 'multimodal',
        keyphrases: [],
        ms: performance.now() - t0,
        error: { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: e.message ?? String(err) },
      });
    } finally {
      if (predictor) source.release(predictor);
    }
  }
  return out;
}

async function predictTask(p: PredictTaskParams, ctx: TaskContext): Promise<JsonValue> {
  return (await predictRuns(p, ctx.signal, oneShotPredictors(ctx))) as unknown as JsonValue;
}

async function importTask(p: ImportTaskParams, ctx: TaskContext): Promise<JsonValue> {
  const s = p.source;
  ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: `importing ${p.name} (${s.kind})` });
  if (existsSync(p.out))
    throw new CoreError('ALREADY_EXISTS', `${p.out}: a data set with this id already exists; choose another name`, {
      path: p.out,
    });
  let dir = p.out;
  try {
    switch (s.kind) {
      case 'synthetic':
        await importSynthetic({
          n: s.items,
          seed: s.seed,
          out: p.out,
          noise: s.noise,
          misaligned: s.misaligned,
          missingImage: s.missingImage,
          missingText: s.missingText,
        });
        break;
      case 'manifest':
        if (s.copy)
          await importManifestFolder({ source: s.dir, out: p.out, signal: ctx.signal, onProgress: toProgress(ctx) });
        else {
          await importManifestFolder({ source: s.dir, out: null, signal: ctx.signal, onProgress: toProgress(ctx) });
          await mkdir(p.out, { recursive: true });
          await writeFile(join(p.out, DATASET_LINK_FILE), JSON.stringify({ dir: s.dir, name: p.name }, null, 2) + '\n');
          dir = s.dir;
        }
        break;
      case 'cmkp':
        for (const f of s.files) {
          if (ctx.checkStop()) throw new CoreError('ABORTED', 'import: stopped by request');
          await importCmkpFiles({
            src: f.src,
            split: f.split,
            ocr: f.ocr,
            attributes: f.attributes,
            images: s.images,
            out: p.out,
          });
        }
        break;
      case 'clipart':
        await importClipart({ source: s.source, out: p.out, size: s.size, log: ctx.log });
        break;
    }
    ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: 'checking the data set' });
    const loaded = await loadDataset(dir, { checkImages: false });
    return { dir, items: loaded.items.length, skipped: loaded.summary.skipped, issues: loaded.issues.length };
  } catch (err) {
    // Nothing half-built stays behind: the id can be used again.
    await rm(p.out, { recursive: true, force: true });
    throw err;
  }
}
