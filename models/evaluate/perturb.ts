// Test-time perturbations of encoded inputs for the robustness suite. All pure and seeded.
//
// Masking at test time cannot use the training-time attention mask (the LM's generate() takes plain
// examples), so a "masked" token is removed from the input instead:
// - text: the dropped tokens are deleted from the post-text span (the span gets shorter);
// - image: the grid keeps its G×G shape (the LM expects G² image tokens) and a dropped image token's
//   feature vector is set to zeros, the "no activation" value of a ReLU-family encoder output.
import type { Rng } from './rng';

/** How positions are kept for a mask ratio. */
export type KeepPattern = 'random' | 'spread';

/**
 * Tokens kept out of n at mask ratio r: n − ⌊r·n⌋, but at least 1 when n > 0 (like the training rule
 * "keep the last token"). Ratio 0.5 on a 7×7 grid keeps 49 − 24 = 25.
 */
export function keptCount(n: number, ratio: number): number {
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`keptCount: ratio ${ratio} outside [0, 1]`);
  if (n <= 0) return 0;
  // The epsilon keeps 0.3·10 from flooring to 2.
  return Math.max(1, n - Math.floor(ratio * n + 1e-9));
}

/** k positions of 0..n−1 spread evenly, ending at n−1: ⌈(i+1)·n/k⌉ − 1. With k = n/s this is s−1, 2s−1, … */
export function spreadPositions(n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(Math.ceil(((i + 1) * n) / k) - 1);
  return out;
}

/** k distinct positions of 0..n−1 chosen uniformly (partial Fisher–Yates), ascending. */
export function randomPositions(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Positions kept at mask ratio r (see keptCount) with the given pattern. */
export function keepPositionsForRatio(n: number, ratio: number, pattern: KeepPattern, rng: Rng): number[] {
  const k = keptCount(n, ratio);
  return pattern === 'spread' ? spreadPositions(n, k) : randomPositions(n, k, rng);
}

/** The training-time text stride rule (SPEC §1): positions s−1, 2s−1, …; if s > n only the last token. */
export function textStridePositions(n: number, s: number): number[] {
  if (n === 0) return [];
  if (s <= 1) return Array.from({ length: n }, (_, i) => i);
  if (s > n) return [n - 1];
  const out: number[] = [];
  for (let p = s - 1; p < n; p += s) out.push(p);
  return out;
}

/** The training-time image stride rule: rows and columns s−1, 2s−1, … of the G×G grid (⌊G/s⌋² tokens); s > G keeps the last token. */
export function gridStridePositions(g: number, s: number): number[] {
  if (s <= 1) return Array.from({ length: g * g }, (_, i) => i);
  if (s > g) return [g * g - 1];
  const out: number[] = [];
  for (let r = s - 1; r < g; r += s) for (let c = s - 1; c < g; c += s) out.push(r * g + c);
  return out;
}

/** Copy of G²×C features with every token not in `keep` set to zeros. */
export function zeroImageTokens(features: Float32Array, tokens: number, keep: readonly number[]): Float32Array {
  if (features.length % tokens !== 0)
    throw new Error(`zeroImageTokens: ${features.length} values is not a multiple of ${tokens} tokens`);
  const c = features.length / tokens;
  const out = new Float32Array(features.length);
  for (const t of keep) out.set(features.subarray(t * c, (t + 1) * c), t * c);
  return out;
}

/** The tokens of `ids` at the `keep` positions, in order. */
export function keepTextTokens(ids: Int32Array, keep: readonly number[]): Int32Array {
  return Int32Array.from(keep, (p) => ids[p]);
}

/**
 * A derangement by cyclic shift: item i takes its donor from pool position (i + shift) mod n, with a
 * seeded shift in [1, n−1], so no item keeps its own input. Returns donor[i] = pool position; for n < 2
 * no swap is possible and the identity is returned.
 */
export function shiftDerangement(n: number, rng: Rng): number[] {
  if (n < 2) return Array.from({ length: n }, (_, i) => i);
  const shift = 1 + rng.int(n - 1);
  return Array.from({ length: n }, (_, i) => (i + shift) % n);
}

/** Standard deviation of every value of every feature array (one number: the noise scale unit). */
export function featureStd(arrays: readonly Float32Array[]): number {
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      sum += a[i];
      sumSq += a[i] * a[i];
    }
    n += a.length;
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
}

/** Copy of `features` plus i.i.d. N(0, sigma²) noise. sigma = 0 returns an exact copy. */
export function addGaussianNoise(features: Float32Array, sigma: number, rng: Rng): Float32Array {
  const out = Float32Array.from(features);
  if (sigma === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] += sigma * rng.gaussian();
  return out;
}
