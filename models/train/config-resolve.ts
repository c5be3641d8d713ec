// Applies a --config JSON file on top of a preset, field by field, and validates the result against the field
// rules the form reads too (shared/train-config-rules.ts). Every problem names the file and the field path, e.g.
// `cfg.json: field "aimkp.tauText": expected a number in [-1, 1], got 2`.
import { readFileSync } from 'node:fs';
import {
  boundProblem,
  rangeText,
  ruleOf,
  TRAIN_CONFIG_RULES,
  type FieldRule,
  type TrainConfigRulePath,
} from '../../shared/train-config-rules';
import { CoreError } from '../core-error';
import { getPreset, PRESET_NAMES } from './presets';
import type { TrainConfig } from '../run/train-config';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted paths of every field of T, nested objects included (arrays are values, not sections). */
type FieldPaths<T, P extends string = ''> = {
  [K in keyof T & string]-?:
    | `${P}${K}`
    | (NonNullable<T[K]> extends readonly unknown[]
        ? never
        : NonNullable<T[K]> extends object
          ? FieldPaths<NonNullable<T[K]>, `${P}${K}.`>
          : never);
}[keyof T & string];
type MissingRules = Exclude<FieldPaths<TrainConfig>, TrainConfigRulePath>;
type RulesWithoutField = Exclude<TrainConfigRulePath, FieldPaths<TrainConfig>>;
// A TrainConfig field without a rule in shared/train-config-rules.ts (or a rule for no field) does not compile.
const _everyFieldHasOneRule: [MissingRules, RulesWithoutField] extends [never, never]
  ? true
  : { missing: MissingRules; extra: RulesWithoutField } = true;

/** What null stands for in a nullable field, by the rule's kind. */
function nullableAs(field: string): 'number' | 'object' | 'string' | undefined {
  const rule = ruleOf(field);
  if (rule?.nullable !== true) return undefined;
  return rule.kind === 'section' ? 'object' : rule.kind === 'text' ? 'string' : 'number';
}

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
    const nullable = nullableAs(field);
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

const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/** What is wrong with `v` under `rule` (its kind, range or choices), or null. */
function fieldProblem(rule: FieldRule, v: unknown): string | null {
  if (v === undefined) return rule.optional === true ? null : 'missing';
  if (v === null) return rule.nullable ? null : 'may not be null';
  switch (rule.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && boundProblem(rule, v) === null
        ? null
        : `expected an integer in ${rangeText(rule)}, got ${show(v)}`;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && boundProblem(rule, v) === null
        ? null
        : `expected a number in ${rangeText(rule)}, got ${show(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `expected true or false, got ${show(v)}`;
    case 'text':
      return typeof v === 'string' ? null : `expected a string, got ${show(v)}`;
    case 'choice':
      return typeof v === 'string' && rule.choices!.includes(v)
        ? null
        : `expected one of ${rule.choices!.join(', ')}, got ${show(v)}`;
    case 'section':
      return isObject(v) ? null : `expected an object, got ${show(v)}`;
  }
}

/**
 * Checks every field of a merged config against its rule (shared/train-config-rules.ts: kind, range, choices;
 * the fields of a null section are skipped), then the rules between fields; throws a CoreError naming `where`
 * and the field.
 */
export function validateConfig(c: TrainConfig, where: string): TrainConfig {
  const fail = (field: string, msg: string): never => {
    throw new CoreError('BAD_INPUT', `${where}: field "${field}": ${msg}`);
  };
  const root = c as unknown as Record<string, unknown>;
  // Sections come before their fields in TRAIN_CONFIG_RULES, so a field's holder has been checked already.
  for (const [path, rule] of Object.entries(TRAIN_CONFIG_RULES) as [string, FieldRule][]) {
    const dot = path.lastIndexOf('.');
    const holder = dot < 0 ? root : valueAt(root, path.slice(0, dot));
    if (!isObject(holder)) continue;
    const problem = fieldProblem(rule, holder[path.slice(dot + 1)]);
    if (problem !== null) fail(path, problem);
  }
  try {
    new RegExp(c.adapterPattern);
  } catch {
    fail('adapterPattern', 'not a valid regular expression');
  }
  if (c.model.dModel % c.model.nHeads !== 0) fail('model.nHeads', `must divide model.dModel (${c.model.dModel})`);
  if (c.method === 'aimkp') {
    if (c.aimkp === null) fail('aimkp', 'method "aimkp" needs the aimkp settings');
    if (c.mode !== 'multimodal')
      fail('mode', 'AimKP masks one modality while the other is present: mode must be multimodal');
  }
  return c;
}

/** The value at a dotted path (undefined when a step is missing or not an object). */
function valueAt(root: Record<string, unknown>, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) node = isObject(node) ? node[key] : undefined;
  return node;
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
