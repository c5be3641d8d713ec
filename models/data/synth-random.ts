// A small seeded PRNG so the synthetic data set is identical for a given seed on every machine.

export { mulberry32 } from '../random/mulberry32';

/** A derived seed for stream `k` of `seed` (per-item streams keep results independent of drawing order). */
export function subSeed(seed: number, k: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(k + 1, 0xc2b2ae35)) >>> 0;
}

export function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}
