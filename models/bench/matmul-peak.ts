// The achievable FP32 matmul rate of the current TF.js backend: square tf.matMul, best of a few runs.
import * as tf from '@tensorflow/tfjs';

export interface MatmulPeak {
  size: number;
  /** Best time of one matMul, ms. */
  ms: number;
  gflops: number;
}

/** 2·n³ FLOPs per n×n matmul; reports the best of `repeats` runs per size (after one warm-up run). */
export async function measureMatmulPeak(sizes: readonly number[], repeats: number): Promise<MatmulPeak[]> {
  const out: MatmulPeak[] = [];
  for (const n of sizes) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    let best = Infinity;
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      const ms = performance.now() - t0;
      c.dispose();
      if (i > 0) best = Math.min(best, ms);
    }
    a.dispose();
    b.dispose();
    out.push({ size: n, ms: best, gflops: (2 * n * n * n) / (best * 1e6) });
  }
  return out;
}
