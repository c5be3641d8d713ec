// TensorBoard's scalar smoothing: a debiased exponential moving average, so the first points are not pulled
// towards zero. NaN inputs (a step without that kind of row) pass through as NaN and do not move the average.

export class Ema {
  private last = 0;
  private weightSum = 0;
  constructor(readonly weight: number) {}

  push(value: number): number {
    if (!Number.isFinite(value)) return Number.NaN;
    if (this.weight <= 0) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.weightSum = this.weightSum * this.weight + (1 - this.weight);
    return this.last / this.weightSum;
  }
}

/** Smooths a whole series with weight in [0, 1). */
export function smooth(values: readonly number[], weight: number): number[] {
  const ema = new Ema(weight);
  return values.map((v) => ema.push(v));
}
