// Loads and validates a data set folder (manifest.jsonl + optional dataset.json + images).
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CoreError, fromFsError } from '../core-error';
import type { DataIssue, IssueReason } from './data-issue';
import { checkImageFile, mapLimit, type ImageProblem } from './image-check';
import { SPLITS, type DatasetInfo, type ManifestItem, type Split } from './manifest-types';
import { validateManifestValue } from './validate-item';

export interface LoadOptions {
  /** Check that every image exists and decodes (default true). */
  checkImages?: boolean;
  /** Keep only these splits (the others are still validated, but not image-checked or returned). */
  splits?: Split[];
  /**
   * Longest accepted string field (text, ocr, attributes, each keyphrase), in characters. Default: env
   * AIMKP_MAX_FIELD_CHARS, else 10,000; 0 = no limit. Longer fields follow `overLongFields`.
   */
  maxFieldChars?: number;
  /** 'truncate' (default): cut to the limit, keep the item, report a warning; 'skip': leave the item out. */
  overLongFields?: 'truncate' | 'skip';
  /**
   * A line with bytes that are not UTF-8: 'keep' (default) decodes them as U+FFFD (which the tokenizer
   * drops, never a vocabulary word) and reports a warning with the line; 'skip' leaves the line out.
   */
  invalidUtf8?: 'keep' | 'skip';
}

export const DEFAULT_MAX_FIELD_CHARS = 10_000;

/** The field-length limit in effect: the option, else env AIMKP_MAX_FIELD_CHARS, else the default. */
export function maxFieldCharsFrom(option: number | undefined): number {
  if (option !== undefined) return option;
  const env = process.env.AIMKP_MAX_FIELD_CHARS;
  if (env === undefined || env === '') return DEFAULT_MAX_FIELD_CHARS;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0) throw new CoreError('BAD_INPUT', `AIMKP_MAX_FIELD_CHARS=${env}: expected a whole number ≥ 0 (0 = no limit)`);
  return n;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/** Splits a file's bytes into lines (on \n), decoding each as UTF-8; `badByte` is the offset of the first invalid byte, if any. */
export function decodeLines(bytes: Uint8Array): { text: string; badByte: number | null }[] {
  const out: { text: string; badByte: number | null }[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end);
    try {
      out.push({ text: strictUtf8.decode(raw), badByte: null });
    } catch {
      out.push({ text: lenientUtf8.decode(raw), badByte: firstInvalidUtf8(raw) });
    }
    start = end + 1;
  }
  return out;
}

