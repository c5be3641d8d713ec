// Checkpoints on disk (docs/training.md "Run folder", docs/reliability.md "Checkpoint manifests"): a folder
// with model.json + weights.bin (TF.js weights format), optional optimizer.json + optimizer.bin (the optimizer's
// state), state.json, and manifest.json (every other file's size and SHA-256; written last, so its presence
// marks the folder complete). A checkpoint is written into checkpoints/.tmp-<pid>-<n>/ with every file
// fsync'ed, then swapped in by rename. RUN/checkpoints keeps the last two good checkpoints: `last` and
// `previous`; before `last` becomes `previous` it is verified, so a corrupt one never displaces a good one.
// Loading verifies the manifest first and names the file and what is wrong; nothing unverified is decoded.
//
// What the trainer keeps in a checkpoint is opaque here: the optimizer's state is a JSON header plus named
// float32 arrays (models/train/checkpoint-parts.ts makes them from AdamW), state.json is whatever JSON object
// the trainer hands in; this module reads only the fields every reader needs (CheckpointState).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CoreError, fromFsError } from '../core-error';
import { checkRunWriteFence } from './write-fence';
import {
  checksumFiles,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  verifyCheckpointDir,
  type CheckpointManifest,
  type CheckpointVerdict,
} from './checkpoint-manifest';

export const MODEL_FORMAT = 'aimkp-weights-v1';

/**
 * The fields of state.json that the run format itself reads (listings, the manifest, the loader's report).
 * The trainer's state.json has many more (models/train/checkpoint-parts.ts TrainState); they travel as given.
 */
export interface CheckpointState {
  /** 0-based epoch in progress (== epochs once training is complete). */
  epoch: number;
  globalStep: number;
  bestEpoch: number | null;
  bestScore: number | null;
}

/** state.json as read back: the fields above, checked, plus the writer's own fields, unread. */
export type StoredState = CheckpointState & { readonly [field: string]: unknown };

/**
 * An optimizer's state as the format stores it: optimizer.json = `header` + the weights manifest, optimizer.bin =
 * the arrays as 1-D float32 tensors under their names. What the names and the header mean is the trainer's.
 */
export interface OptimizerBlob {
  header: Record<string, unknown>;
  arrays: Map<string, Float32Array>;
}

export interface CheckpointFiles {
  weights: Map<string, tf.Tensor>;
  /** Training checkpoints (`last`) carry the optimizer; best/ does not. */
  optimizer: OptimizerBlob | null;
  /** Written as state.json (JSON). */
  state: CheckpointState;
  /** Free-form info stored as model.json's modelTopology (the LM config). */
  modelInfo: unknown;
}

let tmpCounter = 0;

/** Name of the older of the two kept training checkpoints, beside `last` in RUN/checkpoints. */
export const PREVIOUS_NAME = 'previous';

async function writeSynced(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so the renames in it are durable (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* directories cannot be fsync'ed on some platforms */
  }
}

async function encodeNamed(
  tensors: Map<string, tf.Tensor>,
): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return { data: new Uint8Array(data), specs };
}

/** The bytes of every file of a checkpoint, in writing order (manifest.json comes after them). */
async function checkpointFileBytes(files: CheckpointFiles): Promise<Map<string, Uint8Array | string>> {
  const out = new Map<string, Uint8Array | string>();
  const w = await encodeNamed(files.weights);
  out.set('weights.bin', w.data);
  // "checksummed": a checkpoint with this flag is never loaded without its manifest.
  out.set(
    'model.json',
    JSON.stringify(
      {
        format: MODEL_FORMAT,
        checksummed: true,
        modelTopology: files.modelInfo ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: w.specs }],
      },
      null,
      1,
    ),
  );
  if (files.optimizer) {
    const arrays = new Map<string, tf.Tensor>();
    for (const [name, values] of files.optimizer.arrays) arrays.set(name, tf.tensor1d(values, 'float32'));
    const enc = await encodeNamed(arrays);
    for (const t of arrays.values()) t.dispose();
    out.set('optimizer.bin', enc.data);
    out.set(
      'optimizer.json',
      JSON.stringify({
        ...files.optimizer.header,
        weightsManifest: [{ paths: ['optimizer.bin'], weights: enc.specs }],
      }),
    );
  }
  out.set('state.json', JSON.stringify(files.state));
  return out;
}

export interface WriteCheckpointOptions {
  /**
   * Keep the checkpoint being replaced as `<parent>/previous` (training's `last`): the last two good
   * checkpoints stay on disk. Without it (best/) the old folder is removed once the new one is in place.
   */
  keepPrevious?: boolean;
  /** Told when the checkpoint being replaced failed verification (it is removed, not kept as previous). */
  onDiscard?: (line: string) => void;
}

