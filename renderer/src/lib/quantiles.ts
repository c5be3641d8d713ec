// Quantiles of a sample (linear interpolation between order statistics, as numpy's default).

/** The q-quantile (0 ≤ q ≤ 1) of `sorted` (ascending); NaN for an empty list. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface Band {
  p10: number;
  median: number;
  p90: number;
  n: number;
}

/** Median and p10–p90 band of `values` (not modified). */
export function band(values: readonly number[]): Band {
  const sorted = [...values].sort((a, b) => a - b);
  return { p10: quantileSorted(sorted, 0.1), median: quantileSorted(sorted, 0.5), p90: quantileSorted(sorted, 0.9), n: sorted.length };
}
