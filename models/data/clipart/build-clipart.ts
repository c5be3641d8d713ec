// Builds ClipArt-KP (image + text + keyphrases) from Debian's public-domain openclipart-svg package.
// Pipeline: read every SVG → metadata → whole-item filters → keyphrase / text cleaning → de-duplication →
// rasterize (bounded concurrency) → deterministic split → manifest.jsonl + dataset.json, written atomically.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreError } from '../../core-error';
import type { DatasetInfo, ManifestItem } from '../manifest-types';
import { writeFileAtomic } from '../../fs/atomic-write';
import { cleanKeyphrases, collectSingleWordTags, isHashJunk, nameSet, normalizeName, type KeyphraseContext } from './clean-keyphrases';
import { BATCH_TITLE_MIN_FILES, buildText, cleanDescription, cleanTitle, titleFromFileName } from './clean-text';
import { itemDropReason } from './item-filters';
import { BlankImageError, mapBounded, rasterizeSvg } from './rasterize';
import { splitForId } from './split';
import { extractSvgMetadata, type SvgMetadata } from './svg-metadata';

export const DEFAULT_CLIPART_SOURCE = '/usr/share/openclipart/svg';
export const DEFAULT_IMAGE_SIZE = 224;

export interface BuildClipartOptions {
  /** Folder of SVGs (searched recursively). */
  source: string;
  /** Output data-set folder (created). */
  out: string;
  /** Side of the square PNGs in pixels (default 224). */
  size?: number;
  log?: (msg: string) => void;
}

export interface BuildClipartResult {
  items: number;
  skipped: number;
  /** Skipped files per reason: unreadable, no-metadata, icon-theme, generated-shape, no-keyphrase,
   *  duplicate-image, duplicate-text, symlink (a link to another source file), render-failed (sharp cannot render it), blank-image (renders to plain white). */
  reasons: Record<string, number>;
}

/**
 * Every `.svg` below `dir`, as paths relative to it, sorted (the build is deterministic). Symbolic links
 * (663 in the Debian package, each pointing at another file of the package) are returned separately.
 */
async function listSvgs(dir: string, rel = ''): Promise<{ files: string[]; links: string[] }> {
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  const files: string[] = [];
  const links: string[] = [];
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const sub = await listSvgs(dir, r);
      files.push(...sub.files);
      links.push(...sub.links);
    } else if (e.name.toLowerCase().endsWith('.svg')) {
      if (e.isFile()) files.push(r);
      else if (e.isSymbolicLink()) links.push(r);
    }
  }
  return { files: files.sort(), links: links.sort() };
}

/** The drawing without its metadata and white space: identical pictures with different credits hash alike. */
function imageKey(svg: string): string {
  const body = svg.replace(/<metadata[\s\S]*?<\/metadata>/g, '').replace(/\s+/g, '');
  return createHash('sha1').update(body).digest('hex');
}

