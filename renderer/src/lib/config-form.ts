// The hyperparameter form of New run: a preset's TrainConfig flattened into editable leaves (dotted paths),
// validated, and turned back into the nested `overrides` object runs.start takes (only what changed).
export type JsonLeaf = string | number | boolean | null;
export type JsonTree = { [key: string]: JsonLeaf | JsonTree | JsonLeaf[] | JsonTree[] };

export interface FieldSpec {
  path: string;
  kind: 'int' | 'number' | 'boolean' | 'text' | 'choice';
  /** The preset's value. */
  base: JsonLeaf;
  /** For int/number fields that may be empty (null = "no limit"). */
  nullable: boolean;
  min?: number;
  max?: number;
  choices?: readonly string[];
  help?: string;
}

/** Not hyperparameters (identity of the preset, or set elsewhere in the form). */
const HIDDEN = new Set(['preset', 'description', 'paper', 'method', 'mode', 'seed', 'model.lora', 'adapterPattern']);
/** Text fields that may stay empty (null): the run to warm-start from (the paper presets need one). */
const NULLABLE_TEXT = new Set(['initFrom']);
const CHOICES: Record<string, readonly string[]> = {
  'aimkp.maskKind': ['structured', 'random', 'pool'],
  'aimkp.stride.rule': ['progressive', 'fixed', 'linear'],
  encoder: ['mobilenet-v2', 'mobilenet-v2-bottleneck', 'patch:7:16', 'patch:7:4'],
};
const NULLABLE_INTS = new Set(['maxTrain', 'maxValid']);
const RANGES: Record<string, [number, number]> = {
  'aimkp.tauText': [-1, 1],
  'aimkp.tauImage': [-1, 1],
  warmupRatio: [0, 1],
  'model.dropout': [0, 0.99],
};
const HELP: Record<string, string> = {
  epochs: 'passes over the training split',
  batchSize: 'samples per optimizer step',
  samplesPerCall: 'samples per forward/backward call (memory)',
  lr: 'learning rate of the LM (and LoRA)',
  adapterLr: 'learning rate of the image adapter',
  'aimkp.tauText': 'accept a text-masked row when cos > tau_t',
  'aimkp.tauImage': 'accept an image-masked row when cos > tau_v',
  maxTrain: 'use only the first N training items (empty = all)',
  initFrom: 'warm start from this run (its best/ weights); the paper presets need one',
};
/** Integer-valued by name even when the preset's value happens to be written as a float. */
const INT_KEYS =
  /(epochs|batchSize|samplesPerCall|dModel|nLayers|nHeads|dFF|adapterHidden|maxTextTokens|maxAnswerTokens|minWordCount|maxVocab|maxTrain|maxValid|checkpointEvery|validBatch|fixedStride)$/;

export function fieldsOf(config: JsonTree, prefix = ''): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (const [key, value] of Object.entries(config)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (HIDDEN.has(path)) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...fieldsOf(value as JsonTree, path));
      continue;
    }
    if (Array.isArray(value)) continue;
    if (value === null) {
      if (NULLABLE_INTS.has(path))
        out.push({ path, kind: 'int', base: null, nullable: true, min: 1, help: HELP[path] });
      else if (NULLABLE_TEXT.has(path)) out.push({ path, kind: 'text', base: null, nullable: true, help: HELP[path] });
      continue;
    }
    const range = RANGES[path];
    if (typeof value === 'boolean') out.push({ path, kind: 'boolean', base: value, nullable: false, help: HELP[path] });
    else if (typeof value === 'number') {
      const int = INT_KEYS.test(path);
      out.push({
        path,
        kind: int ? 'int' : 'number',
        base: value,
        nullable: NULLABLE_INTS.has(path),
        min: range ? range[0] : int ? 1 : 0,
        max: range?.[1],
        help: HELP[path],
      });
    } else if (CHOICES[path])
      out.push({ path, kind: 'choice', base: value, nullable: false, choices: CHOICES[path], help: HELP[path] });
    else out.push({ path, kind: 'text', base: value, nullable: NULLABLE_TEXT.has(path), help: HELP[path] });
  }
  return out;
}

/** What the form holds for a field: numbers as typed text (so a half-typed value is not lost). */
export type FormValue = string | boolean;

export function initialValue(f: FieldSpec): FormValue {
  if (f.kind === 'boolean') return f.base === true;
  return f.base === null ? '' : String(f.base);
}

/** Parses a form value; returns the JSON value or an error message naming the rule. */
export function parseField(f: FieldSpec, v: FormValue): { value: JsonLeaf } | { error: string } {
  if (f.kind === 'boolean') return { value: v === true };
  const text = String(v).trim();
  if (f.kind === 'text' || f.kind === 'choice') {
    if (text === '') return f.nullable ? { value: null } : { error: 'required' };
    if (f.choices && !f.choices.includes(text) && f.path !== 'encoder')
      return { error: `one of ${f.choices.join(', ')}` };
    return { value: text };
  }
  if (text === '') return f.nullable ? { value: null } : { error: 'required' };
  const n = Number(text);
  if (!Number.isFinite(n)) return { error: 'a number' };
  if (f.kind === 'int' && !Number.isInteger(n)) return { error: 'a whole number' };
  if (f.min !== undefined && n < f.min) return { error: `at least ${f.min}` };
  if (f.max !== undefined && n > f.max) return { error: `at most ${f.max}` };
  return { value: n };
}

export function isChanged(f: FieldSpec, v: FormValue): boolean {
  const p = parseField(f, v);
  return !('error' in p) && p.value !== f.base;
}

/** The nested overrides object of the changed, valid fields (dotted paths → nested keys). */
export function overridesOf(fields: readonly FieldSpec[], values: Readonly<Record<string, FormValue>>): JsonTree {
  const out: JsonTree = {};
  for (const f of fields) {
    const p = parseField(f, values[f.path]);
    if ('error' in p || p.value === f.base) continue;
    const keys = f.path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as JsonTree;
    }
    node[keys[keys.length - 1]] = p.value;
  }
  return out;
}

/** Seeds typed as "1, 2, 3" or "1-3": distinct non-negative integers, in order; or an error. */
export function parseSeeds(text: string): { seeds: number[] } | { error: string } {
  const seeds: number[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a || b - a > 31) return { error: `bad range ${part}` };
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) seeds.push(Number(part));
    else return { error: `"${part}" is not a seed (whole numbers ≥ 0, e.g. 1, 2, 3 or 1-3)` };
  }
  const distinct = [...new Set(seeds)];
  if (distinct.length === 0) return { error: 'at least one seed' };
  if (distinct.length > 32) return { error: 'at most 32 seeds' };
  if (distinct.some((s) => s > 2 ** 31 - 1)) return { error: 'seeds must be below 2^31' };
  return { seeds: distinct };
}
