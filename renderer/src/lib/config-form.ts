// The hyperparameter form of New run: a preset's TrainConfig flattened into editable leaves (dotted paths),
// validated, and turned back into the nested `overrides` object runs.start takes (only what changed). Each field's
// kind, range, choices, help and visibility come from shared/train-config-rules.ts, the rules the core's
// validation reads too: the form refuses what the core would refuse, with the same bound.
import { LIMITS } from '@shared/contract/common';
import { boundProblem, MAX_SEED, ruleOf, type FieldRule } from '@shared/train-config-rules';

export type JsonLeaf = string | number | boolean | null;
export type JsonTree = { [key: string]: JsonLeaf | JsonTree | JsonLeaf[] | JsonTree[] };

export interface FieldSpec {
  path: string;
  kind: 'int' | 'number' | 'boolean' | 'text' | 'choice';
  /** The preset's value. */
  base: JsonLeaf;
  /** The field may be empty (null = "no limit", "none", "off"). */
  nullable: boolean;
  min?: number;
  /** The value must be above min (not equal). */
  minExclusive?: boolean;
  max?: number;
  /** The value must be below max (not equal). */
  maxExclusive?: boolean;
  choices?: readonly string[];
  /** The choices are suggestions: any other text is accepted (e.g. an encoder spec). */
  open?: boolean;
  help?: string;
}

const isTree = (v: unknown): v is JsonTree => v !== null && typeof v === 'object' && !Array.isArray(v);

function specOf(path: string, rule: FieldRule, base: JsonLeaf): FieldSpec | null {
  const common = { path, base, nullable: rule.nullable, help: rule.help };
  switch (rule.kind) {
    case 'section':
      return null; // a null section (e.g. aimkp of a standard preset): nothing to edit
    case 'boolean':
      return { ...common, kind: 'boolean' };
    case 'int':
    case 'number':
      return {
        ...common,
        kind: rule.kind,
        min: rule.min,
        minExclusive: rule.minExclusive,
        max: rule.max,
        maxExclusive: rule.maxExclusive,
      };
    case 'choice':
      return { ...common, kind: 'choice', choices: rule.choices };
    case 'text':
      return rule.suggestions
        ? { ...common, kind: 'choice', choices: rule.suggestions, open: true }
        : { ...common, kind: 'text' };
  }
}

/** The editable fields of a preset's config, in its order; hidden fields (and their sections) are left out. */
export function fieldsOf(config: JsonTree, prefix = ''): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (const [key, value] of Object.entries(config)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const rule = ruleOf(path);
    // No rule: not a TrainConfig field (the core refuses it); a test keeps every preset field covered.
    if (rule === undefined || rule.hidden) continue;
    if (isTree(value)) {
      out.push(...fieldsOf(value, path));
      continue;
    }
    if (Array.isArray(value)) continue;
    const spec = specOf(path, rule, value);
    if (spec) out.push(spec);
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
    if (f.choices && f.open !== true && !f.choices.includes(text)) return { error: `one of ${f.choices.join(', ')}` };
    return { value: text };
  }
  if (text === '') return f.nullable ? { value: null } : { error: 'required' };
  const n = Number(text);
  if (!Number.isFinite(n)) return { error: 'a number' };
  if (f.kind === 'int' && !Number.isInteger(n)) return { error: 'a whole number' };
  const bound = boundProblem(f, n);
  return bound === null ? { value: n } : { error: bound };
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

/**
 * Seeds typed as "1, 2, 3" or "1-3": distinct non-negative integers, in order; or an error that says which part
 * is refused and why (the limit it breaks).
 */
export function parseSeeds(text: string): { seeds: number[] } | { error: string } {
  const max = LIMITS.maxSeeds;
  const tooMany = `at most ${max} seeds in one launch (LIMITS.maxSeeds)`;
  const seeds: number[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) return { error: `${part}: a range goes from the lower seed to the higher, e.g. ${b}-${a}` };
      if (b - a + 1 > max) return { error: `${part}: ${tooMany}` };
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) seeds.push(Number(part));
    else return { error: `"${part}" is not a seed (whole numbers ≥ 0, e.g. 1, 2, 3 or 1-3)` };
  }
  const distinct = [...new Set(seeds)];
  if (distinct.length === 0) return { error: 'at least one seed' };
  if (distinct.length > max) return { error: `${distinct.length} seeds: ${tooMany}` };
  const big = distinct.find((s) => s > MAX_SEED);
  if (big !== undefined) return { error: `${big}: seeds are at most ${MAX_SEED} (2^31 − 1, the seed field's bound)` };
  return { seeds: distinct };
}
