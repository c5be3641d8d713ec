// Data sets the workbench knows: the bundled ClipArt-KP (read-only) and those in <workspace>/datasets/<id>/
// (imported copies, built sets, or link.json pointing at a folder registered in place). Loaded manifests are
// cached by the manifest's mtime (without decoding every image: that is the trainer's check).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  CoreError,
  datasetStats,
  isPresent,
  loadDataset,
  MANIFEST,
  matchWords,
  type DatasetStats,
  type LoadedDataset,
  type ManifestItem,
  type Split,
} from '../../models/index';
import type { DatasetSummary, DatasetItem } from '../../shared/contract/service';
import { DATASET_LINK_FILE } from '../supervisor/tasks/import-dataset';

export const BUNDLED_DATASET_ID = 'clipart-kp';

const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Cached {
  mtimeMs: number;
  loaded: LoadedDataset;
  stats: DatasetStats | null;
}

/**
 * Reads and validates a data-set folder and computes its Table 3 statistics. Seconds of synchronous work for a
 * few thousand items, so the service passes one that runs in a worker thread; the default runs in-process.
 */
export type DatasetLoader = (
  dir: string,
  options: { checkImages: boolean },
) => Promise<{ loaded: LoadedDataset; stats: DatasetStats }>;

export const inProcessLoader: DatasetLoader = async (dir, options) => {
  const loaded = await loadDataset(dir, options);
  return { loaded, stats: datasetStats(loaded.items, loaded.summary) };
};

const IMAGE_MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
};

export class DatasetRegistry {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<Cached>>();

  constructor(
    private datasetsDir: string,
    private readonly bundledDir: string | null,
    private readonly loader: DatasetLoader = inProcessLoader,
  ) {}

  setDatasetsDir(dir: string): void {
    this.datasetsDir = dir;
    this.cache.clear();
  }

  /** The folder that holds the set's manifest.jsonl; NOT_FOUND when there is no such set. */
  dirOf(id: string): string {
    if (!DATASET_ID.test(id))
      throw new CoreError('BAD_INPUT', `data set id ${JSON.stringify(id)}: not a valid id`, { field: 'id' });
    if (id === BUNDLED_DATASET_ID && this.bundledDir && existsSync(join(this.bundledDir, MANIFEST)))
      return this.bundledDir;
    const own = join(this.datasetsDir, id);
    const link = readLink(own);
    if (link) return link.dir;
    if (existsSync(join(own, MANIFEST))) return own;
    throw new CoreError(
      'NOT_FOUND',
      `data set ${id}: not found (bundled: ${BUNDLED_DATASET_ID}; imported ones live in ${this.datasetsDir})`,
      { field: 'id' },
    );
  }

  /** Where an imported set with this id is written (datasets/<id>). */
  importTarget(id: string): string {
    return join(this.datasetsDir, id);
  }

  /** The id of a data-set folder, when it is one the registry knows (runs record their data folder). */
  idOfDir(dir: string): string | null {
    if (this.bundledDir && dir === this.bundledDir) return BUNDLED_DATASET_ID;
    for (const id of this.ids()) {
      try {
        if (this.dirOf(id) === dir) return id;
      } catch {
        /* a broken entry */
      }
    }
    return null;
  }

  ids(): string[] {
    const out: string[] = [];
    if (this.bundledDir && existsSync(join(this.bundledDir, MANIFEST))) out.push(BUNDLED_DATASET_ID);
    let names: string[] = [];
    try {
      names = readdirSync(this.datasetsDir);
    } catch {
      /* no datasets/ yet */
    }
    for (const n of names.sort()) {
      if (!DATASET_ID.test(n) || n === BUNDLED_DATASET_ID) continue;
      const d = join(this.datasetsDir, n);
      if (existsSync(join(d, MANIFEST)) || existsSync(join(d, DATASET_LINK_FILE))) out.push(n);
    }
    return out;
  }

  async load(id: string): Promise<Cached> {
    const dir = this.dirOf(id);
    const mtimeMs = statSync(join(dir, MANIFEST)).mtimeMs;
    const hit = this.cache.get(id);
    if (hit && hit.mtimeMs === mtimeMs) return hit;
    // Concurrent requests for the same version share one load.
    const key = `${id}@${mtimeMs}`;
    let pending = this.loading.get(key);
    if (!pending) {
      // Images are decoded as `aimkp data stats` does, so the API lists the same items and issues as the CLI (a
      // missing or corrupt image skips its item, naming file and line). The bundled set is exempt: it is read-only,
      // checked when it is built, and decoding its 3,000 images would hold every first view for seconds.
      pending = this.loader(dir, { checkImages: id !== BUNDLED_DATASET_ID }).then(({ loaded, stats }) => {
        const entry: Cached = { mtimeMs, loaded, stats };
        this.cache.set(id, entry);
        return entry;
      });
      this.loading.set(key, pending);
      void pending.finally(() => this.loading.delete(key)).catch(() => undefined);
    }
    return pending;
  }

