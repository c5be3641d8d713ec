// What a chart shows follows its data: the legend names only the series that have points (a baseline has no
// masked rows, an AimKP run none before its warm-up ends), and the cosine axis spans the values drawn, not a fixed
// −0.2…1 that flattens cosines bunched near 1.
import type { ChartData, LegendItem } from 'chart.js';

/** chart.js legend filter: a series without a point is not listed. */
export function legendHasPoints(item: LegendItem, data: ChartData): boolean {
  const set = item.datasetIndex === undefined ? undefined : data.datasets[item.datasetIndex];
  return set !== undefined && Array.isArray(set.data) && set.data.length > 0;
}

/** The labels a legend with legendHasPoints lists (for tests and the canvas's data-legend attribute). */
export function labelsWithPoints(data: ChartData): string[] {
  return data.datasets.filter((d) => Array.isArray(d.data) && d.data.length > 0).map((d) => String(d.label ?? ''));
}

/**
 * The y range of a cosine chart: the finite values' span with a margin (8% of the span, at least 0.02), within the
 * cosine's −1…1; null when there is no value (the chart keeps its default).
 */
export function cosineAxisRange(values: Iterable<number>): { min: number; max: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return null;
  const pad = Math.max(0.02, (hi - lo) * 0.08);
  return { min: Math.max(-1, lo - pad), max: Math.min(1, hi + pad) };
}