/**
 * Writes a complete checkpoint folder at `target` (e.g. RUN/checkpoints/last or RUN/best), atomically: at
 * every instant a complete, verifiable checkpoint is on disk. File-system failures (disk full, permission,
 * read-only) become one-line CoreErrors naming `target`; the partial temp folder is removed.
 */
export async function writeCheckpoint(
  target: string,
  files: CheckpointFiles,
  tmpRoot: string,
  options: WriteCheckpointOptions = {},
): Promise<void> {
  checkRunWriteFence('write a checkpoint', target);
  const tmp = join(tmpRoot, `.tmp-${process.pid}-${++tmpCounter}`);
  try {
    await mkdir(tmpRoot, { recursive: true });
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const bytes = await checkpointFileBytes(files);
    for (const [name, data] of bytes) await writeSynced(join(tmp, name), data);
    const manifest: CheckpointManifest = {
      format: MANIFEST_FORMAT,
      createdAt: new Date().toISOString(),
      epoch: files.state.epoch,
      globalStep: files.state.globalStep,
      files: checksumFiles(bytes),
    };
    // manifest.json last: its presence marks the folder complete.
    await writeSynced(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    await syncDir(tmp);

    const parent = dirname(target);
    await mkdir(parent, { recursive: true });
    // Again before anything is swapped in: the fence may have closed while the files were written.
    checkRunWriteFence('swap in a checkpoint', target);
    if (options.keepPrevious === true) {
      const previous = join(parent, PREVIOUS_NAME);
      if (existsSync(target)) {
        const verdict = await verifyCheckpointDir(target);
        if (verdict.ok) {
          // Order matters: `last` stays complete until it is renamed; after that `previous` is.
          await rm(previous, { recursive: true, force: true });
          await rename(target, previous);
        } else {
          options.onDiscard?.(`${verdict.file}: ${verdict.problem}; removed instead of kept as ${PREVIOUS_NAME}`);
          await rm(target, { recursive: true, force: true });
        }
      }
      await rename(tmp, target);
      await syncDir(parent);
      // A leftover of the older single-slot format.
      await rm(join(parent, `.prev-${basename(target)}`), { recursive: true, force: true });
    } else {
      const prev = join(parent, `.prev-${basename(target)}`);
      await rm(prev, { recursive: true, force: true });
      if (existsSync(target)) await rename(target, prev);
      await rename(tmp, target);
      await syncDir(parent);
      await rm(prev, { recursive: true, force: true });
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw fromFsError(
      err,
      'write a checkpoint',
      target,
      'free some disk space (or fix the folder), then continue with --resume; the previous checkpoint is intact',
    );
  }
}

/** Removes leftover temp folders of crashed writes (never the current checkpoints). Call only holding the run lock. */
export async function cleanTempFolders(tmpRoot: string): Promise<string[]> {
  if (!existsSync(tmpRoot)) return [];
  const removed: string[] = [];
  for (const name of await readdir(tmpRoot)) {
    if (name.startsWith('.tmp-')) {
      await rm(join(tmpRoot, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * The folders that may hold `target`'s checkpoint, newest-first by role: the target itself, the .prev- copy
 * an interrupted best/ swap (or an older version) leaves, and, for training's `last`, the kept `previous`.
 */
export function checkpointCandidates(target: string): string[] {
  const parent = dirname(target);
  const name = basename(target);
  const list = [target, join(parent, `.prev-${name}`)];
  if (name === 'last') list.push(join(parent, PREVIOUS_NAME));
  return list;
}

/** Why a checkpoint folder was not used. */
export interface CheckpointProblem {
  dir: string;
  file: string;
  problem: string;
}

function decodeWeightsFrom(
  dir: string,
  data: Map<string, Buffer>,
  manifestFile: string,
): { json: Record<string, unknown>; tensors: tf.NamedTensorMap } {
  const file = join(dir, manifestFile);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(data.get(manifestFile)!.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CoreError('CHECKPOINT_CORRUPT', `${file}: invalid JSON (${(err as Error).message})`, { path: file });
  }
  const manifest = json.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (
    !Array.isArray(manifest) ||
    manifest.length !== 1 ||
    manifest[0].paths.length !== 1 ||
    !data.has(manifest[0].paths[0])
  ) {
    throw new CoreError(
      'CHECKPOINT_CORRUPT',
      `${file}: field "weightsManifest": expected one group with one file of the checkpoint`,
      { path: file, field: 'weightsManifest' },
    );
  }
  const binName = manifest[0].paths[0];
  const bin = data.get(binName)!;
  const buffer = new Uint8Array(bin).buffer;
  try {
    return { json, tensors: tf.io.decodeWeights(buffer, manifest[0].weights) };
  } catch (err) {
    throw new CoreError(
      'CHECKPOINT_CORRUPT',
      `${join(dir, binName)}: does not match ${manifestFile} (${(err as Error).message})`,
      { path: join(dir, binName) },
    );
  }
}

export interface LoadedCheckpoint {
  dir: string;
  weights: tf.NamedTensorMap;
  /** Only when asked for (withOptimizer) and present. */
  optimizer: OptimizerBlob | null;
  state: StoredState;
  modelInfo: unknown;
  /** false for a checkpoint written before manifests (loaded unverified). */
  verified: boolean;
}

/** Decodes a verified checkpoint. Caller disposes the weight tensors. */
function decodeVerified(verdict: Extract<CheckpointVerdict, { ok: true }>, withOptimizer: boolean): LoadedCheckpoint {
  const { dir, data } = verdict;
  const model = decodeWeightsFrom(dir, data, 'model.json');
  try {
    if (model.json.format !== MODEL_FORMAT)
      throw new CoreError(
        'CHECKPOINT_CORRUPT',
        `${join(dir, 'model.json')}: field "format": expected "${MODEL_FORMAT}", got ${JSON.stringify(model.json.format)}`,
        { path: join(dir, 'model.json'), field: 'format' },
      );
    let state: StoredState;
    try {
      state = JSON.parse(data.get('state.json')!.toString('utf8')) as StoredState;
    } catch (err) {
      throw new CoreError(
        'CHECKPOINT_CORRUPT',
        `${join(dir, 'state.json')}: invalid JSON (${(err as Error).message})`,
        { path: join(dir, 'state.json') },
      );
    }
    if (
      typeof state !== 'object' ||
      state === null ||
      typeof state.globalStep !== 'number' ||
      typeof state.epoch !== 'number'
    ) {
      throw new CoreError('CHECKPOINT_CORRUPT', `${join(dir, 'state.json')}: fields "epoch" / "globalStep" missing`, {
        path: join(dir, 'state.json'),
      });
    }
    let optimizer: OptimizerBlob | null = null;
    if (withOptimizer && data.has('optimizer.json')) {
      const o = decodeWeightsFrom(dir, data, 'optimizer.json');
      try {
        const header = { ...o.json };
        delete header.weightsManifest;
        const arrays = new Map<string, Float32Array>();
        for (const [name, t] of Object.entries(o.tensors)) arrays.set(name, t.dataSync() as Float32Array);
        optimizer = { header, arrays };
      } finally {
        tf.dispose(o.tensors);
      }
    }
    return {
      dir,
      weights: model.tensors,
      optimizer,
      state,
      modelInfo: model.json.modelTopology,
      verified: verdict.manifest !== null,
    };
  } catch (err) {
    tf.dispose(model.tensors);
    throw err;
  }
}

/**
 * Verifies `candidates` and loads the good one with the highest global step; the others' problems come
 * back in `skipped`. `checkpoint` is null when none is good (`skipped` then says why, one entry per
 * existing folder; empty when no candidate folder exists at all).
 */
export async function loadNewestGoodCheckpoint(
  candidates: string[],
  withOptimizer: boolean,
): Promise<{ checkpoint: LoadedCheckpoint | null; skipped: CheckpointProblem[] }> {
  const skipped: CheckpointProblem[] = [];
  const good: { verdict: Extract<CheckpointVerdict, { ok: true }>; step: number }[] = [];
  for (const dir of candidates) {
    if (!existsSync(dir)) continue;
    let verdict: CheckpointVerdict;
    try {
      verdict = await verifyCheckpointDir(dir);
    } catch (err) {
      throw fromFsError(err, 'read a checkpoint', dir);
    }
    if (!verdict.ok) {
      skipped.push({ dir, file: verdict.file, problem: verdict.problem });
      continue;
    }
    let step = verdict.manifest?.globalStep ?? -1;
    if (verdict.manifest === null) {
      try {
        step =
          (JSON.parse(verdict.data.get('state.json')!.toString('utf8')) as { globalStep?: number }).globalStep ?? -1;
      } catch {
        skipped.push({ dir, file: join(dir, 'state.json'), problem: 'invalid JSON' });
        continue;
      }
    }
    good.push({ verdict, step });
  }
  good.sort((a, b) => b.step - a.step);
  for (const g of good) {
    try {
      return { checkpoint: decodeVerified(g.verdict, withOptimizer), skipped };
    } catch (err) {
      if (!(err instanceof CoreError && err.code === 'CHECKPOINT_CORRUPT')) throw err;
      skipped.push({ dir: g.verdict.dir, file: err.details?.path ?? g.verdict.dir, problem: err.message });
    }
  }
  return { checkpoint: null, skipped };
}

/** One line per problem: "<file>: <problem>". */
export function describeProblems(skipped: CheckpointProblem[]): string {
  return skipped.map((s) => (s.problem.startsWith(s.file) ? s.problem : `${s.file}: ${s.problem}`)).join('; ');
}

/**
 * Reads the checkpoint at `target` (best/ or checkpoints/last), verified; for `last` it may come from the
 * kept `previous` when `last` is corrupt. Throws CHECKPOINT_CORRUPT naming the file and the problem when no
 * good copy exists, NOT_FOUND when there is none at all. Caller disposes the weight tensors.
 */
export async function readCheckpoint(target: string, withOptimizer: boolean): Promise<LoadedCheckpoint> {
  const { checkpoint, skipped } = await loadNewestGoodCheckpoint(checkpointCandidates(target), withOptimizer);
  if (checkpoint) return checkpoint;
  if (skipped.length === 0)
    throw new CoreError('NOT_FOUND', `${target}: no complete checkpoint (model.json, weights.bin, state.json)`, {
      path: target,
    });
  throw new CoreError('CHECKPOINT_CORRUPT', `${target}: no good checkpoint: ${describeProblems(skipped)}`, {
    path: skipped[0].file,
    problem: skipped[0].problem,
    hint: 'run "aimkp doctor RUN" for a full report',
  });
}
/** Copies checkpoint weights into the model's variables; every variable must be present with its shape. */
export function assignWeights(named: Map<string, tf.Variable>, weights: tf.NamedTensorMap, where: string): void {
  for (const [name, variable] of named) {
    const t = weights[name];
    if (!t) throw new CoreError('BAD_INPUT', `${where}: weight "${name}" missing`);
    if (t.shape.join('x') !== variable.shape.join('x'))
      throw new CoreError(
        'BAD_INPUT',
        `${where}: weight "${name}" has shape [${t.shape}], the model expects [${variable.shape}]`,
      );
    variable.assign(t);
  }
}

/**
 * Warm start: copies every checkpoint weight the model has (shapes must match); model variables the
 * checkpoint lacks (e.g. LoRA matrices over a base model) keep their initialisation. A checkpoint weight
 * the model lacks is an error (the source run has another architecture).
 */
export function assignMatchingWeights(
  named: Map<string, tf.Variable>,
  weights: tf.NamedTensorMap,
  where: string,
): { assigned: number; fresh: string[] } {
  for (const name of Object.keys(weights))
    if (!named.has(name))
      throw new CoreError('BAD_INPUT', `${where}: weight "${name}" does not exist in the new model`);
  const fresh: string[] = [];
  let assigned = 0;
  for (const [name, variable] of named) {
    const t = weights[name];
    if (!t) {
      fresh.push(name);
      continue;
    }
    if (t.shape.join('x') !== variable.shape.join('x'))
      throw new CoreError(
        'BAD_INPUT',
        `${where}: weight "${name}" has shape [${t.shape}], the model expects [${variable.shape}]`,
      );
    variable.assign(t);
    assigned++;
  }
  return { assigned, fresh };
}

/**
 * The checkpoint a resume continues from: the newest good one among `last`, an interrupted swap's copy and
 * `previous`. Says which one and why when it is not `last`. Returns null only when the run has no checkpoint
 * folder at all (killed before its first checkpoint: start at step 0). When checkpoints exist but none is
 * good, throws CHECKPOINT_CORRUPT naming every file and problem: training is never silently restarted.
 */
export async function loadResumeCheckpoint(
  lastDir: string,
  log: (line: string) => void,
): Promise<LoadedCheckpoint | null> {
  const { checkpoint, skipped } = await loadNewestGoodCheckpoint(checkpointCandidates(lastDir), true);
  if (checkpoint) {
    if (skipped.length > 0)
      log(
        `warning: ${describeProblems(skipped)}; resuming from ${checkpoint.dir} (step ${checkpoint.state.globalStep}) instead`,
      );
    if (!checkpoint.verified)
      log(`warning: ${checkpoint.dir} was written before checkpoint manifests: loaded without checksum verification`);
    return checkpoint;
  }
  if (skipped.length === 0) return null;
  throw new CoreError(
    'CHECKPOINT_CORRUPT',
    `${lastDir}: no good checkpoint to resume from: ${describeProblems(skipped)}`,
    {
      path: skipped[0].file,
      problem: skipped[0].problem,
      hint: 'restore the run folder from a backup, or start a new run in another folder; "aimkp doctor RUN" lists every problem',
    },
  );
}
