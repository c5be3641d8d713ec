// Welch's two-sample t (unequal variances) for a Δ between two groups of seeds, with its Welch–Satterthwaite degrees
// of freedom, two-sided p and 95 % confidence interval. The t quantile comes from the regularized incomplete beta
// (Numerical Recipes' continued fraction) inverted by bisection: no statistics package needed, exact to ~1e-10.

/** ln Γ(x), Lanczos (g = 7, 9 terms); |error| < 1e-13 for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` (> 0, not necessarily whole) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p (0 < p < 1), by bisection. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0, got ${df}`);
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface WelchResult {
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
  /** meanB − meanA. */
  delta: number;
  /** Standard error of Δ: sqrt(sA²/nA + sB²/nB). */
  se: number;
  /** Δ / se; null when se = 0 (both groups constant). */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom; null when se = 0. */
  df: number | null;
  /** Two-sided p; null when se = 0. */
  p: number | null;
  /** 95 % CI of Δ: Δ ± t_{0.975, df} · se; [Δ, Δ] when se = 0. */
  ci95: [number, number];
}

function meanVar(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0) / (xs.length - 1);
  return { mean, variance };
}

/** Welch's test of B against A (Δ = mean B − mean A). Each group needs at least 2 values. */
export function welch(a: readonly number[], b: readonly number[]): WelchResult {
  if (a.length < 2 || b.length < 2)
    throw new RangeError(`welch: each group needs at least 2 values (seeds), got ${a.length} and ${b.length}`);
  const A = meanVar(a);
  const B = meanVar(b);
  const va = A.variance / a.length;
  const vb = B.variance / b.length;
  const se = Math.sqrt(va + vb);
  const delta = B.mean - A.mean;
  const base = { nA: a.length, nB: b.length, meanA: A.mean, meanB: B.mean, delta, se };
  if (se === 0) return { ...base, t: null, df: null, p: null, ci95: [delta, delta] };
  const df = ((va + vb) * (va + vb)) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  const t = delta / se;
  const p = 2 * (1 - studentTCdf(Math.abs(t), df));
  const q = studentTQuantile(0.975, df);
  return { ...base, t, df, p, ci95: [delta - q * se, delta + q * se] };
}

export interface MeanCi {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null when n < 2. */
  std: number | null;
  /** 95 % CI of the mean, t-based: mean ± t_{0.975, n−1} · std / √n; null when n < 2. */
  ci95: [number, number] | null;
}

/** Mean, sample std and the t-based 95 % CI of the mean of one group of seeds (n ≥ 1). */
export function meanCi95(values: readonly number[]): MeanCi {
  if (values.length === 0) throw new RangeError('meanCi95: no values');
  const n = values.length;
  if (n < 2) return { n, mean: values[0], std: null, ci95: null };
  const { mean, variance } = meanVar(values);
  const std = Math.sqrt(variance);
  const half = std === 0 ? 0 : (studentTQuantile(0.975, n - 1) * std) / Math.sqrt(n);
  return { n, mean, std, ci95: [mean - half, mean + half] };
}
