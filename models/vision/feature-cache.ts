/**
 * Frozen-encoder features, computed once per image and cached on disk.
 *
 * Layout: <cacheDir>/features/<encoder id>/<sha1[0..2]>/<sha1>.f32 (or .f16), where sha1 is the image file's
 * content hash. A file holds G*G*C little-endian float32 (or float16) values, row-major (row, col, channel),
 * nothing else; its size is validated on read and a wrong-sized file is recomputed. Files are written
 * atomically (temp file + rename), so an interrupted run never leaves a truncated entry. The encoder id
 * includes a hash of its weights, so changing encoders can never serve stale features.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { decodeFloat16, encodeFloat16 } from './float16';
import type { FeatureStorage, ImageEncoder } from './image-encoder';
import { writeFileAtomic } from '../fs/atomic-write';
import { throwIfAborted } from '../abort';

export type { FeatureStorage };

export interface ImageItem {
  id: string;
  /** Path relative to the data-set folder (or absolute); null = the item has no image. */
  image: string | null;
}

/** An image that could not be read or encoded: its item gets null features. */
export interface ImageIssue {
  id: string;
  image: string;
  reason: string;
}

export interface EncodeProgress {
  done: number;
  total: number;
  /** Read from the cache. */
  cached: number;
  /** Computed by the encoder (and written to the cache). */
  computed: number;
  failed: number;
}

export interface EncodeImagesOptions {
  /** Default <dataDir>/.cache. */
  cacheDir?: string;
  /**
   * float16 halves the cache size (features are read back as Float32Array; ~3 significant digits). Default: the
   * encoder's own `storage`, else float32.
   */
  storage?: FeatureStorage;
  onProgress?: (progress: EncodeProgress) => void;
  /** Images in flight at once (default 2: decoding overlaps inference). */
  concurrency?: number;
  /**
   * Stops the job: no new image is started once it is aborted, the images in flight finish (their cache
   * entries stay valid), then encodeImages throws a CoreError 'ABORTED'. Every image is a file read and an
   * encoder call, both asynchronous, so a timer-fired abort is seen within one image per worker.
   */
  signal?: AbortSignal;
}

/** id → features (null: no image, or an image that failed; see `issues`). */
export class FeatureMap extends Map<string, Float32Array | null> {
  readonly issues: ImageIssue[] = [];
  /** Non-fatal problems (e.g. an unwritable cache folder). */
  readonly warnings: string[] = [];
  stats: EncodeProgress = { done: 0, total: 0, cached: 0, computed: 0, failed: 0 };
}

export function defaultCacheDir(dataDir: string): string {
  return join(dataDir, '.cache');
}

export function featureCachePath(cacheDir: string, encoderId: string, sha1: string, storage: FeatureStorage): string {
  const safeId = encoderId.replace(/[^A-Za-z0-9_.@-]+/g, '_');
  return join(cacheDir, 'features', safeId, sha1.slice(0, 2), `${sha1}.${storage === 'float16' ? 'f16' : 'f32'}`);
}

/**
 * Encodes every item's image (each distinct image file once), reading and filling the on-disk cache.
 * Never throws for a bad image: the item maps to null and an ImageIssue is recorded.
 */
export async function encodeImages(
  encoder: ImageEncoder,
  dataDir: string,
  items: readonly ImageItem[],
  cacheDirOrOptions?: string | EncodeImagesOptions,
  onProgress?: (progress: EncodeProgress) => void,
): Promise<FeatureMap> {
  const options: EncodeImagesOptions =
    typeof cacheDirOrOptions === 'string' ? { cacheDir: cacheDirOrOptions } : { ...cacheDirOrOptions };
  const cacheDir = options.cacheDir ?? defaultCacheDir(dataDir);
  const storage = options.storage ?? encoder.storage ?? 'float32';
  const report = onProgress ?? options.onProgress;
  const size = encoder.grid * encoder.grid * encoder.channels;

  const result = new FeatureMap();
  const stats = result.stats;
  stats.total = items.length;
  // The same picture (same bytes) under several items or paths is encoded once.
  const bySha = new Map<string, Promise<Float32Array>>();
  const issues: { index: number; issue: ImageIssue }[] = [];
  for (const item of items) result.set(item.id, null); // keep the items' order in the map

  const computeOrRead = async (path: string, sha1: string): Promise<Float32Array> => {
    const cached = await readCached(cacheDir, encoder.id, sha1, size);
    if (cached) {
      stats.cached++;
      return cached;
    }
    let features = await encoder.encodeFile(path);
    if (features.length !== size) {
      throw new Error(`encoder ${encoder.id} returned ${features.length} values, expected ${size}`);
    }
    const file = featureCachePath(cacheDir, encoder.id, sha1, storage);
    try {
      await writeCached(file, features, storage);
    } catch (err) {
      // An unwritable cache costs time on the next run, not correctness: keep the features.
      result.warnings.push(`${file}: cache write failed: ${firstLine(err)}`);
    }
    // Serve exactly what a later run will read back from the cache.
    if (storage === 'float16') features = decodeFloat16(encodeFloat16(features));
    stats.computed++;
    return features;
  };

  const encodeOne = async (item: ImageItem, index: number): Promise<void> => {
    if (item.image !== null) {
      const path = isAbsolute(item.image) ? item.image : resolve(dataDir, item.image);
      try {
        const sha1 = createHash('sha1')
          .update(await readFile(path))
          .digest('hex');
        let pending = bySha.get(sha1);
        if (pending) {
          stats.cached++;
        } else {
          pending = computeOrRead(path, sha1);
          bySha.set(sha1, pending);
          // A failed image may be retried under another item (the error is reported for each).
          pending.catch(() => bySha.delete(sha1));
        }
        result.set(item.id, await pending);
      } catch (err) {
        stats.failed++;
        issues.push({ index, issue: { id: item.id, image: item.image, reason: firstLine(err) } });
      }
    }
    stats.done++;
    report?.({ ...stats });
  };

  // A few images in flight: sharp decodes one (on libuv threads) while the model runs another.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted) {
      const index = next++;
      await encodeOne(items[index], index);
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  throwIfAborted(options.signal, 'image encoding');
  issues.sort((a, b) => a.index - b.index);
  result.issues.push(...issues.map((entry) => entry.issue));
  return result;
}

/** Cached features for one image hash, in either storage; null when absent or the wrong size. */
async function readCached(
  cacheDir: string,
  encoderId: string,
  sha1: string,
  size: number,
): Promise<Float32Array | null> {
  for (const storage of ['float32', 'float16'] as const) {
    let bytes: Buffer;
    try {
      bytes = await readFile(featureCachePath(cacheDir, encoderId, sha1, storage));
    } catch {
      continue;
    }
    const width = storage === 'float32' ? 4 : 2;
    if (bytes.byteLength !== size * width) continue;
    // Copy into an aligned buffer (Buffer pool offsets need not be 4-byte aligned).
    const aligned = new Uint8Array(bytes).buffer;
    return storage === 'float32' ? new Float32Array(aligned) : decodeFloat16(new Uint16Array(aligned));
  }
  return null;
}

async function writeCached(file: string, features: Float32Array, storage: FeatureStorage): Promise<void> {
  const data = storage === 'float32' ? features : encodeFloat16(features);
  await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
