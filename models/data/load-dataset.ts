// Loads and validates a data set folder (manifest.jsonl + optional dataset.json + images).
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import type { DataIssue, IssueReason } from './data-issue';
import { checkImageFile, mapLimit, type ImageProblem } from './image-check';
import { SPLITS, type DatasetInfo, type ManifestItem, type Split } from './manifest-types';
import { validateManifestValue } from './validate-item';

export interface LoadOptions {
  /** Check that every image exists and decodes (default true). */
  checkImages?: boolean;
  /** Keep only these splits (the others are still validated, but not image-checked or returned). */
  splits?: Split[];
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
  const wanted = new Set<Split>(options.splits ?? SPLITS);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CoreError('NOT_FOUND', `data set folder "${dir}" does not exist`);
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

  const lines = (await readFile(manifestPath, 'utf8')).split('\n');
  const firstLineOfId = new Map<string, number>();
  const candidates: { item: ManifestItem; line: number }[] = [];
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return; // blank lines (e.g. the final newline) carry nothing
    summary.lines++;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.push({ file: manifestPath, line, message: `invalid JSON: ${(err as Error).message}`, action: 'skipped', reason: 'invalid-json' });
      countSkip(undefined, 'invalid-json');
      return;
    }
    const res = validateManifestValue(value, dir, manifestPath, line);
    issues.push(...res.issues);
    const split = (value as { split?: unknown } | null)?.split;
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
