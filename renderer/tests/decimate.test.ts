import { describe, expect, it } from 'vitest';
import { MinMaxDecimator, type XY } from '../src/charts/decimate';

/** The same decimation done from scratch: buckets of `width` consecutive points, min and max in x order. */
function bruteForce(points: XY[], target: number): XY[] {
  let width = 1;
  while (Math.ceil(points.length / width) > target) width *= 2;
  const out: XY[] = [];
  for (let i = 0; i < points.length; i += width) {
    const chunk = points.slice(i, i + width);
    let min = chunk[0],
      max = chunk[0];
    for (const p of chunk) {
      if (p.y < min.y) min = p;
      if (p.y > max.y) max = p;
    }
    if (min === max) out.push(min);
    else out.push(...(min.x <= max.x ? [min, max] : [max, min]));
  }
  return out;
}

describe('MinMaxDecimator', () => {
  it('equals a from-scratch min/max bucketing after every push, and stays within 2 × target points', () => {
    let s = 7;
    const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
    const pts: XY[] = Array.from({ length: 3000 }, (_, i) => ({
      x: i + 1,
      y: Math.sin(i / 50) + rand() - (i === 1234 ? 9 : 0),
    }));
    const d = new MinMaxDecimator(100);
    for (let i = 0; i < pts.length; i++) {
      d.push(pts[i]);
      if (i % 97 === 0 || i === pts.length - 1)
        expect(d.points, `after ${i + 1}`).toEqual(bruteForce(pts.slice(0, i + 1), 100));
      expect(d.points.length).toBeLessThanOrEqual(200);
    }
    expect(d.total).toBe(3000);
    // The spike survives decimation.
    expect(Math.min(...d.points.map((p) => p.y))).toBe(Math.min(...pts.map((p) => p.y)));
    const arr = d.points;
    d.clear();
    expect(arr).toBe(d.points);
    expect(d.points).toEqual([]);
  });

  it('keeps every point while under the target', () => {
    const d = new MinMaxDecimator(10);
    const pts = [1, 5, 2].map((y, i) => ({ x: i, y }));
    d.pushAll(pts);
    expect(d.points).toEqual(pts);
  });
});
