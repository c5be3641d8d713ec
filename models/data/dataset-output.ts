// The rule for every command that writes a data set into a folder: a new or empty folder is written; a folder that
// already holds a data set is refused unless the caller replaces it (--force) or merges into it (CMKP imports, one
// split at a time); a non-empty folder that is not a data set is never written into. Nothing is overwritten silently.
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { CoreError } from '../core-error';

export type DatasetOutputMode = 'new' | 'replace' | 'merge';

export interface ClaimedOutput {
  /** What the folder held: nothing (missing or empty), or a data set of `items` items. */
  found: 'nothing' | 'dataset';
  items: number;
  /** Files of the old data set that were removed (replace only). */
  removed: number;
}

const DATASET_FILES = ['manifest.jsonl', 'dataset.json'];

/**
 * Checks `out` before a data set is written there. `mode`: 'new' refuses an existing data set, 'replace' removes the
 * old data set's own files (its manifest, dataset.json, the images its manifest names, its feature cache) and
 * nothing else, 'merge' keeps it (the writer merges by id). `command` names the CLI command in messages.
 */
export async function claimDatasetOutput(out: string, mode: DatasetOutputMode, command: string): Promise<ClaimedOutput> {
  let entries: string[];
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw new CoreError('BAD_INPUT', `${command}: --out ${out}: is a file, not a folder`);
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: 'nothing', items: 0, removed: 0 };
    throw err;
  }
  if (entries.length === 0) return { found: 'nothing', items: 0, removed: 0 };
  if (!entries.includes('manifest.jsonl')) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
    throw new CoreError(
      'ALREADY_EXISTS',
      `${command}: --out ${out}: the folder is not empty and holds no data set (${shown}); choose a new or empty folder`,
      { path: out },
    );
  }
  const manifest = await readFile(join(out, 'manifest.jsonl'), 'utf8');
  const lines = manifest.split('\n').filter((l) => l.trim() !== '');
  if (mode === 'merge') return { found: 'dataset', items: lines.length, removed: 0 };
  if (mode === 'new') {
    throw new CoreError(
      'ALREADY_EXISTS',
      `${command}: --out ${out}: already holds a data set (${lines.length} items); choose another folder, or pass --force to replace it`,
      { path: out },
    );
  }
  return { found: 'dataset', items: lines.length, removed: await removeDataset(out, lines) };
}

/** Removes the data set's own files; a file the manifest names outside the folder is never touched. */
async function removeDataset(out: string, lines: string[]): Promise<number> {
  const images = new Set<string>();
  for (const line of lines) {
    try {
      const image = (JSON.parse(line) as { image?: unknown }).image;
      if (typeof image === 'string' && !isAbsolute(image)) {
        const rel = normalize(image);
        if (!rel.startsWith('..' + sep) && rel !== '..') images.add(rel);
      }
    } catch {
      /* a malformed line names no image of ours */
    }
  }
  let removed = 0;
  const remove = async (rel: string) => {
    try {
      await rm(join(out, rel));
      removed += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  for (const rel of images) await remove(rel);
  for (const f of DATASET_FILES) await remove(f);
  await rm(join(out, '.cache'), { recursive: true, force: true });
  // The images/ folder goes with its last image; a folder still holding someone's files stays.
  await rmdir(join(out, 'images')).catch(() => undefined);
  return removed;
}
