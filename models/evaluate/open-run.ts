// Opens a trained run for decoding: the model from its checkpoint, the tokenizer, and the split encoded
// exactly as the trainer encodes it (models/train/data-prep.ts encodeItems: same text cut, same features).
import { basename } from 'node:path';
import type { KeyphraseLM } from '../lm/contract';
import type { Split } from '../data/manifest-types';
import { loadDataset } from '../data/load-dataset';
import { formatIssues } from '../data/data-issue';
import type { Tokenizer } from '../text/tokenizer-types';
import { loadRunForInference } from '../run/run-loader';
import { validateTrainStateOfRun } from '../train/checkpoint-parts';
import { encodeItems } from '../train/data-prep';
import { encodeImages, type EncodeProgress } from '../vision/feature-cache';
import { encodeImagesParallel } from '../parallel/parallel-encode';
import { Replicas } from '../parallel/replicas';
import { resolveWorkers } from '../parallel/worker-count';
import { loadImageEncoder } from '../vision/load-image-encoder';
import { CoreError } from '../core-error';
import { describeBackend, initBackend, type BackendRequest } from '../tf/backend';
import type { EncodedSplit } from './encoded-split';
import type { JobProgress } from '../job-progress';

export type Which = 'best' | 'last';

export interface OpenedRun {
  model: KeyphraseLM;
  tokenizer: Tokenizer;
  /** The run's answer room: decoding more new tokens than this would cut post texts (see clampMaxNew). */
  maxAnswerTokens: number;
  maxTextTokens: number;
  encoderSpec: string;
  /** Data-set folder recorded in config.json (the default of --data). */
  dataDir: string | null;
  backend: string;
  /** Which checkpoint was loaded, for the metrics file: "best (epoch 1, step 16)", "previous (epoch 0, step 8)". */
  checkpoint: string;
  /** Set when the checkpoint asked for was not usable: which one was read instead and why (one line). */
  checkpointFallback: string | null;
}

export async function openRun(
  runDir: string,
  which: Which,
  log: (line: string) => void,
  backendRequest?: BackendRequest,
): Promise<OpenedRun> {
  const info = await initBackend(backendRequest);
  // The trainer's check of state.json's meaning, besides the manifest's of the bytes.
  const loaded = await loadRunForInference(runDir, which, { validateState: validateTrainStateOfRun });
  const c = loaded.config;
  const backend = describeBackend(info);
  const ck = loaded.checkpoint;
  // The folder actually read: "previous" when `last` was corrupt (said, as resume says it).
  const used = basename(ck.name);
  if (ck.fallback !== null) log(`warning: ${ck.fallback}`);
  log(
    `aimkp: ${runDir}: preset ${c.preset}, ${used} checkpoint (epoch ${ck.epoch}, step ${ck.globalStep})${ck.fallback === null ? '' : `, not ${which}: it is corrupt`}; ${backend}`,
  );
  return {
    model: loaded.model,
    tokenizer: loaded.tokenizer,
    maxAnswerTokens: c.maxAnswerTokens,
    maxTextTokens: c.maxTextTokens,
    encoderSpec: loaded.encoderSpec,
    dataDir: typeof c.dataDir === 'string' ? c.dataDir : null,
    backend,
    checkpoint: `${used} (epoch ${ck.epoch}, step ${ck.globalStep})`,
    checkpointFallback: ck.fallback,
  };
}

/**
 * The LM's position table holds prompt + image + maxTextTokens + instruction + maxAnswerTokens slots; asking
 * for more new tokens than maxAnswerTokens makes the LM cut the post text to make room. Answers were trained
 * at ≤ maxAnswerTokens, so the effective budget is capped there (said once on stderr).
 */
export function clampMaxNew(requested: number, run: OpenedRun, log: (line: string) => void): number {
  if (requested <= run.maxAnswerTokens) return requested;
  log(
    `note: --max-new ${requested} capped at the run's answer length ${run.maxAnswerTokens} (training answers are at most that long; more would cut post texts to fit the position table)`,
  );
  return run.maxAnswerTokens;
}

