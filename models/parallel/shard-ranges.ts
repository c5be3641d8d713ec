// How K ranks split n items (a batch's samples, a gradient's floats, a set's rows to decode).

/** [start, end) of each rank's shard: contiguous, sizes differ by at most one, the larger ones first. */
export function shardRanges(n: number, ranks: number): [number, number][] {
  const base = Math.floor(n / ranks);
  const extra = n % ranks;
  const out: [number, number][] = [];
  let start = 0;
  for (let r = 0; r < ranks; r++) {
    const size = base + (r < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}
