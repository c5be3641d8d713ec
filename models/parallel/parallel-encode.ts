// Image-feature encoding over K ranks: the items are cut into K contiguous shares, every rank encodes its share
// through the on-disk feature cache (encodeImages: cached files are read, the others computed and written), and
// the results are put together in item order — the same FeatureMap, issues and warnings as one rank would give.
// Progress sums the ranks'. A stop ends every share within one image per rank, then throws CoreError 'ABORTED'.
import { throwIfAborted } from '../abort';
import {
  encodeImages,
  FeatureMap,
  type EncodeImagesOptions,
  type EncodeProgress,
  type ImageItem,
} from '../vision/feature-cache';
import type { ImageEncoder } from '../vision/image-encoder';
import { shardRanges } from './shard-ranges';
import type { EncodeReply } from './pool-protocol';
import type { Replicas } from './replicas';

export async function encodeImagesParallel(
  replicas: Replicas,
  encoder: ImageEncoder,
  /** The encoder spec the workers load (the one `encoder` was loaded from). */
  encoderSpec: string,
  dataDir: string,
  items: readonly ImageItem[],
  options: Omit<EncodeImagesOptions, 'storage'>,
): Promise<FeatureMap> {
  const shares = shardRanges(items.length, replicas.ranks);
  const progress: EncodeProgress[] = shares.map(([s, e]) => ({
    done: 0,
    total: e - s,
    cached: 0,
    computed: 0,
    failed: 0,
  }));
  const report = () => {
    const sum = (k: keyof EncodeProgress) => progress.reduce((n, p) => n + p[k], 0);
    options.onProgress?.({
      done: sum('done'),
      total: items.length,
      cached: sum('cached'),
      computed: sum('computed'),
      failed: sum('failed'),
    });
  };
  const workers: { rank: number; id: number; reply: Promise<EncodeReply> }[] = [];
  for (let rank = 1; rank < replicas.ranks; rank++) {
    const [start, end] = shares[rank];
    if (start === end) continue;
    const { id, reply } = replicas.request<EncodeReply>(
      rank,
      { t: 'encode', encoder: encoderSpec, dataDir, items: items.slice(start, end), cacheDir: options.cacheDir },
      {
        onProgress: (p) => {
          progress[rank] = p;
          report();
        },
      },
    );
    workers.push({ rank, id, reply });
  }
  const cancelWorkers = () => workers.forEach((w) => replicas.pool.cancel(w.rank, w.id));
  options.signal?.addEventListener('abort', cancelWorkers);
  try {
    const own = encodeImages(encoder, dataDir, items.slice(shares[0][0], shares[0][1]), {
      cacheDir: options.cacheDir,
      signal: options.signal,
      concurrency: options.concurrency,
      onProgress: (p) => {
        progress[0] = p;
        report();
      },
    });
    const settled = await Promise.allSettled([own, ...workers.map((w) => w.reply)]);
    throwIfAborted(options.signal, 'image encoding');
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [first, ...rest] = settled.map((s) => (s as PromiseFulfilledResult<FeatureMap | EncodeReply>).value);
    const mine = first as FeatureMap;
    const result = new FeatureMap();
    for (const item of items) result.set(item.id, null); // the items' order, as encodeImages keeps it
    const [s0, e0] = shares[0];
    for (const item of items.slice(s0, e0)) result.set(item.id, mine.get(item.id) ?? null);
    result.issues.push(...mine.issues);
    result.warnings.push(...mine.warnings);
    rest.forEach((value, k) => {
      const reply = value as EncodeReply;
      const [start, end] = shares[workers[k].rank];
      items.slice(start, end).forEach((item, i) => result.set(item.id, reply.features[i]));
      result.issues.push(...reply.issues);
      result.warnings.push(...reply.warnings);
    });
    const all = [mine.stats, ...rest.map((r) => (r as EncodeReply).stats)];
    const sum = (k: keyof EncodeProgress) => all.reduce((n, p) => n + p[k], 0);
    result.stats = {
      done: sum('done'),
      total: items.length,
      cached: sum('cached'),
      computed: sum('computed'),
      failed: sum('failed'),
    };
    return result;
  } finally {
    options.signal?.removeEventListener('abort', cancelWorkers);
  }
}
