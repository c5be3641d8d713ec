// Seeded pseudo-random numbers for reproducible perturbations (mulberry32 + Box–Muller).
import { mulberry32 } from '../random/mulberry32';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1). */
  gaussian(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  let spare: number | null = null;
  const next = mulberry32(seed);
  return {
    next,
    int: (n) => Math.floor(next() * n),
    gaussian: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      // 1 - u keeps the log argument in (0, 1].
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
