// Applies a --config JSON file on top of a preset, field by field, and validates the result.
// Every problem names the file and the field path, e.g. `cfg.json: field "aimkp.tauText": expected a number`.
import { readFileSync } from 'node:fs';
import { CoreError } from '../core-error';
import { getPreset, PRESET_NAMES } from './presets';
import type { TrainConfig } from '../run/train-config';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields that may be null in a TrainConfig (null ↔ a value of the stated kind). */
const NULLABLE: Record<string, 'number' | 'object' | 'string'> = {
  initFrom: 'string',
  clipNorm: 'number',
  maxTrain: 'number',
  maxValid: 'number',
  maxVocab: 'number',
  aimkp: 'object',
  'model.lora': 'object',
};

/** Recursively overrides `base` with `override`; unknown fields and type changes are errors. */
export function mergeOverride(
  base: Record<string, unknown>,
  override: unknown,
  where: string,
  path = '',
): Record<string, unknown> {
  if (!isObject(override))
    throw new CoreError('BAD_INPUT', `${where}: ${path ? `field "${path}"` : 'top level'}: expected a JSON object`);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const field = path ? `${path}.${key}` : key;
    if (!(key in base)) throw new CoreError('BAD_INPUT', `${where}: field "${field}": unknown field`);
    const current = base[key];
    const nullable = NULLABLE[field];
    if (value === null) {
      if (!nullable) throw new CoreError('BAD_INPUT', `${where}: field "${field}": may not be null`);
      out[key] = null;
    } else if (isObject(current)) {
      out[key] = mergeOverride(current, value, where, field);
    } else if (current === null) {
      if (nullable === 'object') {
        if (!isObject(value))
          throw new CoreError('BAD_INPUT', `${where}: field "${field}": expected an object or null`);
        out[key] = value;
      } else if (typeof value !== nullable) {
        throw new CoreError('BAD_INPUT', `${where}: field "${field}": expected a ${nullable} or null`);
      } else out[key] = value;
    } else {
      if (typeof value !== typeof current)
        throw new CoreError(
          'BAD_INPUT',
          `${where}: field "${field}": expected a ${typeof current}, got ${JSON.stringify(value)}`,
        );
      out[key] = value;
    }
  }
  return out;
}

