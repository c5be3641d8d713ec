// RUN/metrics/<split>.<mode>.<decode>.json: what `aimkp eval --run` writes and `aimkp report` reads.
import { existsSync, readFileSync } from 'node:fs';
import type { EvalMode } from '../lm/contract';
import { CoreError } from '../core-error';
import { writeFileAtomicSync as writeFileAtomic } from '../fs/atomic-write';
import type { DecodeSettings } from './decode-settings';
import { HEADLINE_KEYS, type HeadlineScores, type RepeatScores } from './score-predictions';
import type { DecodeStrategy } from './run-paths';

export interface MetricsFile {
  run: string;
  split: string;
  mode: EvalMode;
  decode: DecodeStrategy;
  repeats: number;
  n: number;
  /** Fractions in [0, 1], averaged over repeats. */
  aimkp: HeadlineScores;
  aimkpPerRepeat: HeadlineScores[];
  cmkp: HeadlineScores;
  cmkpPerRepeat?: HeadlineScores[];
  /** The full decoding settings used. */
  decoding?: DecodeSettings;
  /** The checkpoint scored, as read: "best (epoch 1, step 16)", or "previous (…)" when `last` was corrupt. */
  checkpoint?: string;
  /** Set when the checkpoint asked for was not the one scored: which was read instead and why. */
  checkpointFallback?: string;
  predictions?: string;
  createdAt?: string;
}

export function buildMetricsFile(
  fields: {
    run: string;
    split: string;
    mode: EvalMode;
    decoding: DecodeSettings;
    checkpoint?: string;
    checkpointFallback?: string;
    predictions?: string;
  },
  scores: RepeatScores,
): MetricsFile {
  return {
    run: fields.run,
    split: fields.split,
    mode: fields.mode,
    decode: fields.decoding.strategy,
    repeats: scores.repeats,
    n: scores.n,
    aimkp: scores.aimkp,
    aimkpPerRepeat: scores.aimkpPerRepeat,
    cmkp: scores.cmkp,
    cmkpPerRepeat: scores.cmkpPerRepeat,
    decoding: fields.decoding,
    checkpoint: fields.checkpoint,
    ...(fields.checkpointFallback === undefined ? {} : { checkpointFallback: fields.checkpointFallback }),
    predictions: fields.predictions,
    createdAt: new Date().toISOString(),
  };
}

export function writeMetricsFile(path: string, m: MetricsFile): void {
  writeFileAtomic(path, JSON.stringify(m, null, 2) + '\n');
}

function checkScores(value: unknown, path: string, field: string): HeadlineScores {
  if (typeof value !== 'object' || value === null)
    throw new CoreError('BAD_INPUT', `${path}: field "${field}" must be an object of scores`);
  const obj = value as Record<string, unknown>;
  for (const key of HEADLINE_KEYS) {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1)
      throw new CoreError(
        'BAD_INPUT',
        `${path}: field "${field}.${key}" must be a number in [0, 1], got ${JSON.stringify(v)}`,
      );
  }
  return obj as unknown as HeadlineScores;
}

/** Reads and validates a metrics file; null if it does not exist, CoreError if it is malformed. */
export function readMetricsFile(path: string): MetricsFile | null {
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${path}: invalid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CoreError('BAD_INPUT', `${path}: not a JSON object`);
  const obj = value as Record<string, unknown>;
  checkScores(obj.aimkp, path, 'aimkp');
  checkScores(obj.cmkp, path, 'cmkp');
  if (typeof obj.n !== 'number') throw new CoreError('BAD_INPUT', `${path}: field "n" must be a number`);
  return obj as unknown as MetricsFile;
}