/** A readable id from the relative path (`animals/birds/puffin-md.svg` → `animals-birds-puffin-md`), made unique. */
function makeId(rel: string, used: Set<string>): string {
  const base =
    rel
      .replace(/\.svg$/i, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'item';
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}

function agentNames(meta: SvgMetadata): string[] {
  return [...meta.creators, ...meta.publishers, ...meta.rights].filter((n) => !isHashJunk(n)).map(normalizeName).filter(Boolean);
}

/** A cleaned, de-duplicated item before rendering. */
export interface ClipartCandidate {
  /** SVG path relative to the source folder. */
  rel: string;
  svg: Buffer;
  meta: SvgMetadata;
  text: string;
  keyphrases: string[];
}

/**
 * Passes 1–3 of the build (no rendering): reads every SVG under `source`, filters, cleans and de-duplicates.
 * `skip(reason, rel, detail?)` is called for every file left out.
 */
export async function selectClipartItems(
  source: string,
  skip: (reason: string, rel: string, detail?: string) => void,
  log: (msg: string) => void = () => {},
): Promise<ClipartCandidate[]> {
  const listed = await listSvgs(source);
  const files = [...listed.files];
  // A link to a file inside the source is a second name for a file we read anyway; other links are read.
  const root = await realpath(source);
  for (const rel of listed.links) {
    const target = await realpath(path.join(source, rel)).catch(() => null);
    if (target === null) skip('unreadable', rel, 'dangling symbolic link');
    else if (target.startsWith(root + path.sep)) skip('symlink', rel);
    else files.push(rel);
  }
  log(`found ${listed.files.length + listed.links.length} SVG files in ${source} (${listed.links.length} symbolic links)`);

  // Pass 1: metadata of every file (the cleaning rules need corpus-wide name and tag lists).
  const parsed: { rel: string; svg: Buffer; meta: SvgMetadata }[] = [];
  for (const rel of files) {
    let svg: Buffer;
    try {
      svg = await readFile(path.join(source, rel));
    } catch (err) {
      skip('unreadable', rel, (err as Error).message);
      continue;
    }
    const meta = extractSvgMetadata(svg.toString('utf8'));
    if (!meta) skip('no-metadata', rel);
    else parsed.push({ rel, svg, meta });
  }
  const allNames = nameSet(parsed.flatMap((p) => agentNames(p.meta)));
  const singleWordTags = collectSingleWordTags(parsed.map((p) => p.meta.subjects));

  // Titles repeated over many files are batch names (see BATCH_TITLE_MIN_FILES).
  const titleCounts = new Map<string, number>();
  for (const p of parsed) {
    const t = p.meta.title.trim().toLowerCase();
    titleCounts.set(t, (titleCounts.get(t) ?? 0) + 1);
  }

  // Pass 2: filters and cleaning.
  const candidates: ClipartCandidate[] = [];
  for (const { rel, svg, meta } of parsed) {
    const itemReason = itemDropReason(meta);
    if (itemReason) {
      skip(itemReason, rel);
      continue;
    }
    const ownNames = agentNames(meta);
    const ctx: KeyphraseContext = { ownNames, allNames, singleWordTags };
    const keyphrases = cleanKeyphrases(meta.subjects, ctx);
    if (keyphrases.length === 0) {
      skip('no-keyphrase', rel);
      continue;
    }
    const isBatch = (titleCounts.get(meta.title.trim().toLowerCase()) ?? 0) >= BATCH_TITLE_MIN_FILES;
    const fromFile = titleFromFileName(path.basename(rel), [...meta.creators, ...meta.rights]);
    // A title that is just the creator's name says nothing about the picture.
    const own = cleanTitle(meta.title);
    const ownIsName = allNames.has(normalizeName(own));
    const title = (isBatch || ownIsName ? '' : own) || fromFile;
    const text = buildText(title, cleanDescription(meta.description, title));
    candidates.push({ rel, svg, meta, text, keyphrases });
  }

  // Pass 3: de-duplication (first in path order wins).
  const seenImages = new Set<string>();
  const seenTexts = new Set<string>();
  const unique: ClipartCandidate[] = [];
  for (const c of candidates) {
    const img = imageKey(c.svg.toString('utf8'));
    const txt = `${c.text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()}|${[...c.keyphrases].sort().join('|')}`;
    if (seenImages.has(img)) skip('duplicate-image', c.rel);
    else if (seenTexts.has(txt)) skip('duplicate-text', c.rel);
    else {
      seenImages.add(img);
      seenTexts.add(txt);
      unique.push(c);
    }
  }
  return unique;
}

/** Builds the data set; bad files are counted under a reason and skipped, never fatal. */
export async function buildClipartDataset(options: BuildClipartOptions): Promise<BuildClipartResult> {
  const { source, out } = options;
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  const log = options.log ?? (() => {});
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new CoreError('BAD_INPUT', `aimkp data clipart: --size must be an integer 8–1024, got ${size}`);
  const srcStat = await stat(source).catch(() => null);
  if (!srcStat?.isDirectory()) {
    throw new CoreError('NOT_FOUND', `aimkp data clipart: source folder ${source} not found (install Debian's openclipart-svg or pass --source DIR)`);
  }
  const reasons: Record<string, number> = {};
  const skip = (reason: string, rel: string, detail?: string): void => {
    reasons[reason] = (reasons[reason] ?? 0) + 1;
    if (detail) log(`skip ${rel}: ${reason} (${detail})`);
  };

  const unique = await selectClipartItems(source, skip, log);
  log(`${unique.length} unique items after cleaning; rendering ${size}×${size} PNGs`);

  // Pass 4: rasterize; an SVG that sharp cannot render is skipped with a reason.
  const imagesDir = path.join(out, 'images');
  await mkdir(imagesDir, { recursive: true });
  const previous = await readPreviousImages(out);
  const usedIds = new Set<string>();
  const ids = unique.map((c) => makeId(c.rel, usedIds));
  let done = 0;
  const rendered = await mapBounded(unique, 2, async (c, i) => {
    const image = `images/${ids[i]}.png`;
    try {
      const png = await rasterizeSvg(c.svg, { size });
      await writeFile(path.join(out, image), png);
    } catch (err) {
      skip(err instanceof BlankImageError ? 'blank-image' : 'render-failed', c.rel, (err as Error).message.split('\n')[0]);
      return null;
    } finally {
      if (++done % 500 === 0) log(`rendered ${done}/${unique.length}`);
    }
    const item: ManifestItem = { id: ids[i], split: splitForId(ids[i]), text: c.text, image, keyphrases: c.keyphrases, source: c.rel };
    return item;
  });
  const items = rendered.filter((x): x is ManifestItem => x !== null);

  // Images of an earlier build that this build no longer has would linger (and be committed): remove them.
  const keep = new Set(items.map((it) => it.image));
  for (const old of previous) if (!keep.has(old) && /^images\/[a-z0-9-]+\.png$/.test(old)) await rm(path.join(out, old), { force: true });

  await writeFileAtomic(path.join(out, 'manifest.jsonl'), items.map((it) => JSON.stringify(it)).join('\n') + '\n');
  const info: DatasetInfo = {
    name: 'ClipArt-KP',
    description:
      'Clip-art images with their titles/descriptions as text and cleaned openclipart tags as keyphrases, ' +
      `built from Debian's openclipart-svg package (${items.length} items, ${size}×${size} PNG, 8:1:1 split by SHA-1 of the id).`,
    builtWith: `aimkp data clipart --source ${source} --out ${out} --size ${size}`,
    license: 'public domain (openclipart)',
    createdAt: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(out, 'dataset.json'), JSON.stringify(info, null, 2) + '\n');
  const skipped = Object.values(reasons).reduce((a, b) => a + b, 0);
  log(`wrote ${items.length} items to ${out} (${skipped} skipped: ${JSON.stringify(reasons)})`);
  return { items: items.length, skipped, reasons };
}

/** Image paths listed by a manifest already in `out` (none when there is none or it is unreadable). */
async function readPreviousImages(out: string): Promise<string[]> {
  const text = await readFile(path.join(out, 'manifest.jsonl'), 'utf8').catch(() => '');
  const images: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const image = (JSON.parse(line) as { image?: unknown }).image;
      if (typeof image === 'string') images.push(image);
    } catch {
      // an unparsable old line just means nothing to clean up for it
    }
  }
  return images;
}