/** Offset of the first byte that does not belong to a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    for (let k = 1; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    try {
      strictUtf8.decode(b.subarray(i, i + n));
    } catch {
      return i; // overlong forms, surrogates, > U+10FFFF
    }
    i += n;
  }
  return b.length;
}

/** Cuts `s` to `max` UTF-16 units without splitting a surrogate pair. */
function cutTo(s: string, max: number): string {
  let cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

export interface SplitCounts {
  loaded: number;
  skipped: number;
}

export interface LoadSummary {
  /** Non-blank manifest lines read. */
  lines: number;
  loaded: number;
  skipped: number;
  /** Valid items left out because their split was not requested. */
  filteredOut: number;
  /** Issues that kept their item (warnings). */
  warnings: number;
  /** Per split; items whose split is unreadable count under 'unknown'. */
  bySplit: Record<Split | 'unknown', SplitCounts>;
  /** Skipped items per reason (the first reason found on the line). */
  byReason: Partial<Record<IssueReason, number>>;
}

export interface LoadedDataset {
  dir: string;
  info: DatasetInfo | null;
  items: ManifestItem[];
  issues: DataIssue[];
  summary: LoadSummary;
}

export const MANIFEST = 'manifest.jsonl';
export const DATASET_INFO = 'dataset.json';

/**
 * Reads `dir/manifest.jsonl`, validating every line. Bad lines become issues (file + line + field) and
 * are skipped; items whose image is missing or corrupt are skipped too. Throws a CoreError only when the
 * folder or manifest does not exist.
 */
export async function loadDataset(dir: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const checkImages = options.checkImages ?? true;
  const maxChars = maxFieldCharsFrom(options.maxFieldChars);
  const overLong = options.overLongFields ?? 'truncate';
  const invalidUtf8 = options.invalidUtf8 ?? 'keep';
  const wanted = new Set<Split>(options.splits ?? SPLITS);
  if (!existsSync(dir)) throw new CoreError('NOT_FOUND', `data set folder "${dir}" does not exist`, { path: dir });
  if (!statSync(dir).isDirectory())
    throw new CoreError(
      'BAD_INPUT',
      `"${dir}" is a file, not a data set folder (a data set is a folder holding ${MANIFEST}${basename(dir) === MANIFEST ? `: give "${dirname(dir)}"` : ''})`,
      { path: dir },
    );
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) throw new CoreError('NOT_FOUND', `data set folder "${dir}" has no ${MANIFEST}`);

  const issues: DataIssue[] = [];
  const info = await readInfo(dir, issues);
  const summary: LoadSummary = {
    lines: 0,
    loaded: 0,
    skipped: 0,
    filteredOut: 0,
    warnings: 0,
    bySplit: { train: { loaded: 0, skipped: 0 }, valid: { loaded: 0, skipped: 0 }, test: { loaded: 0, skipped: 0 }, unknown: { loaded: 0, skipped: 0 } },
    byReason: {},
  };
  const countSkip = (split: unknown, reason: IssueReason) => {
    summary.skipped++;
    const key = typeof split === 'string' && (SPLITS as readonly string[]).includes(split) ? (split as Split) : 'unknown';
    summary.bySplit[key].skipped++;
    summary.byReason[reason] = (summary.byReason[reason] ?? 0) + 1;
  };

  let bytes: Buffer;
  try {
    bytes = await readFile(manifestPath);
  } catch (err) {
    throw fromFsError(err, 'read the manifest', manifestPath);
  }
  const lines = decodeLines(bytes);
  const firstLineOfId = new Map<string, number>();
  const candidates: { item: ManifestItem; line: number }[] = [];
  lines.forEach(({ text: raw, badByte }, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return; // blank lines (e.g. the final newline) carry nothing
    summary.lines++;
    if (badByte !== null) {
      const where = `bytes that are not UTF-8 (first at byte ${badByte + 1} of the line)`;
      if (invalidUtf8 === 'skip') {
        issues.push({ file: manifestPath, line, message: `${where}; line skipped`, action: 'skipped', reason: 'invalid-utf8' });
        countSkip(undefined, 'invalid-utf8');
        return;
      }
      issues.push({ file: manifestPath, line, message: `${where}; they were read as U+FFFD, which the tokenizer drops`, action: 'kept', reason: 'invalid-utf8' });
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.push({ file: manifestPath, line, message: `invalid JSON: ${(err as Error).message}`, action: 'skipped', reason: 'invalid-json' });
      countSkip(undefined, 'invalid-json');
      return;
    }
    const res = validateManifestValue(value, dir, manifestPath, line);
    if (res.item && maxChars > 0) res.issues.push(...limitFieldLengths(res.item, maxChars, overLong, manifestPath, line));
    issues.push(...res.issues);
    const split = (value as { split?: unknown } | null)?.split;
    if (res.item && res.issues.some((i) => i.action === 'skipped')) delete res.item;
    if (!res.item) {
      countSkip(split, res.issues.find((i) => i.action === 'skipped')!.reason);
      return;
    }
    const first = firstLineOfId.get(res.item.id);
    if (first !== undefined) {
      issues.push({ file: manifestPath, line, field: 'id', message: `duplicate id "${res.item.id}" (first used on line ${first})`, action: 'skipped', reason: 'duplicate-id' });
      countSkip(split, 'duplicate-id');
      return;
    }
    firstLineOfId.set(res.item.id, line);
    if (!wanted.has(res.item.split)) {
      summary.filteredOut++;
      return;
    }
    candidates.push({ item: res.item, line });
  });

  // Image checks run concurrently (sharp decodes off the main thread); shared files are checked once.
  const problems = new Map<string, Promise<ImageProblem | null>>();
  const results = checkImages
    ? await mapLimit(candidates, 8, async ({ item }) => {
        if (item.image === null) return null;
        const abs = resolve(dir, item.image);
        let p = problems.get(abs);
        if (!p) problems.set(abs, (p = checkImageFile(abs)));
        return p;
      })
    : candidates.map(() => null);

  const items: ManifestItem[] = [];
  candidates.forEach(({ item, line }, i) => {
    const problem = results[i];
    if (problem) {
      issues.push({ file: manifestPath, line, field: 'image', message: problem.message, action: 'skipped', reason: problem.kind });
      countSkip(item.split, problem.kind);
      return;
    }
    items.push(item);
    summary.loaded++;
    summary.bySplit[item.split].loaded++;
  });
  issues.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  summary.warnings = issues.filter((i) => i.action === 'kept').length;
  return { dir, info, items, issues, summary };
}

/** Applies the field-length rule to `item` (in place when truncating); returns the issues. */
function limitFieldLengths(item: ManifestItem, max: number, rule: 'truncate' | 'skip', file: string, line: number): DataIssue[] {
  const issues: DataIssue[] = [];
  const check = (field: string, value: string): string => {
    if (value.length <= max) return value;
    const what = `${value.length.toLocaleString('en-US')} characters, over the limit of ${max.toLocaleString('en-US')} (maxFieldChars / AIMKP_MAX_FIELD_CHARS)`;
    if (rule === 'skip') {
      issues.push({ file, line, field, message: `${what}; item skipped`, action: 'skipped', reason: 'field-too-long' });
      return value;
    }
    issues.push({ file, line, field, message: `${what}; cut to ${max.toLocaleString('en-US')}`, action: 'kept', reason: 'field-too-long' });
    return cutTo(value, max);
  };
  item.text = check('text', item.text);
  for (const f of ['ocr', 'attributes'] as const) {
    const v = item[f];
    if (v !== undefined) item[f] = check(f, v);
  }
  item.keyphrases = item.keyphrases.map((k, i) => check(`keyphrases[${i}]`, k));
  return issues;
}

/** dataset.json is optional; a broken one is reported (kept: the manifest still loads) rather than fatal. */
async function readInfo(dir: string, issues: DataIssue[]): Promise<DatasetInfo | null> {
  const file = join(dir, DATASET_INFO);
  if (!existsSync(file)) return null;
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
    const o = v as Record<string, unknown>;
    if (typeof o.name !== 'string' || typeof o.description !== 'string') throw new Error('"name" and "description" must be strings');
    return o as unknown as DatasetInfo;
  } catch (err) {
    issues.push({ file, line: 1, message: `ignored: ${(err as Error).message}`, action: 'kept', reason: 'invalid-json' });
    return null;
  }
}
