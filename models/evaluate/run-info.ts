// The few fields of RUN/config.json the evaluation tools need (the trainer owns the full TrainConfig).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CoreError } from '../core-error';

export interface RunInfo {
  dir: string;
  /** Folder name, used as the run's label. */
  name: string;
  /** Preset name from config.json ("baseline", "aimkp", …); the folder name if config.json lacks one. */
  preset: string;
  seed: number | null;
  /** The data set the run trained on, when config.json names it. */
  dataDir: string | null;
}

/** Reads RUN/config.json. `preset` may be a string or an object with a `name`. Throws a CoreError naming the file. */
export function readRunInfo(dir: string): RunInfo {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new CoreError('NOT_FOUND', `run folder "${dir}" does not exist`);
  const file = join(abs, 'config.json');
  if (!existsSync(file)) throw new CoreError('NOT_FOUND', `run folder "${dir}" has no config.json`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${file}: invalid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) throw new CoreError('BAD_INPUT', `${file}: not a JSON object`);
  const cfg = value as Record<string, unknown>;
  const presetField = cfg.preset;
  let preset: string | null = null;
  if (typeof presetField === 'string' && presetField !== '') preset = presetField;
  else if (
    typeof presetField === 'object' &&
    presetField !== null &&
    typeof (presetField as { name?: unknown }).name === 'string'
  ) {
    preset = (presetField as { name: string }).name;
  }
  const seed = typeof cfg.seed === 'number' && Number.isFinite(cfg.seed) ? cfg.seed : null;
  const dataField = cfg.dataDir ?? cfg.data;
  return {
    dir: abs,
    name: basename(abs),
    preset: preset ?? basename(abs),
    seed,
    dataDir: typeof dataField === 'string' ? dataField : null,
  };
}
