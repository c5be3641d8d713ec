// Incremental min/max decimation for long line series. chart.js's own decimation re-reads every point on every
// redraw (O(n) per live update: 20,000 steps × 7 series each frame); this keeps at most ~2 × `target` points,
// appends in O(1) amortised, and keeps each bucket's lowest and highest point, so spikes stay visible.
//
// Points are bucketed by arrival order (x grows along a run). A bucket of `width` consecutive points is
// represented by its min and max point in x order. When the buckets exceed `target`, pairs merge and the width
// doubles (the output is rebuilt once, O(target)).
export interface XY {
  x: number;
  y: number;
}

interface Bucket {
  min: XY;
  max: XY;
  count: number;
}

export class MinMaxDecimator {
  /** What the chart draws: the buckets' min/max points in x order. Mutated in place (same array object). */
  readonly points: XY[] = [];
  private buckets: Bucket[] = [];
  private width = 1;
  /** Raw points taken in. */
  total = 0;

  constructor(readonly target = 1000) {}

  push(p: XY): void {
    this.total++;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.count < this.width) {
      if (p.y < last.min.y) last.min = p;
      if (p.y > last.max.y) last.max = p;
      last.count++;
      // The last bucket changed: rewrite its one or two points at the end.
      this.points.length -= this.emittedLast;
      this.emit(last);
      return;
    }
    const b: Bucket = { min: p, max: p, count: 1 };
    this.buckets.push(b);
    if (this.buckets.length > this.target) this.merge();
    else this.emit(b);
  }

  pushAll(ps: readonly XY[]): void {
    for (const p of ps) this.push(p);
  }

  clear(): void {
    this.points.length = 0;
    this.buckets = [];
    this.width = 1;
    this.total = 0;
    this.emittedLast = 0;
  }

  /** Points the last bucket put at the end of `points` (1 when its min and max are one point, else 2). */
  private emittedLast = 0;

  private emit(b: Bucket): void {
    if (b.min === b.max) {
      this.points.push(b.min);
      this.emittedLast = 1;
    } else if (b.min.x <= b.max.x) {
      this.points.push(b.min, b.max);
      this.emittedLast = 2;
    } else {
      this.points.push(b.max, b.min);
      this.emittedLast = 2;
    }
  }

  private merge(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const a = this.buckets[i];
      const c = this.buckets[i + 1];
      if (!c) {
        merged.push(a);
        continue;
      }
      merged.push({
        min: c.min.y < a.min.y ? c.min : a.min,
        max: c.max.y > a.max.y ? c.max : a.max,
        count: a.count + c.count,
      });
    }
    this.buckets = merged;
    this.width *= 2;
    this.points.length = 0;
    for (const b of this.buckets) this.emit(b);
  }
}
