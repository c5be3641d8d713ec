// Checkpoints on disk (docs/training.md "Run folder"): a folder with model.json + weights.bin (TF.js
// weights format), optional optimizer.json + optimizer.bin (AdamW moments) and state.json. A checkpoint is
// written into checkpoints/.tmp-<pid>-<n>/ with every file fsync'ed, then swapped in by rename: the old
// folder is first renamed to .prev-<name>, so at every instant either the new or the previous checkpoint is
// complete on disk. Loading ignores temp folders and falls back to .prev-<name> when <name> is incomplete.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CoreError } from '../core-error';
import type { AdamWStateData } from './adamw';
import type { StrideStateJson } from './stride-state';

export const MODEL_FORMAT = 'aimkp-weights-v1';

export interface EpochRecord {
  epoch: number;
  meanLoss: number;
  score: number | null;
}

/** Running sums of the epoch in progress (so a resumed epoch reports the same epoch-end numbers). */
export interface EpochStats {
  steps: number;
  lossSum: number;
  variantSum: { original: number; text: number; image: number };
  variantCount: { original: number; text: number; image: number };
  accepted: { text: number; image: number };
  checked: { text: number; image: number };
  trainMs: number;
}

export function emptyEpochStats(): EpochStats {
  return { steps: 0, lossSum: 0, variantSum: { original: 0, text: 0, image: 0 }, variantCount: { original: 0, text: 0, image: 0 }, accepted: { text: 0, image: 0 }, checked: { text: 0, image: 0 }, trainMs: 0 };
}

/** state.json: where training stands after the checkpointed step. */
export interface TrainState extends StrideStateJson {
  version: 1;
  /** 0-based epoch in progress (== epochs once training is complete). */
  epoch: number;
  /** Steps of `epoch` already done. */
  stepInEpoch: number;
  globalStep: number;
  /** This epoch's permutation of train indices ([] = not drawn yet: draw it from rngState). */
  dataOrder: number[];
  rngState: number[];
  bestScore: number | null;
  bestEpoch: number | null;
  history: EpochRecord[];
  epochStats: EpochStats;
}

export interface CheckpointFiles {
  weights: Map<string, tf.Tensor>;
  optimizer: AdamWStateData | null;
  state: TrainState;
  /** Free-form info stored as model.json's modelTopology (the LM config). */
  modelInfo: unknown;
}

let tmpCounter = 0;

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

async function encodeNamed(tensors: Map<string, tf.Tensor>): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return { data: new Uint8Array(data), specs };
}