export interface EncodeSplitOptions {
  /** Only the first N items. */
  limit?: number;
  /** Image feature cache (default <dataDir>/.cache). */
  cacheDir?: string;
  log?: (line: string) => void;
  /** Stops encoding within one image (CoreError 'ABORTED'). */
  signal?: AbortSignal;
  /** Receives the 'encoding' phase with images done / total. */
  progress?: JobProgress;
  /** Data-parallel workers: each rank encodes a share of the images (same features, same order). */
  replicas?: Replicas | null;
}

/** Loads and encodes a split for `run` (images through the feature cache, default DATA/.cache; failed images → item skipped). */
export async function encodeRunSplit(
  run: OpenedRun,
  dataDir: string,
  split: Split,
  o: EncodeSplitOptions = {},
): Promise<EncodedSplit> {
  const log = o.log ?? (() => undefined);
  const limit = o.limit;
  const ds = await loadDataset(dataDir, { splits: [split], checkImages: false });
  if (ds.issues.length > 0) log(formatIssues(ds.issues));
  let items = ds.items;
  if (limit !== undefined && limit >= 0) items = items.slice(0, limit);
  if (items.length === 0) throw new CoreError('BAD_INPUT', `${dataDir}: the ${split} split has no usable items`);
  let features: ReadonlyMap<string, Float32Array | null> = new Map();
  const failed = new Set<string>();
  if (items.some((it) => it.image !== null)) {
    const encoder = await loadImageEncoder(run.encoderSpec);
    try {
      o.progress?.phase('encoding', `encoding ${split} images`, items.length, 'images');
      const encodeOptions = {
        cacheDir: o.cacheDir,
        signal: o.signal,
        onProgress: (p: EncodeProgress) =>
          o.progress?.update(p.done, '', { cached: p.cached, computed: p.computed, failed: p.failed }),
      };
      const map = o.replicas
        ? await encodeImagesParallel(o.replicas, encoder, run.encoderSpec, dataDir, items, encodeOptions)
        : await encodeImages(encoder, dataDir, items, encodeOptions);
      for (const w of map.warnings) log(`warning: ${w}`);
      for (const i of map.issues) {
        log(`${dataDir}: item ${i.id}: image ${i.image} could not be encoded (${i.reason}); skipped`);
        failed.add(i.id);
      }
      features = map;
    } finally {
      encoder.dispose();
    }
  }
  const kept = items.filter((it) => !failed.has(it.id));
  // encodeItems also builds answers; decoding ignores them (predict clears them).
  const examples = encodeItems(kept, run.tokenizer, features, {
    maxTextTokens: run.maxTextTokens,
    maxAnswerTokens: run.maxAnswerTokens,
  });
  return {
    examples,
    gold: kept.map((it) => it.keyphrases),
    texts: kept.map((it) => it.text),
    skipped: ds.summary.skipped + failed.size,
  };
}

/**
 * The data-parallel workers of an evaluation job (K from `workers`, else AIMKP_WORKERS, else the cores), started on
 * the backend the run was opened with; null for K = 1. The caller closes them.
 */
export async function startEvalWorkers(
  workers: number | undefined,
  backend?: BackendRequest,
): Promise<Replicas | null> {
  const k = resolveWorkers(workers);
  if (k < 2) return null;
  const info = await initBackend(backend);
  return Replicas.start(k, info.picked);
}

/** Gives the workers the run's model and the encoded split (example set `split`; features then held once). */
export async function shareRunSplit(replicas: Replicas, run: OpenedRun, data: EncodedSplit): Promise<void> {
  await replicas.setModel(run.model, 0);
  await replicas.shareExamples(SPLIT_SET, data.examples, true);
}

/** The example set name the workers hold an evaluation's split under. */
export const SPLIT_SET = 'split';
