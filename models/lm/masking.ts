// Pure index functions of AimKP's progressive modality masking (SPEC §1, "as released") and its ablations; the
// structured rule itself is shared/masking-rule.ts (the UI's masking preview reads it too).
// All functions return sorted 0-based indices into the span (text span, or the row-major G×G image grid).
import { mulberry32 } from '../random/mulberry32';
import { checkStride, keptImageIndices, keptTextIndices, range } from '../../shared/masking-rule';

export { keptImageIndices, keptTextIndices };

/** Random masking ablation: as many text tokens as the structured mask keeps, chosen at random from `seed`. */
export function randomKeptTextIndices(len: number, stride: number, seed: number): number[] {
  return randomSubset(len, keptTextIndices(len, stride).length, seed);
}

/** Random masking ablation for the image grid (same count as the structured mask). */
export function randomKeptImageIndices(grid: number, stride: number, seed: number): number[] {
  return randomSubset(grid * grid, keptImageIndices(grid, stride).length, seed);
}

/**
 * Feature-compression ablation: groups of text positions averaged into one token each. Windows [ks, ks+s-1] for
 * k < ⌊len/s⌋ (the same windows, and count, as the structured mask: a trailing partial window is dropped as the
 * mask drops it); s > len pools the whole span into one token.
 */
export function pooledTextGroups(len: number, stride: number): number[][] {
  checkStride(stride);
  if (len <= 0) return [];
  if (stride <= 1) return range(len).map((i) => [i]);
  if (stride > len) return [range(len)];
  const groups: number[][] = [];
  for (let k = 0; k + stride <= len; k += stride) groups.push(range(stride).map((j) => k + j));
  return groups;
}

/** Feature compression for the image: s×s blocks (⌊G/s⌋² of them, row-major); s > G pools the whole grid. */
export function pooledImageGroups(grid: number, stride: number): number[][] {
  checkStride(stride);
  if (grid <= 0) return [];
  if (stride <= 1) return range(grid * grid).map((i) => [i]);
  if (stride > grid) return [range(grid * grid)];
  const lines = pooledTextGroups(grid, stride);
  const groups: number[][] = [];
  for (const rows of lines) {
    for (const cols of lines) {
      const g: number[] = [];
      for (const r of rows) for (const c of cols) g.push(r * grid + c);
      groups.push(g);
    }
  }
  return groups;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)), enough for masks and decoding samples. */
export function seededRandom(seed: number): () => number {
  return mulberry32(seed);
}

/** Mixes two integers into a 32-bit seed (so text and image masks of one row draw different streams). */
export function mixSeed(seed: number, salt: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(salt | 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

function randomSubset(n: number, count: number, seed: number): number[] {
  const idx = range(n);
  const rand = seededRandom(seed);
  // Partial Fisher–Yates: the first `count` entries become a uniform random subset.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, count).sort((a, b) => a - b);
}