/** Writes a complete checkpoint folder at `target` (e.g. RUN/checkpoints/last or RUN/best), atomically. */
export async function writeCheckpoint(target: string, files: CheckpointFiles, tmpRoot: string): Promise<void> {
  await mkdir(tmpRoot, { recursive: true });
  const tmp = join(tmpRoot, `.tmp-${process.pid}-${++tmpCounter}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const w = await encodeNamed(files.weights);
  await writeSynced(join(tmp, 'weights.bin'), w.data);
  await writeSynced(
    join(tmp, 'model.json'),
    JSON.stringify({ format: MODEL_FORMAT, modelTopology: files.modelInfo ?? null, weightsManifest: [{ paths: ['weights.bin'], weights: w.specs }] }, null, 1),
  );
  if (files.optimizer) {
    const o = files.optimizer;
    const moments = new Map<string, tf.Tensor>();
    o.names.forEach((name, i) => {
      moments.set(`m/${name}`, tf.tensor1d(o.m[i], 'float32'));
      moments.set(`v/${name}`, tf.tensor1d(o.v[i], 'float32'));
    });
    const enc = await encodeNamed(moments);
    for (const t of moments.values()) t.dispose();
    await writeSynced(join(tmp, 'optimizer.bin'), enc.data);
    await writeSynced(join(tmp, 'optimizer.json'), JSON.stringify({ format: 'aimkp-adamw-v1', step: o.step, names: o.names, weightsManifest: [{ paths: ['optimizer.bin'], weights: enc.specs }] }));
  }
  // state.json last: its presence marks the folder complete.
  await writeSynced(join(tmp, 'state.json'), JSON.stringify(files.state));
  await syncDir(tmp);

  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const prev = join(parent, `.prev-${basename(target)}`);
  await rm(prev, { recursive: true, force: true });
  if (existsSync(target)) await rename(target, prev);
  await rename(tmp, target);
  await syncDir(parent);
  await rm(prev, { recursive: true, force: true });
}

/** Removes leftover temp folders of crashed writes (never the current checkpoints). */
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

function isComplete(dir: string): boolean {
  return ['model.json', 'weights.bin', 'state.json'].every((f) => existsSync(join(dir, f)));
}

/** The folder to load for `target`: itself when complete, else its .prev- copy left by an interrupted swap, else null. */
export function resolveCheckpointDir(target: string): string | null {
  if (isComplete(target)) return target;
  const prev = join(dirname(target), `.prev-${basename(target)}`);
  if (isComplete(prev)) return prev;
  return null;
}

async function decodeManifest(dir: string, manifestFile: string, where: string): Promise<{ json: Record<string, unknown>; tensors: tf.NamedTensorMap }> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(join(dir, manifestFile), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CoreError('CHECKPOINT_CORRUPT', `${join(dir, manifestFile)}: unreadable (${(err as Error).message})`);
  }
  const manifest = json.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (!Array.isArray(manifest) || manifest.length !== 1 || manifest[0].paths.length !== 1) {
    throw new CoreError('BAD_INPUT', `${join(dir, manifestFile)}: field "weightsManifest": expected one group with one file (${where})`);
  }
  const bin = await readFile(join(dir, manifest[0].paths[0]));
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return { json, tensors: tf.io.decodeWeights(buffer, manifest[0].weights) };
}

export interface LoadedCheckpoint {
  dir: string;
  weights: tf.NamedTensorMap;
  optimizer: AdamWStateData | null;
  state: TrainState;
  modelInfo: unknown;
}

/** Reads the checkpoint at `target` (or its .prev- fallback). Caller disposes the weight tensors. */
export async function readCheckpoint(target: string, withOptimizer: boolean): Promise<LoadedCheckpoint> {
  const dir = resolveCheckpointDir(target);
  if (dir === null) throw new CoreError('NOT_FOUND', `${target}: no complete checkpoint (model.json, weights.bin, state.json)`);
  const model = await decodeManifest(dir, 'model.json', 'model');
  if (model.json.format !== MODEL_FORMAT) throw new CoreError('BAD_INPUT', `${join(dir, 'model.json')}: field "format": expected "${MODEL_FORMAT}", got ${JSON.stringify(model.json.format)}`);
  let state: TrainState;
  try {
    state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as TrainState;
  } catch (err) {
    throw new CoreError('CHECKPOINT_CORRUPT', `${join(dir, 'state.json')}: unreadable (${(err as Error).message})`);
  }
  let optimizer: AdamWStateData | null = null;
  if (withOptimizer && existsSync(join(dir, 'optimizer.json'))) {
    const o = await decodeManifest(dir, 'optimizer.json', 'optimizer');
    const names = o.json.names as string[];
    optimizer = {
      step: o.json.step as number,
      names,
      m: names.map((n) => o.tensors[`m/${n}`].dataSync() as Float32Array),
      v: names.map((n) => o.tensors[`v/${n}`].dataSync() as Float32Array),
    };
    tf.dispose(o.tensors);
  }
  return { dir, weights: model.tensors, optimizer, state, modelInfo: model.json.modelTopology };
}

/** Copies checkpoint weights into the model's variables; every variable must be present with its shape. */
export function assignWeights(named: Map<string, tf.Variable>, weights: tf.NamedTensorMap, where: string): void {
  for (const [name, variable] of named) {
    const t = weights[name];
    if (!t) throw new CoreError('BAD_INPUT', `${where}: weight "${name}" missing`);
    if (t.shape.join('x') !== variable.shape.join('x')) throw new CoreError('BAD_INPUT', `${where}: weight "${name}" has shape [${t.shape}], the model expects [${variable.shape}]`);
    variable.assign(t);
  }
}

/**
 * Warm start: copies every checkpoint weight the model has (shapes must match); model variables the
 * checkpoint lacks (e.g. LoRA matrices over a base model) keep their initialisation. A checkpoint weight
 * the model lacks is an error (the source run has another architecture).
 */
export function assignMatchingWeights(named: Map<string, tf.Variable>, weights: tf.NamedTensorMap, where: string): { assigned: number; fresh: string[] } {
  for (const name of Object.keys(weights)) if (!named.has(name)) throw new CoreError('BAD_INPUT', `${where}: weight "${name}" does not exist in the new model`);
  const fresh: string[] = [];
  let assigned = 0;
  for (const [name, variable] of named) {
    const t = weights[name];
    if (!t) {
      fresh.push(name);
      continue;
    }
    if (t.shape.join('x') !== variable.shape.join('x')) throw new CoreError('BAD_INPUT', `${where}: weight "${name}" has shape [${t.shape}], the model expects [${variable.shape}]`);
    variable.assign(t);
    assigned++;
  }
  return { assigned, fresh };
}