  async list(): Promise<DatasetSummary[]> {
    const out: DatasetSummary[] = [];
    for (const id of this.ids()) {
      try {
        out.push(await this.summary(id));
      } catch {
        /* a set that cannot be read is left out of the list; datasets.issues names the problem */
      }
    }
    return out;
  }

  async summary(id: string): Promise<DatasetSummary> {
    const { loaded, mtimeMs } = await this.load(id);
    const count = (s: Split) => loaded.items.filter((i) => i.split === s).length;
    const info = loaded.info;
    const link = readLink(join(this.datasetsDir, id));
    const linked = link !== null;
    const built = info?.builtWith ?? null;
    const kind: DatasetSummary['kind'] =
      id === BUNDLED_DATASET_ID
        ? 'bundled'
        : linked
          ? 'manifest'
          : /synth/i.test(built ?? '')
            ? 'synthetic'
            : /cmkp/i.test(built ?? '')
              ? 'cmkp'
              : /clipart/i.test(built ?? '')
                ? 'clipart'
                : 'manifest';
    return {
      id,
      name: id === BUNDLED_DATASET_ID ? (info?.name ?? 'ClipArt-KP') : (link?.name ?? info?.name ?? id),
      kind,
      dir: loaded.dir,
      readOnly: id === BUNDLED_DATASET_ID,
      items: { train: count('train'), valid: count('valid'), test: count('test') },
      withImage: loaded.items.filter((i) => i.image !== null).length,
      issueCount: loaded.issues.length,
      // Imports record when they were made; a set from elsewhere without dataset.json: its manifest's last write.
      createdAt: info?.createdAt ?? link?.createdAt ?? new Date(mtimeMs).toISOString(),
      builtWith: built,
    };
  }

  async stats(id: string): Promise<DatasetStats> {
    const entry = await this.load(id);
    entry.stats ??= datasetStats(entry.loaded.items, entry.loaded.summary);
    return entry.stats;
  }

  async items(
    id: string,
    o: { split?: Split; search?: string; offset: number; limit: number },
  ): Promise<{ total: number; offset: number; items: DatasetItem[] }> {
    const { loaded } = await this.load(id);
    const q = o.search?.trim().toLowerCase();
    const matching = loaded.items.filter(
      (it) =>
        (o.split === undefined || it.split === o.split) &&
        (!q ||
          it.text.toLowerCase().includes(q) ||
          it.keyphrases.some((k) => k.toLowerCase().includes(q)) ||
          it.id.toLowerCase().includes(q)),
    );
    const page = matching.slice(o.offset, o.offset + o.limit);
    return {
      total: matching.length,
      offset: o.offset,
      items: await Promise.all(page.map((it) => this.itemView(loaded.dir, it))),
    };
  }

  async issues(id: string, o: { offset: number; limit: number }) {
    const { loaded } = await this.load(id);
    return {
      total: loaded.issues.length,
      offset: o.offset,
      issues: loaded.issues.slice(o.offset, o.offset + o.limit).map((i) => ({
        file: i.file,
        line: i.line,
        field: i.field,
        message: i.message,
        action: i.action,
        reason: i.reason,
      })),
    };
  }

  /** The item with this id (and its set's folder). */
  async item(id: string, itemId: string): Promise<{ dir: string; item: ManifestItem }> {
    const { loaded } = await this.load(id);
    const item = loaded.items.find((i) => i.id === itemId);
    if (!item)
      throw new CoreError('NOT_FOUND', `data set ${id}: no item ${JSON.stringify(itemId)}`, { field: 'itemId' });
    return { dir: loaded.dir, item };
  }

  async itemView(dir: string, it: ManifestItem): Promise<DatasetItem> {
    const textWords = matchWords(it.text);
    return {
      id: it.id,
      split: it.split,
      text: it.text === '' ? null : it.text,
      image: it.image === null ? null : await imageDataUrl(join(dir, it.image)),
      keyphrases: it.keyphrases.map((phrase) => ({ phrase, present: isPresent(matchWords(phrase), textWords) })),
    };
  }
}

function readLink(dir: string): { dir: string; name?: string; createdAt?: string } | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, DATASET_LINK_FILE), 'utf8')) as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    return typeof v.dir === 'string' ? { dir: v.dir, name: str(v.name), createdAt: str(v.createdAt) } : null;
  } catch {
    return null;
  }
}

/** An image as a data: URL (the renderer has no file access); null when it cannot be read. */
export async function imageDataUrl(file: string): Promise<string | null> {
  const mime = IMAGE_MIME[extname(file).toLowerCase()];
  if (!mime) return null;
  try {
    return `data:${mime};base64,${(await readFile(file)).toString('base64')}`;
  } catch {
    return null;
  }
}
