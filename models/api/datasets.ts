// Data sets as the workbench handles them: import (CMKP files, ClipArt-KP from SVGs, a manifest folder,
// the synthetic set), statistics, and paging through items with their image paths. Thin, validated entry
// points over models/data/; paths are absolute.
import { cp, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { CoreError } from '../core-error';
import { absolutePath, optionalAbsolutePath } from '../paths';
import { throwIfAborted } from '../abort';
import { importCmkp, type CmkpImportResult } from '../data/cmkp-import';
import { buildClipartDataset, DEFAULT_CLIPART_SOURCE, type BuildClipartResult } from '../data/clipart/build-clipart';
import { datasetStats, type DatasetStats } from '../data/dataset-stats';
import { loadDataset, MANIFEST, type LoadSummary } from '../data/load-dataset';
import { SPLITS, type ManifestItem, type Split } from '../data/manifest-types';
import { buildSynthDataset, type SynthOptions, type SynthResult } from '../data/synth-dataset';
import type { DataIssue } from '../data/data-issue';
import type { ProgressListener } from '../../shared/training-events';

const MAX_LISTED_ISSUES = 200;

/** What a data-set folder holds, for listing and after an import. */
export interface DatasetSummary {
  dir: string;
  name: string;
  summary: LoadSummary;
  stats: DatasetStats;
  /** The first issues of the loader (file, line, field, what was done); `issueCount` counts all. */
  issues: DataIssue[];
  issueCount: number;
}

/** Loads a data-set folder (images checked unless told otherwise) and computes the paper's Table 3 numbers. */
export async function describeDataset(
  dataDir: string,
  options: { checkImages?: boolean } = {},
): Promise<DatasetSummary> {
  const dir = absolutePath(dataDir, 'dataDir');
  const ds = await loadDataset(dir, { checkImages: options.checkImages ?? false });
  return {
    dir,
    name: basename(dir),
    summary: ds.summary,
    stats: datasetStats(ds.items, ds.summary),
    issues: ds.issues.slice(0, MAX_LISTED_ISSUES),
    issueCount: ds.issues.length,
  };
}

export interface ImportCmkpOptions {
  /** The CMKP src file (text<sep>kp1;kp2<sep>image_url per line). */
  src: string;
  attributes?: string;
  ocr?: string;
  /** Folder with the tweet images named by the URL's file name. */
  images?: string;
  split?: Split;
  /** The data-set folder (created; an existing one is merged by id). */
  out: string;
}

export async function importCmkpFiles(o: ImportCmkpOptions): Promise<CmkpImportResult> {
  return importCmkp({
    src: absolutePath(o.src, 'src'),
    attributes: optionalAbsolutePath(o.attributes, 'attributes'),
    ocr: optionalAbsolutePath(o.ocr, 'ocr'),
    images: optionalAbsolutePath(o.images, 'images'),
    split: o.split,
    out: absolutePath(o.out, 'out'),
    builtWith: 'workbench: import CMKP',
  });
}

export interface BuildClipartOptions {
  /** Folder of openclipart SVGs (default /usr/share/openclipart/svg). */
  source?: string;
  out: string;
  /** Image side in pixels (default 224). */
  size?: number;
  log?: (line: string) => void;
}

export async function importClipart(o: BuildClipartOptions): Promise<BuildClipartResult> {
  return buildClipartDataset({
    source: absolutePath(o.source ?? DEFAULT_CLIPART_SOURCE, 'source'),
    out: absolutePath(o.out, 'out'),
    size: o.size,
    log: o.log,
  });
}

export type BuildSyntheticOptions = Omit<SynthOptions, 'builtWith'>;

export async function importSynthetic(o: BuildSyntheticOptions): Promise<SynthResult> {
  if (!Number.isInteger(o.n) || o.n < 10)
    throw new CoreError('BAD_INPUT', `n must be an integer >= 10 (the set is split 8:1:1), got ${o.n}`, { field: 'n' });
  for (const field of ['noise', 'misaligned', 'missingImage', 'missingText'] as const) {
    const v = o[field];
    if (v !== undefined && !(v >= 0 && v <= 1))
      throw new CoreError('BAD_INPUT', `${field} must be in [0, 1], got ${v}`, { field });
  }
  return buildSynthDataset({ ...o, out: absolutePath(o.out, 'out'), builtWith: 'workbench: synthetic data set' });
}

export interface ImportManifestOptions {
  /** A folder with manifest.jsonl and the images it names. */
  source: string;
  /** Where to copy it (e.g. the workspace's data sets folder); null = use it in place. */
  out: string | null;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * Imports a folder in the manifest format: validates it (every line and image, problems reported by file,
 * line and field; bad items are skipped by the loader, never fatal) and copies it into `out` (the feature
 * cache folder .cache is not copied). Refuses a source without a usable item.
 */
export async function importManifestFolder(o: ImportManifestOptions): Promise<DatasetSummary> {
  const source = absolutePath(o.source, 'source');
  const s = await stat(join(source, MANIFEST)).catch(() => null);
  if (!s?.isFile())
    throw new CoreError(
      'NOT_FOUND',
      `${source}: no ${MANIFEST} (a data-set folder holds manifest.jsonl and its images; see docs/data-format.md)`,
      { path: join(source, MANIFEST) },
    );
  const emit = (phase: 'preparing' | 'done', message: string) =>
    o.onProgress?.({
      type: 'progress',
      time: new Date().toISOString(),
      run: '',
      phase,
      done: null,
      total: null,
      unit: null,
      message,
    });
  emit('preparing', `checking ${source}`);
  const checked = await describeDataset(source, { checkImages: true });
  if (checked.summary.loaded === 0)
    throw new CoreError(
      'BAD_INPUT',
      `${source}: no usable item (${checked.issueCount} issue(s), e.g. ${checked.issues[0] ? `${checked.issues[0].file}:${checked.issues[0].line}: ${checked.issues[0].message}` : 'empty manifest'})`,
      { path: source },
    );
  throwIfAborted(o.signal, 'data-set import');
  if (o.out === null) {
    emit('done', `${checked.summary.loaded} items`);
    return checked;
  }
  const out = absolutePath(o.out, 'out');
  if (resolve(out) === resolve(source))
    throw new CoreError('BAD_INPUT', 'out must differ from source', { field: 'out' });
  const outStat = await stat(out).catch(() => null);
  if (outStat) throw new CoreError('ALREADY_EXISTS', `${out}: already exists; choose another name`, { path: out });
  emit('preparing', `copying to ${out}`);
  await cp(source, out, { recursive: true, filter: (src) => !relative(source, src).split(sep).includes('.cache') });
  emit('done', `${checked.summary.loaded} items`);
  return { ...(await describeDataset(out)), issues: checked.issues, issueCount: checked.issueCount };
}

export interface PageItemsOptions {
  dataDir: string;
  /** Default: every split. */
  split?: Split;
  offset?: number;
  /** Default 50, at most 500. */
  limit?: number;
  /** Case-insensitive substring of the id, text or keyphrases. */
  search?: string;
}

/** One item as the UI lists it; `image` is an absolute path (null: no image). */
export interface ItemView extends Omit<ManifestItem, 'image'> {
  image: string | null;
}

export interface ItemPage {
  total: number;
  offset: number;
  items: ItemView[];
}

export async function pageItems(o: PageItemsOptions): Promise<ItemPage> {
  const dir = absolutePath(o.dataDir, 'dataDir');
  if (o.split !== undefined && !SPLITS.includes(o.split))
    throw new CoreError('BAD_INPUT', `split must be one of ${SPLITS.join(', ')}`, { field: 'split' });
  const offset = o.offset ?? 0;
  const limit = o.limit ?? 50;
  if (!Number.isInteger(offset) || offset < 0)
    throw new CoreError('BAD_INPUT', `offset must be an integer >= 0, got ${offset}`, { field: 'offset' });
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new CoreError('BAD_INPUT', `limit must be an integer in 1..500, got ${limit}`, { field: 'limit' });
  const ds = await loadDataset(dir, { checkImages: false, splits: o.split === undefined ? undefined : [o.split] });
  let items = ds.items;
  const q = (o.search ?? '').trim().toLowerCase();
  if (q !== '')
    items = items.filter((it) => [it.id, it.text, ...it.keyphrases].some((s) => s.toLowerCase().includes(q)));
  return {
    total: items.length,
    offset,
    items: items
      .slice(offset, offset + limit)
      .map((it) => ({ ...it, image: it.image === null ? null : resolve(dir, it.image) })),
  };
}
