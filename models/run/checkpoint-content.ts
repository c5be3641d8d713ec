// What a checkpoint's bytes mean, checked after its manifest verified them: a manifest only proves the files are
// the ones written (or rewritten together with it), not that they make sense. The format checks what it owns:
// state.json's epoch and globalStep are step counts that agree with the manifest, and every float32 weight (and
// optimizer moment) is finite. What the rest of state.json means is the writer's (the trainer's TrainState,
// models/train/checkpoint-parts.ts validateTrainState): it comes in as a StateValidator hook, so this package
// still knows nothing of training. Every problem is a CHECKPOINT_CORRUPT naming the file and the field.
import { join } from 'node:path';
import { CoreError } from '../core-error';
import type { CheckpointManifest } from './checkpoint-manifest';
import type { RunConfig } from './run-files';

/** A state.json as read back: the fields the format reads, plus the writer's own, unread here. */
export interface StoredStateFields {
  epoch: number;
  globalStep: number;
  bestEpoch: number | null;
  bestScore: number | null;
  readonly [field: string]: unknown;
}

/**
 * The writer's check of what state.json means; throws CoreError CHECKPOINT_CORRUPT naming `file` and the field.
 * `config` is the run's config.json when the caller has it (train items, epochs, batch size), else null.
 */
export type StateValidator = (state: StoredStateFields, file: string, config: RunConfig | null) => void;

export function corrupt(file: string, field: string | null, problem: string): CoreError {
  return new CoreError('CHECKPOINT_CORRUPT', `${file}: ${field === null ? '' : `field "${field}": `}${problem}`, {
    path: file,
    ...(field === null ? {} : { field }),
  });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** state.json parsed, with the fields the format reads checked (the writer's validator runs afterwards). */
export function parseStoredState(bytes: Buffer, file: string, manifest: CheckpointManifest | null): StoredStateFields {
  let state: unknown;
  try {
    state = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw corrupt(file, null, `invalid JSON (${(err as Error).message})`);
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    throw corrupt(file, null, 'not a JSON object');
  const s = state as Record<string, unknown>;
  if (s.epoch === undefined || s.globalStep === undefined)
    throw corrupt(file, null, 'fields "epoch" / "globalStep" missing');
  if (!isCount(s.globalStep)) throw corrupt(file, 'globalStep', `${JSON.stringify(s.globalStep)} is not a step count`);
  if (!isCount(s.epoch)) throw corrupt(file, 'epoch', `${JSON.stringify(s.epoch)} is not an epoch number`);
  if (manifest !== null && (manifest.globalStep !== s.globalStep || manifest.epoch !== s.epoch))
    throw corrupt(
      file,
      'globalStep',
      `step ${s.globalStep} (epoch ${s.epoch}), but manifest.json says step ${manifest.globalStep} (epoch ${manifest.epoch})`,
    );
  if (s.bestScore !== undefined && s.bestScore !== null && !(typeof s.bestScore === 'number' && isFinite(s.bestScore)))
    throw corrupt(file, 'bestScore', `${JSON.stringify(s.bestScore)} is not a score`);
  if (s.bestEpoch !== undefined && s.bestEpoch !== null && !isCount(s.bestEpoch))
    throw corrupt(file, 'bestEpoch', `${JSON.stringify(s.bestEpoch)} is not an epoch number`);
  return { ...s, bestEpoch: s.bestEpoch ?? null, bestScore: s.bestScore ?? null } as StoredStateFields;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Every float32 array listed in `jsonName`'s weightsManifest must be finite. NaN or infinity in a checkpoint is
 * never loadable (training stops with DIVERGED before it writes a non-finite loss; a file rewritten together with
 * its manifest can hold anything), so it is reported as corruption naming the variable, not left to surface as a
 * NaN loss and "lower the learning rate".
 */
export function checkFiniteArrays(dir: string, data: Map<string, Buffer>, jsonName: string, what: string): void {
  const json = data.get(jsonName);
  if (json === undefined) return;
  let groups: { paths?: unknown; weights?: unknown }[];
  try {
    groups = (JSON.parse(json.toString('utf8')) as { weightsManifest?: typeof groups }).weightsManifest ?? [];
  } catch {
    return; // decoding names a file that is not JSON
  }
  if (!Array.isArray(groups)) return;
  for (const group of groups) {
    const paths = Array.isArray(group.paths) ? (group.paths as string[]) : [];
    const bin = paths.length === 1 ? data.get(paths[0]) : undefined;
    if (bin === undefined || !Array.isArray(group.weights)) continue;
    let offset = 0;
    for (const spec of group.weights as WeightSpec[]) {
      const size = Array.isArray(spec.shape) ? spec.shape.reduce((a, b) => a * b, 1) : NaN;
      const bytes = size * (BYTES[spec.dtype] ?? NaN);
      // A quantized or unknown entry, or one past the file's end: decoding reports what is wrong with it.
      if (!Number.isFinite(bytes) || spec.quantization !== undefined || offset + bytes > bin.byteLength) break;
      if (spec.dtype === 'float32') {
        const slice = bin.subarray(offset, offset + bytes);
        // Float32Array needs 4-byte alignment; Buffers from the pool may not have it.
        const values =
          slice.byteOffset % 4 === 0
            ? new Float32Array(slice.buffer, slice.byteOffset, size)
            : new Float32Array(Uint8Array.prototype.slice.call(slice).buffer);
        let nan = 0;
        let inf = 0;
        for (let i = 0; i < values.length; i++) {
          const x = values[i];
          if (x - x !== 0) {
            if (Number.isNaN(x)) nan++;
            else inf++;
          }
        }
        if (nan + inf > 0)
          throw corrupt(
            join(dir, paths[0]),
            null,
            `${what} "${spec.name}": ${[nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : ''].filter(Boolean).join(' and ')} of ${size} values (a checkpoint holds finite numbers only: the file was changed, or training diverged before it was written)`,
          );
      }
      offset += bytes;
    }
  }
}

/**
 * The content checks of a verified checkpoint folder (its bytes in `data`): state.json's step fields, the
 * writer's validator, finite weights and (when present) finite optimizer moments. Throws CHECKPOINT_CORRUPT.
 */
export function checkCheckpointContent(
  dir: string,
  data: Map<string, Buffer>,
  manifest: CheckpointManifest | null,
  validate?: (state: StoredStateFields, file: string) => void,
): StoredStateFields {
  const file = join(dir, 'state.json');
  const state = parseStoredState(data.get('state.json')!, file, manifest);
  validate?.(state, file);
  checkFiniteArrays(dir, data, 'model.json', 'variable');
  checkFiniteArrays(dir, data, 'optimizer.json', 'optimizer array');
  return state;
}
