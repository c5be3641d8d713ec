// Mean ± sample standard deviation (n − 1), as the CLI report prints it.
export interface MeanStd {
  n: number;
  mean: number;
  std: number | null;
}

export function meanStd(values: readonly number[]): MeanStd | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { n: v.length, mean, std: null };
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { n: v.length, mean, std: Math.sqrt(variance) };
}

/** "27.8 ± 1.2" with values in percent (inputs are fractions). */
export function formatMeanStd(m: MeanStd | null, scale = 100, digits = 1): string {
  if (!m) return '—';
  const mean = (m.mean * scale).toFixed(digits);
  return m.std === null ? mean : `${mean} ± ${(m.std * scale).toFixed(digits)}`;
}
