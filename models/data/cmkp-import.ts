// Imports the CMKP benchmark's text files (`text<sep>kp1;kp2<sep>image_url`) into the manifest format.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CoreError } from '../core-error';
import type { DataIssue } from './data-issue';
import { loadDataset, MANIFEST } from './load-dataset';
import { SPLITS, type ManifestItem, type Split } from './manifest-types';
import { writeDataset } from './write-dataset';

export const CMKP_SEP = '<sep>';

export interface CmkpImportOptions {
  src: string;
  attributes?: string;
  ocr?: string;
  /** Folder holding the tweet images, named by the URL's basename (e.g. D0wn9TnXQAAGWyD.jpg). */
  images?: string;
  /** Defaults to the split named in the src file name (train / valid / test). */
  split?: Split;
  out: string;
  /** The command line, recorded in dataset.json. */
  builtWith?: string;
}

export interface CmkpImportResult {
  split: Split;
  imported: number;
  /** Malformed src lines skipped. */
  skipped: number;
  imagesFound: number;
  /** Items of other splits (or other ids) already in --out that were kept. */
  kept: number;
  /** Items in --out with the same id that were replaced. */
  replaced: number;
  /** Malformed src lines, then bad lines of an existing --out manifest (dropped by the rewrite). */
  issues: DataIssue[];
}

/** The split named in a CMKP file name (tiny_train_src.txt → train), or null. */
export function splitFromFileName(file: string): Split | null {
  const name = basename(file).toLowerCase();
  for (const s of SPLITS) if (name.includes(s)) return s;
  return null;
}

/** Stable, line-based id: the 1-based line number of the src file. */
export function cmkpId(split: Split, line: number): string {
  return `cmkp-${split}-${String(line).padStart(6, '0')}`;
}

/** Splits a file into lines, dropping only the empty piece after a final newline. */
async function readLines(file: string): Promise<string[]> {
  if (!existsSync(file)) throw new CoreError('NOT_FOUND', `file "${file}" does not exist`);
  const lines = (await readFile(file, 'utf8')).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Parses one src line; returns the fields or an issue. */
export function parseCmkpLine(raw: string, file: string, line: number): { text: string; keyphrases: string[]; url: string } | DataIssue {
  const parts = raw.split(CMKP_SEP);
  if (parts.length !== 3) {
    return { file, line, message: `expected 3 fields separated by "${CMKP_SEP}", got ${parts.length}`, action: 'skipped', reason: 'malformed-line' };
  }
  const [text, kps, url] = parts;
  const keyphrases = kps.split(';').map((k) => k.trim()).filter((k) => k.length > 0);
  if (keyphrases.length === 0) {
    return { file, line, field: 'keyphrases', message: 'no keyphrases', action: 'skipped', reason: 'empty-keyphrases' };
  }
  return { text: text.trim(), keyphrases, url: url.trim() };
}

/**
 * Imports one CMKP src file (plus its line-aligned attribute / OCR files) into `out`. Re-running into the
 * same `out` merges by id: items already there are kept, items with the same id are replaced, so the
 * splits can be imported one after the other.
 */
export async function importCmkp(opts: CmkpImportOptions): Promise<CmkpImportResult> {
  const split = opts.split ?? splitFromFileName(opts.src);
  if (!split) throw new CoreError('BAD_INPUT', `aimkp data cmkp: cannot infer the split from "${basename(opts.src)}"; pass --split train|valid|test`);
  const src = await readLines(opts.src);
  const aligned = async (file: string | undefined, flag: string) => {
    if (file === undefined) return undefined;
    const lines = await readLines(file);
    if (lines.length !== src.length) {
      throw new CoreError('BAD_INPUT', `aimkp data cmkp: --${flag} "${file}" has ${lines.length} lines but --src "${opts.src}" has ${src.length}; they must be line-aligned`);
    }
    return lines;
  };
  const attributes = await aligned(opts.attributes, 'attributes');
  const ocr = await aligned(opts.ocr, 'ocr');
  if (opts.images !== undefined && !existsSync(opts.images)) throw new CoreError('NOT_FOUND', `aimkp data cmkp: --images folder "${opts.images}" does not exist`);

  const issues: DataIssue[] = [];
  const items: ManifestItem[] = [];
  let imagesFound = 0;
  if (opts.images !== undefined) await mkdir(join(opts.out, 'images'), { recursive: true });
  for (let i = 0; i < src.length; i++) {
    const line = i + 1;
    const parsed = parseCmkpLine(src[i], opts.src, line);
    if ('reason' in parsed) {
      issues.push(parsed);
      continue;
    }
    let image: string | null = null;
    const name = imageName(parsed.url);
    if (opts.images !== undefined && name && existsSync(join(opts.images, name))) {
      image = `images/${name}`;
      await copyFile(join(opts.images, name), join(opts.out, image));
      imagesFound++;
    }
    if (parsed.text === '' && image === null) {
      issues.push({ file: opts.src, line, field: 'text', message: 'empty text and no image', action: 'skipped', reason: 'empty-text-and-image' });
      continue;
    }
    const item: ManifestItem = { id: cmkpId(split, line), split, text: parsed.text, image, keyphrases: parsed.keyphrases };
    const attr = attributes?.[i].trim();
    if (attr) item.attributes = attr;
    const o = ocr?.[i].trim();
    if (o) item.ocr = o;
    item.source = `${basename(opts.src)}:${line}`;
    items.push(item);
  }

  // Merge with what is already in --out (without image checks: those images were checked when imported).
  // Bad lines already in --out are reported here, since rewriting the manifest drops them.
  let existing: ManifestItem[] = [];
  const skipped = issues.length;
  if (existsSync(join(opts.out, MANIFEST))) {
    const prev = await loadDataset(opts.out, { checkImages: false });
    existing = prev.items;
    issues.push(...prev.issues.filter((i) => i.action === 'skipped'));
  }
  const newIds = new Set(items.map((it) => it.id));
  const keptItems = existing.filter((it) => !newIds.has(it.id));
  const merged = [...keptItems, ...items].sort(bySplitThenId);
  const splits = [...new Set(merged.map((it) => it.split))];
  await writeDataset(opts.out, merged, {
    name: 'cmkp',
    description: `CMKP (Twitter posts with hashtags as keyphrases), imported splits: ${splits.join(', ')}. Images are not public; items without a local image have image null.`,
    builtWith: opts.builtWith ?? 'aimkp data cmkp',
    license: 'MIT (CMKP text files, Copyright (c) 2020 Yue Wang)',
    createdAt: new Date().toISOString(),
  });
  return { split, imported: items.length, skipped, imagesFound, kept: keptItems.length, replaced: existing.length - keptItems.length, issues };
}

/** The file name at the end of an image URL (query and fragment removed), or null. */
export function imageName(url: string): string | null {
  const path = url.split(/[?#]/)[0];
  const name = path.slice(path.lastIndexOf('/') + 1);
  return /^[\w.-]+$/.test(name) && name !== '.' && name !== '..' ? name : null;
}

const SPLIT_ORDER: Record<Split, number> = { train: 0, valid: 1, test: 2 };
function bySplitThenId(a: ManifestItem, b: ManifestItem): number {
  return SPLIT_ORDER[a.split] - SPLIT_ORDER[b.split] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
