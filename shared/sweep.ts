// A sweep: presets × a grid of config overrides × seeds, expanded into training runs with stable names. Pure and
// dependency-free: the New-run view counts and names the runs as the user types, the service and `aimkp sweep`
// expand the same spec the same way. A sweep is only an id and a cell label on each of its runs (run-meta.json):
// the runs are independent jobs; the Runs view groups them by sweep id and averages them by cell.

/** Values a grid axis can take: what a TrainConfig field holds. */
export type SweepValue = number | string | boolean | null;

/** Plain JSON (overrides are nested TrainConfig fields). */
export type SweepJson = null | boolean | number | string | SweepJson[] | { [key: string]: SweepJson };

export interface SweepSpec {
  /** Short name; run ids start with it. Letters, digits, '-', '_' (at most 40). */
  name: string;
  /** A data-set id of the workspace (or the bundled one); `aimkp sweep` also takes a folder. */
  dataset: string;
  presets: string[];
  seeds: number[];
  /** Dotted TrainConfig paths → the values to try, e.g. {"aimkp.tauText": [0.05, 0.1]}. */
  grid: Record<string, SweepValue[]>;
  /** TrainConfig fields applied to every run (nested objects, as runs.start's overrides). */
  overrides: Record<string, SweepJson>;
  /** Stop every run after this global step (time-boxed sweeps, tests); resumable. */
  maxSteps?: number;
  tags?: string[];
}

/** What each run of a sweep carries (job and run-meta.json): its sweep, its cell and its place. */
export interface SweepRef {
  id: string;
  /** The cell: preset + grid values, seeds apart ("aimkp tauImage=0.4 tauText=0.05"). Mean ± std is per cell. */
  cell: string;
  seed: number;
  index: number;
  total: number;
}

export interface SweepRun {
  runId: string;
  preset: string;
  seed: number;
  /** The sweep's overrides with this cell's grid values set (nested, as runs.start takes them). */
  overrides: Record<string, SweepJson>;
  ref: SweepRef;
}

export interface SweepExpansion {
  sweepId: string;
  runs: SweepRun[];
  cells: string[];
}

export const SWEEP_LIMITS = {
  maxRuns: 500,
  maxAxes: 6,
  maxValuesPerAxis: 24,
  maxPresets: 16,
  maxSeeds: 32,
} as const;

const SWEEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CONFIG_PATH = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/** A spec that cannot be expanded: `field` is the JSON path of the culprit (e.g. `grid["aimkp.tauText"]`). */
export class SweepSpecError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`field "${field}": ${reason}`);
    this.name = 'SweepSpecError';
  }
}