/** Checks ranges and enumerations of a merged config; throws a CoreError naming `where` and the field. */
export function validateConfig(c: TrainConfig, where: string): TrainConfig {
  const fail = (field: string, msg: string): never => {
    throw new CoreError('BAD_INPUT', `${where}: field "${field}": ${msg}`);
  };
  const int = (field: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) fail(field, `expected an integer ≥ ${min}, got ${v}`);
  };
  const pos = (field: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0)) fail(field, `expected a positive number, got ${v}`);
  };
  if (!['standard', 'aimkp'].includes(c.method))
    fail('method', `expected "standard" or "aimkp", got ${JSON.stringify(c.method)}`);
  if (!['multimodal', 'text', 'image'].includes(c.mode))
    fail('mode', `expected multimodal, text or image, got ${JSON.stringify(c.mode)}`);
  int('epochs', c.epochs, 1);
  int('batchSize', c.batchSize, 1);
  int('samplesPerCall', c.samplesPerCall, 1);
  pos('lr', c.lr);
  pos('adapterLr', c.adapterLr);
  if (!(c.weightDecay >= 0)) fail('weightDecay', 'expected ≥ 0');
  if (!(c.warmupRatio >= 0 && c.warmupRatio < 1)) fail('warmupRatio', 'expected a number in [0, 1)');
  if (c.clipNorm !== null) pos('clipNorm', c.clipNorm);
  try {
    new RegExp(c.adapterPattern);
  } catch {
    fail('adapterPattern', 'not a valid regular expression');
  }
  int('seed', c.seed, 0);
  int('maxTextTokens', c.maxTextTokens, 1);
  int('maxAnswerTokens', c.maxAnswerTokens, 2);
  int('minWordCount', c.minWordCount, 1);
  if (c.maxVocab !== null) int('maxVocab', c.maxVocab, 16);
  if (c.maxTrain !== null) int('maxTrain', c.maxTrain, 1);
  if (c.maxValid !== null) int('maxValid', c.maxValid, 0);
  int('checkpointEvery', c.checkpointEvery, 0);
  int('validBatch', c.validBatch, 1);
  const m = c.model;
  int('model.dModel', m.dModel, 1);
  int('model.nLayers', m.nLayers, 1);
  int('model.nHeads', m.nHeads, 1);
  if (m.dModel % m.nHeads !== 0) fail('model.nHeads', `must divide model.dModel (${m.dModel})`);
  int('model.dFF', m.dFF, 1);
  int('model.adapterHidden', m.adapterHidden, 1);
  if (!(m.dropout >= 0 && m.dropout < 1)) fail('model.dropout', 'expected a number in [0, 1)');
  if (m.lora !== null) {
    int('model.lora.rank', m.lora.rank, 1);
    pos('model.lora.alpha', m.lora.alpha);
    if (!(m.lora.dropout >= 0 && m.lora.dropout < 1)) fail('model.lora.dropout', 'expected a number in [0, 1)');
  }
  if (c.method === 'aimkp') {
    const a = c.aimkp;
    if (a === null) return fail('aimkp', 'method "aimkp" needs the aimkp settings');
    if (c.mode !== 'multimodal')
      fail('mode', 'AimKP masks one modality while the other is present: mode must be multimodal');
    for (const f of ['tauText', 'tauImage'] as const)
      if (!(a[f] >= -1 && a[f] <= 1)) fail(`aimkp.${f}`, 'expected a cosine threshold in [-1, 1]');
    if (!['structured', 'random', 'pool'].includes(a.maskKind))
      fail('aimkp.maskKind', 'expected structured, random or pool');
    if (!['progressive', 'linear', 'fixed'].includes(a.stride.rule))
      fail('aimkp.stride.rule', 'expected progressive, linear or fixed');
    int('aimkp.stride.fixedStride', a.stride.fixedStride, 2);
  }
  return c;
}

export interface ResolveOptions {
  preset: string;
  /** Path of a JSON file of overrides (any TrainConfig field, nested objects partially). */
  configFile?: string;
  /** Overrides from CLI flags, applied last. */
  flags?: Partial<Pick<TrainConfig, 'epochs' | 'seed' | 'encoder' | 'maxTrain' | 'initFrom'>>;
}

/** preset → + config file → + flags → validated TrainConfig. */
export function resolveConfig(options: ResolveOptions): TrainConfig {
  const preset = getPreset(options.preset);
  if (!preset)
    throw new CoreError('BAD_INPUT', `unknown preset "${options.preset}"; presets: ${PRESET_NAMES.join(', ')}`);
  let merged = preset as unknown as Record<string, unknown>;
  let where = `preset ${options.preset}`;
  if (options.configFile) {
    let text: string;
    try {
      text = readFileSync(options.configFile, 'utf8');
    } catch (err) {
      throw new CoreError('BAD_INPUT', `${options.configFile}: cannot read (${(err as Error).message})`);
    }
    let json: Json;
    try {
      json = JSON.parse(text) as Json;
    } catch (err) {
      throw new CoreError(
        'BAD_INPUT',
        `${options.configFile}: line ${jsonErrorLine(text, err as Error)}: invalid JSON (${(err as Error).message})`,
      );
    }
    merged = mergeOverride(merged, json, options.configFile);
    where = options.configFile;
  }
  const flags = Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined));
  merged = mergeOverride(merged, flags, 'command-line flags');
  return validateConfig(merged as unknown as TrainConfig, where);
}

/** The 1-based line of a JSON.parse error (from its "position N"), or 1. */
function jsonErrorLine(text: string, err: Error): number {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return 1;
  return text.slice(0, Number(m[1])).split('\n').length;
}
