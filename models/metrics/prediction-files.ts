// Readers for `aimkp eval`: gold keyphrases (a CMKP *_src.txt or a data-set manifest) and predictions
// (plain lines split on a separator, or JSONL records matched by id). Every problem is a CoreError that
// names the file and line: a silently misaligned evaluation is worse than none.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '../core-error';
import { SPLITS, type ManifestItem, type Split } from '../data/manifest-types';

export interface GoldSample {
  /** Manifest id, or the 1-based line number for a CMKP file. */
  id: string;
  /** Source text (for the present/absent split). */
  text: string;
  keyphrases: string[];
}

export interface GoldFile {
  path: string;
  format: 'cmkp' | 'manifest';
  samples: GoldSample[];
}

export interface PredictionFile {
  path: string;
  format: 'lines' | 'jsonl';
  /** The separator used for plain lines (null for JSONL). */
  separator: string | null;
  /** Repeat 0 (the only one for plain lines and flat JSONL lists), aligned with the gold samples. */
  predictions: string[][];
  /**
   * One list per decoding repeat, each aligned with the gold samples: `repeats[r][i]` is repeat r of sample i.
   * Plain lines and flat JSONL lists have 1 repeat; a run's JSONL (`"predictions": [[...], [...]]`) has one per
   * decoding repeat. `repeats[0] === predictions`.
   */
  repeats: string[][][];
}

const CMKP_SEP = '<sep>';

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new CoreError('NOT_FOUND', `aimkp eval: ${what} file not found: ${path}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CoreError('BAD_INPUT', `aimkp eval: cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
}

/** Lines of a text file; a final newline does not start an extra line; CRLF is accepted. */
export function fileLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Parses a CMKP `text<sep>kp1;kp2<sep>image_url` file. */
export function parseCmkpGold(text: string, path: string): GoldSample[] {
  return fileLines(text).map((line, i) => {
    const parts = line.trim().split(CMKP_SEP);
    if (parts.length < 2)
      throw new CoreError(
        'BAD_INPUT',
        `aimkp eval: ${path}:${i + 1}: expected "text<sep>keyphrases<sep>image_url", found no <sep>`,
      );
    const keyphrases = parts[1].trim().split(';');
    return { id: String(i + 1), text: parts[0], keyphrases };
  });
}

/** Parses a manifest.jsonl, keeping the items of one split. */
export function parseManifestGold(text: string, path: string, split: Split): GoldSample[] {
  const out: GoldSample[] = [];
  const ids = new Set<string>();
  fileLines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let item: Partial<ManifestItem>;
    try {
      item = JSON.parse(line) as Partial<ManifestItem>;
    } catch (err) {
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: invalid JSON (${(err as Error).message})`);
    }
    if (typeof item !== 'object' || item === null)
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: expected a JSON object`);
    if (typeof item.id !== 'string' || item.id === '')
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: field "id" must be a non-empty string`);
    if (item.split !== split) return;
    if (typeof item.text !== 'string')
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: field "text" must be a string`);
    if (!Array.isArray(item.keyphrases) || !item.keyphrases.every((k) => typeof k === 'string')) {
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: field "keyphrases" must be an array of strings`);
    }
    if (ids.has(item.id)) throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: duplicate id "${item.id}"`);
    ids.add(item.id);
    out.push({ id: item.id, text: item.text, keyphrases: item.keyphrases });
  });
  if (out.length === 0) throw new CoreError('BAD_INPUT', `aimkp eval: ${path}: no items with split "${split}"`);
  return out;
}

/**
 * Reads gold keyphrases: a data-set folder (its manifest.jsonl), a *.jsonl manifest, or a CMKP src file.
 */
export function readGold(path: string, split: Split = 'test'): GoldFile {
  if (!SPLITS.includes(split))
    throw new CoreError('BAD_INPUT', `aimkp eval: --split must be one of ${SPLITS.join(', ')}, got "${split}"`);
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'manifest.jsonl');
    if (!existsSync(file)) throw new CoreError('BAD_INPUT', `aimkp eval: ${path} is a folder without manifest.jsonl`);
  }
  const text = readText(file, 'gold');
  if (file.endsWith('.jsonl')) return { path: file, format: 'manifest', samples: parseManifestGold(text, file, split) };
  return { path: file, format: 'cmkp', samples: parseCmkpGold(text, file) };
}

/** The default separator: ';' for a .txt file containing ';' (CMKP style), ',' otherwise (AimKP outputs). */
export function defaultSeparator(path: string, text: string): string {
  return path.endsWith('.txt') && text.includes(';') ? ';' : ',';
}

/**
 * Reads predictions aligned with `gold`. JSONL (`.jsonl`): `{"id": ..., "predictions": [...]}` per line,
 * matched by id (or by order when no record has an id); `predictions` is either one ranked list of phrases
 * or, as in a trained run's predictions file, one list per decoding repeat (the same count on every line).
 * Otherwise one line per sample, phrases separated by `separator` (see defaultSeparator), matched by order.
 */
