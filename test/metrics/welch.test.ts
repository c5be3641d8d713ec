// Welch's t, df, p and 95 % CI against a hand-computed example and against published t-table quantiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studentTCdf, studentTQuantile, welch } from '../../models/metrics/welch';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

test('Student t quantiles match the printed table (two-sided 95 %: t₀.₉₇₅)', () => {
  // df → t₀.₉₇₅ from any t table (and scipy.stats.t.ppf(0.975, df)).
  for (const [df, q] of [
    [1, 12.706204736],
    [2, 4.30265273],
    [4, 2.776445105],
    [30, 2.042272456],
    [2.5, 3.574654842],
  ] as const)
    close(studentTQuantile(0.975, df), q, 1e-6, `t0.975(${df})`);
  close(studentTCdf(0, 7), 0.5, 1e-12, 'median');
  close(studentTCdf(-2.776445105, 4), 0.025, 1e-8, 'lower tail');
  assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\)/);
});

test('welch: the hand-computed example', () => {
  // A = 1 2 3 4 5: mean 3, s² = (4+1+0+1+4)/4 = 2.5; B = 2 4 6 8 10: mean 6, s² = (16+4+0+4+16)/4 = 10.
  // Δ = 6 − 3 = 3; se² = 2.5/5 + 10/5 = 2.5, se = 1.58114; t = 3 / 1.58114 = 1.89737.
  // df = 2.5² / ((0.5²)/4 + (2²)/4) = 6.25 / 1.0625 = 5.88235; t₀.₉₇₅(5.88235) = 2.45882;
  // CI = 3 ± 2.45882 · 1.58114 = [−0.88774, 6.88774]; two-sided p = 0.10753 (scipy ttest_ind(equal_var=False)).
  const w = welch([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
  assert.equal(w.delta, 3);
  close(w.se, Math.sqrt(2.5), 1e-12, 'se');
  close(w.t!, 3 / Math.sqrt(2.5), 1e-12, 't');
  close(w.df!, 6.25 / 1.0625, 1e-12, 'df');
  close(w.ci95[0], -0.887741644, 1e-6, 'CI low');
  close(w.ci95[1], 6.887741644, 1e-6, 'CI high');
  close(w.p!, 0.107531195, 1e-6, 'p');
  // Swapping the groups flips the sign, not the rest.
  const v = welch([2, 4, 6, 8, 10], [1, 2, 3, 4, 5]);
  assert.equal(v.delta, -3);
  close(v.ci95[0], -6.887741644, 1e-6, 'flipped CI');
  close(v.p!, w.p!, 1e-12, 'flipped p');
});

test('welch: constant groups have no t; fewer than 2 seeds is refused', () => {
  const w = welch([50, 50], [52, 52, 52]);
  assert.equal(w.delta, 2);
  assert.equal(w.t, null);
  assert.deepEqual(w.ci95, [2, 2]);
  assert.throws(() => welch([1], [1, 2]), /at least 2 values/);
});