/** Sets a dotted path in a nested object (creating the objects on the way). */
export function setPath(obj: Record<string, SweepJson>, path: string, value: SweepJson): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, SweepJson>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** The last segment of a dotted path: "aimkp.tauText" → "tauText" (what run names and cells show). */
export function shortKey(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** A value as a run name shows it: 0.1 → "0.1", true → "true"; other characters become '_'. */
export function valueToken(v: SweepValue): string {
  return String(v).replace(/[^A-Za-z0-9.]+/g, '_');
}

/** The grid's combinations, keys in sorted order (the order run names and cells use). */
function combinations(grid: Record<string, SweepValue[]>): [string, SweepValue][][] {
  let combos: [string, SweepValue][][] = [[]];
  for (const k of Object.keys(grid).sort())
    combos = combos.flatMap((c) => grid[k].map((v) => [...c, [k, v] as [string, SweepValue]]));
  return combos;
}

/** How many runs a spec makes (before any check): presets × grid cells × seeds. */
export function sweepSize(spec: Pick<SweepSpec, 'presets' | 'seeds' | 'grid'>): number {
  const cells = Object.values(spec.grid).reduce((n, vs) => n * vs.length, 1);
  return spec.presets.length * cells * spec.seeds.length;
}

/** Checks the shape rules every side agrees on; throws SweepSpecError naming the field. */
export function checkSweepSpec(s: SweepSpec): void {
  if (!SWEEP_NAME.test(s.name)) throw new SweepSpecError('name', "letters, digits, '-' or '_', at most 40");
  if (s.presets.length === 0) throw new SweepSpecError('presets', 'give at least one preset');
  if (s.presets.length > SWEEP_LIMITS.maxPresets)
    throw new SweepSpecError('presets', `at most ${SWEEP_LIMITS.maxPresets}`);
  const dupPreset = s.presets.find((p, i) => s.presets.indexOf(p) !== i);
  if (dupPreset !== undefined) throw new SweepSpecError('presets', `"${dupPreset}" is listed twice`);
  if (s.seeds.length === 0) throw new SweepSpecError('seeds', 'give at least one seed');
  if (s.seeds.length > SWEEP_LIMITS.maxSeeds) throw new SweepSpecError('seeds', `at most ${SWEEP_LIMITS.maxSeeds}`);
  const dupSeed = s.seeds.find((x, i) => s.seeds.indexOf(x) !== i);
  if (dupSeed !== undefined) throw new SweepSpecError('seeds', `seed ${dupSeed} is listed twice`);
  const keys = Object.keys(s.grid);
  if (keys.length > SWEEP_LIMITS.maxAxes) throw new SweepSpecError('grid', `at most ${SWEEP_LIMITS.maxAxes} axes`);
  const shorts = new Map<string, string>();
  for (const k of keys) {
    const f = `grid[${JSON.stringify(k)}]`;
    if (!CONFIG_PATH.test(k)) throw new SweepSpecError(f, 'a dotted TrainConfig path, e.g. "aimkp.tauText"');
    if (k === 'seed' || k === 'preset') throw new SweepSpecError(f, `"${k}" is not a grid axis: list it under "${k}s"`);
    const vs = s.grid[k];
    if (vs.length === 0) throw new SweepSpecError(f, 'give at least one value');
    if (vs.length > SWEEP_LIMITS.maxValuesPerAxis)
      throw new SweepSpecError(f, `at most ${SWEEP_LIMITS.maxValuesPerAxis} values`);
    const dup = vs.findIndex((v, i) => vs.indexOf(v) !== i);
    if (dup >= 0) throw new SweepSpecError(`${f}[${dup}]`, `${JSON.stringify(vs[dup])} is listed twice`);
    const short = shortKey(k);
    const other = shorts.get(short);
    if (other !== undefined)
      throw new SweepSpecError(f, `ends like "${other}" (${short}): the run names would clash; rename one`);
    shorts.set(short, k);
  }
  const total = sweepSize(s);
  if (total > SWEEP_LIMITS.maxRuns)
    throw new SweepSpecError('grid', `${total} runs; a sweep makes at most ${SWEEP_LIMITS.maxRuns}`);
  if (s.maxSteps !== undefined && (!Number.isInteger(s.maxSteps) || s.maxSteps < 1))
    throw new SweepSpecError('maxSteps', 'an integer ≥ 1');
}

/** cyrb53: a 53-bit string hash (no crypto needed in the browser); stable across platforms. */
function hash53(str: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** JSON with object keys sorted (the same spec written in another key order hashes alike). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The sweep's id: its name and a hash of the normalised spec (expanding the same file again gives the same id). */
export function sweepIdOf(s: SweepSpec): string {
  const { tags: _tags, ...rest } = s;
  return `${s.name}-${hash53(canonical(rest)).slice(0, 8)}`;
}

/**
 * Expands a sweep into runs, seed-major (every cell's first seed before any cell's second, so a sweep cut short
 * still covers the grid), then preset, then the grid in key order. Run ids: `<name>-<preset>-<key><value>…-s<seed>`.
 */
export function expandSweep(s: SweepSpec): SweepExpansion {
  checkSweepSpec(s);
  const sweepId = sweepIdOf(s);
  const combos = combinations(s.grid);
  const cellsOf = s.presets.flatMap((preset) => combos.map((combo) => ({ preset, combo })));
  const total = cellsOf.length * s.seeds.length;
  const runs: SweepRun[] = [];
  for (const seed of s.seeds) {
    for (const { preset, combo } of cellsOf) {
      const cell = [preset, ...combo.map(([k, v]) => `${shortKey(k)}=${valueToken(v)}`)].join(' ');
      const overrides = JSON.parse(JSON.stringify(s.overrides)) as Record<string, SweepJson>;
      for (const [k, v] of combo) setPath(overrides, k, v);
      const runId = [s.name, preset, ...combo.map(([k, v]) => `${shortKey(k)}${valueToken(v)}`), `s${seed}`].join('-');
      if (!RUN_ID.test(runId) || runId.includes('..'))
        throw new SweepSpecError('name', `run id "${runId}" is not a valid folder name: shorten the name or the grid`);
      runs.push({ runId, preset, seed, overrides, ref: { id: sweepId, cell, seed, index: runs.length, total } });
    }
  }
  const cells = cellsOf.map(({ preset, combo }) =>
    [preset, ...combo.map(([k, v]) => `${shortKey(k)}=${valueToken(v)}`)].join(' '),
  );
  return { sweepId, runs, cells };
}

/** The progress of a sweep's runs by status (the Runs view's group row). */
export interface SweepProgress {
  total: number;
  done: number;
  running: number;
  queued: number;
  failed: number;
  /** Stopped or interrupted: resumable. */
  stopped: number;
}

export function sweepProgress(statuses: readonly string[], total: number): SweepProgress {
  const p: SweepProgress = { total, done: 0, running: 0, queued: 0, failed: 0, stopped: 0 };
  for (const s of statuses) {
    if (s === 'completed') p.done++;
    else if (s === 'running' || s === 'stopping') p.running++;
    else if (s === 'queued') p.queued++;
    else if (s === 'failed') p.failed++;
    else if (s === 'stopped' || s === 'interrupted') p.stopped++;
  }
  return p;
}

/** Mean and sample standard deviation (n − 1; null below 2 values). */
export function meanStd(values: readonly number[]): { n: number; mean: number | null; std: number | null } {
  const n = values.length;
  if (n === 0) return { n, mean: null, std: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, std: null };
  return { n, mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) };
}

/** A sweep file's text that cannot be used: names the file, the line (JSON syntax) or the field. */
export class SweepFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | null,
    readonly line: number | null,
    message: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${field !== null ? `field "${field}": ` : ''}${message}`);
    this.name = 'SweepFileError';
  }
}

const SPEC_KEYS = ['name', 'dataset', 'presets', 'seeds', 'grid', 'overrides', 'maxSteps', 'tags'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSweepJson(v: unknown): v is SweepJson {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isSweepJson);
  return isPlainObject(v) && Object.values(v).every(isSweepJson);
}

/**
 * Where JSON.parse stopped, from its message: "at position N", or (V8's other form) the token and an excerpt of the
 * text around it ("Unexpected token ']', ..."[1,]" is not valid JSON"), or the end of the input.
 */
function jsonErrorOffset(text: string, msg: string): number | null {
  const pos = /position (\d+)/.exec(msg);
  if (pos) return Number(pos[1]);
  if (/end of JSON input/.test(msg)) return text.length;
  const m = /^Unexpected token '([\s\S])', (?:\.\.\.)?"([\s\S]*)"(?:\.\.\.)? is not valid JSON$/.exec(msg);
  if (!m) return null;
  const where = text.indexOf(m[2]);
  return where < 0 ? null : where + Math.max(0, m[2].indexOf(m[1]));
}

/**
 * A sweep spec from a file's text (`aimkp sweep FILE`), every field checked: a JSON syntax error names its line, a
 * bad field its JSON path; then the shape rules of checkSweepSpec. Example:
 * {"name": "tau", "dataset": "cmkp-tiny", "presets": ["aimkp"], "seeds": [1, 2, 3],
 *  "grid": {"aimkp.tauText": [0.05, 0.1]}, "overrides": {"epochs": 2}}
 */
export function parseSweepSpec(text: string, file: string): SweepSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = jsonErrorOffset(text, msg);
    const line = at === null ? null : text.slice(0, at).split('\n').length;
    throw new SweepFileError(file, null, line, `not valid JSON (${msg.split('\n')[0]})`);
  }
  const bad = (field: string, message: string) => new SweepFileError(file, field, null, message);
  if (!isPlainObject(raw)) throw bad('(top)', 'expected an object {"name", "dataset", "presets", "seeds", …}');
  for (const k of Object.keys(raw))
    if (!SPEC_KEYS.includes(k)) throw bad(k, `unknown field; expected one of ${SPEC_KEYS.join(', ')}`);
  const str = (k: string): string => {
    const v = raw[k];
    if (typeof v !== 'string' || v.length === 0) throw bad(k, 'expected a non-empty string');
    return v;
  };
  const list = <T>(k: string, ok: (x: unknown) => x is T, what: string): T[] => {
    const v = raw[k];
    if (!Array.isArray(v)) throw bad(k, `expected a list of ${what}`);
    const i = v.findIndex((x) => !ok(x));
    if (i >= 0) throw bad(`${k}[${i}]`, `expected ${what}, got ${JSON.stringify(v[i])}`);
    return v as T[];
  };
  const spec: SweepSpec = {
    name: str('name'),
    dataset: str('dataset'),
    presets: list('presets', (x): x is string => typeof x === 'string' && x.length > 0, 'preset names'),
    seeds: list('seeds', (x): x is number => Number.isInteger(x) && (x as number) >= 0, 'integer seeds ≥ 0'),
    grid: {},
    overrides: {},
  };
  if (raw.grid !== undefined) {
    if (!isPlainObject(raw.grid)) throw bad('grid', 'expected an object {"dotted.path": [values…]}');
    for (const [k, vs] of Object.entries(raw.grid)) {
      const f = `grid[${JSON.stringify(k)}]`;
      if (!Array.isArray(vs)) throw bad(f, 'expected a list of values');
      const i = vs.findIndex((x) => !(x === null || ['number', 'string', 'boolean'].includes(typeof x)));
      if (i >= 0 || vs.some((x) => typeof x === 'number' && !Number.isFinite(x)))
        throw bad(`${f}[${Math.max(i, 0)}]`, 'expected numbers, strings, booleans or null');
      spec.grid[k] = vs as SweepValue[];
    }
  }
  if (raw.overrides !== undefined) {
    if (!isPlainObject(raw.overrides) || !isSweepJson(raw.overrides))
      throw bad('overrides', 'expected an object of TrainConfig fields (plain JSON)');
    spec.overrides = raw.overrides as Record<string, SweepJson>;
  }
  if (raw.maxSteps !== undefined) {
    if (typeof raw.maxSteps !== 'number') throw bad('maxSteps', 'expected an integer ≥ 1');
    spec.maxSteps = raw.maxSteps;
  }
  if (raw.tags !== undefined) spec.tags = list('tags', (x): x is string => typeof x === 'string', 'strings');
  try {
    checkSweepSpec(spec);
  } catch (err) {
    if (err instanceof SweepSpecError) throw bad(err.field, err.reason);
    throw err;
  }
  return spec;
}