export function readPredictions(path: string, gold: readonly GoldSample[], separator?: string): PredictionFile {
  const text = readText(path, 'predictions');
  if (path.endsWith('.jsonl')) {
    const repeats = parseJsonlPredictions(text, path, gold);
    return { path, format: 'jsonl', separator: null, predictions: repeats[0], repeats };
  }
  const sep = separator ?? defaultSeparator(path, text);
  if (sep === '') throw new CoreError('BAD_INPUT', 'aimkp eval: --sep must not be empty');
  const lines = fileLines(text);
  if (lines.length !== gold.length) {
    const at = Math.min(lines.length, gold.length) + 1;
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: ${path} has ${lines.length} prediction lines but the gold has ${gold.length} samples ` +
        `(first unmatched: ${lines.length < gold.length ? `gold sample ${at}, id "${gold[at - 1].id}"` : `${path}:${at}`})`,
    );
  }
  // Like the CMKP script: strip the line, then split; each phrase is trimmed when it is normalized.
  const predictions = lines.map((l) => l.trim().split(sep));
  return { path, format: 'lines', separator: sep, predictions, repeats: [predictions] };
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The repeats of one record's `predictions`: a flat string list is 1 repeat, a list of string lists is one
 * per repeat. `[]` fits both forms (`form` null): no phrases in a flat file, 0 repeats in a nested one.
 */
function recordRepeats(predictions: unknown, where: string): { form: 'flat' | 'nested' | null; repeats: string[][] } {
  if (Array.isArray(predictions) && predictions.length === 0) return { form: null, repeats: [] };
  if (isStringArray(predictions)) return { form: 'flat', repeats: [predictions] };
  if (Array.isArray(predictions) && predictions.some((p) => Array.isArray(p))) {
    if (!predictions.every(isStringArray)) {
      throw new CoreError(
        'BAD_INPUT',
        `aimkp eval: ${where}: field "predictions" must be an array of strings or an array of string arrays (one per decoding repeat)`,
      );
    }
    return { form: 'nested', repeats: predictions };
  }
  throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: field "predictions" must be an array of strings`);
}

/** Returns repeats[r][i]: repeat r of gold sample i (at least one repeat). */
function parseJsonlPredictions(text: string, path: string, gold: readonly GoldSample[]): string[][][] {
  const records: { line: number; id: string | undefined; form: 'flat' | 'nested' | null; repeats: string[][] }[] = [];
  fileLines(text).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: invalid JSON (${(err as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: expected a JSON object`);
    const { id, predictions } = rec as { id?: unknown; predictions?: unknown };
    const parsed = recordRepeats(predictions, where);
    if (id !== undefined && typeof id !== 'string' && typeof id !== 'number')
      throw new CoreError('BAD_INPUT', `aimkp eval: ${where}: field "id" must be a string or number`);
    records.push({ line: i + 1, id: id === undefined ? undefined : String(id), ...parsed });
  });
  // Every record must use the same form and (nested) the same number of repeats as the first nested one.
  const firstNested = records.find((r) => r.form === 'nested');
  const firstFlat = records.find((r) => r.form === 'flat');
  if (firstNested !== undefined && firstFlat !== undefined) {
    const [a, b] = firstNested.line < firstFlat.line ? [firstNested, firstFlat] : [firstFlat, firstNested];
    const what = (r: { form: 'flat' | 'nested' | null }) =>
      r.form === 'flat' ? 'a flat list of phrases' : 'one list per decoding repeat';
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: ${path}:${b.line}: field "predictions" is ${what(b)} but ${path}:${a.line} has ${what(a)}; use one form for the whole file`,
    );
  }
  if (firstNested === undefined) {
    for (const r of records) if (r.form === null) r.repeats = [[]]; // `[]` in a flat file: no phrases
  } else {
    const count = firstNested.repeats.length;
    const bad = records.find((r) => r.repeats.length !== count);
    if (bad !== undefined) {
      throw new CoreError(
        'BAD_INPUT',
        `aimkp eval: ${path}:${bad.line}: field "predictions" has ${bad.repeats.length} repeat(s) but ${path}:${firstNested.line} has ` +
          `${count}; every record must have the same number of repeats`,
      );
    }
  }
  const repeatCount = firstNested === undefined ? 1 : firstNested.repeats.length;
  const byRepeat = (perSample: readonly string[][][]): string[][][] =>
    Array.from({ length: repeatCount }, (_, rep) => perSample.map((s) => s[rep]));
  const withId = records.filter((r) => r.id !== undefined).length;
  if (withId === 0) {
    if (records.length !== gold.length)
      throw new CoreError(
        'BAD_INPUT',
        `aimkp eval: ${path} has ${records.length} records without ids but the gold has ${gold.length} samples`,
      );
    return byRepeat(records.map((r) => r.repeats));
  }
  if (withId !== records.length) {
    const r = records.find((x) => x.id === undefined);
    throw new CoreError('BAD_INPUT', `aimkp eval: ${path}:${r?.line}: field "id" missing (other records have one)`);
  }
  const goldIndex = new Map(gold.map((g, i) => [g.id, i]));
  const out: (string[][] | undefined)[] = new Array(gold.length).fill(undefined);
  for (const r of records) {
    const idx = goldIndex.get(r.id as string);
    if (idx === undefined)
      throw new CoreError('BAD_INPUT', `aimkp eval: ${path}:${r.line}: id "${r.id}" is not in the gold`);
    if (out[idx] !== undefined)
      throw new CoreError('BAD_INPUT', `aimkp eval: ${path}:${r.line}: duplicate id "${r.id}"`);
    out[idx] = r.repeats;
  }
  const missing = gold.filter((_, i) => out[i] === undefined).map((g) => g.id);
  if (missing.length > 0) {
    const shown = missing
      .slice(0, 5)
      .map((m) => `"${m}"`)
      .join(', ');
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: ${path} has no predictions for ${missing.length} gold id(s): ${shown}${missing.length > 5 ? ', ...' : ''}`,
    );
  }
  return byRepeat(out as string[][][]);
}
