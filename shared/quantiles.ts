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
  return {
    p10: quantileSorted(sorted, 0.1),
    median: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    n: sorted.length,
  };
}

/**
 * Values in [-1, 1] (gradient cosines) counted at a resolution of 1e-4: the band of an epoch in progress without
 * keeping every sample (an epoch of a long run holds ~10^5), and small enough to travel in a run's history.
 * Quantiles are those of the values rounded to the nearest 1e-4 (`band` of the rounded values, exactly).
 */
export class CosineHistogram {
  static readonly STEPS = 10_000;
  private readonly counts = new Uint32Array(2 * CosineHistogram.STEPS + 1);
  private total = 0;

  static binOf(v: number): number {
    const b = Math.round((Math.max(-1, Math.min(1, v)) + 1) * CosineHistogram.STEPS);
    return b;
  }

  static valueOf(bin: number): number {
    return bin / CosineHistogram.STEPS - 1;
  }

  get n(): number {
    return this.total;
  }

  add(v: number): void {
    this.counts[CosineHistogram.binOf(v)]++;
    this.total++;
  }

  /** The k-th smallest (0-based) rounded value. */
  private orderStat(k: number): number {
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen > k) return CosineHistogram.valueOf(b);
    }
    return Number.NaN;
  }

  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const pos = (this.total - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const a = this.orderStat(lo);
    const b = hi === lo ? a : this.orderStat(hi);
    return a + (b - a) * (pos - lo);
  }

  band(): Band {
    return { p10: this.quantile(0.1), median: this.quantile(0.5), p90: this.quantile(0.9), n: this.total };
  }

  /** Non-empty bins as [bin, count] pairs (bin = round((v + 1) · 10^4)). */
  toPairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let b = 0; b < this.counts.length; b++) if (this.counts[b] > 0) out.push([b, this.counts[b]]);
    return out;
  }

  static fromPairs(pairs: readonly (readonly [number, number])[]): CosineHistogram {
    const h = new CosineHistogram();
    for (const [b, c] of pairs) {
      if (!Number.isInteger(b) || b < 0 || b >= h.counts.length || !Number.isInteger(c) || c < 0)
        throw new Error(`cosine histogram: bad bin [${b}, ${c}]`);
      h.counts[b] += c;
      h.total += c;
    }
    return h;
  }
}
