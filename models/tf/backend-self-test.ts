/**
 * A backend self-test: the ops this project's model and encoders are made of, run on a backend and on the pure-JS cpu
 * backend (TF.js's reference implementation) with the same inputs, compared element by element. For a new backend
 * (webgpu on a GPU machine, tfjs-node-gpu) before trusting it with training: scripts/gpu-check.sh runs it.
 */
import * as tf from '@tensorflow/tfjs';
import { silenceCpuNodeHint } from './backend';

export interface SelfTestCase {
  op: string;
  /** Largest |target − cpu| over the output. */
  maxAbsDiff: number;
  /** maxAbsDiff / max(|cpu|, 1e-6): the error relative to the output's scale. */
  relDiff: number;
  ok: boolean;
  /** When the op threw on the target backend. */
  error?: string;
}

export interface SelfTestReport {
  backend: string;
  /** relDiff bound a case must meet (float32 on a GPU sums in another order than the cpu backend). */
  tolerance: number;
  cases: SelfTestCase[];
  ok: boolean;
}

/** Deterministic inputs in [-1, 1) (no Math.random: the same on every backend and run). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const CASES: Record<string, () => tf.Tensor> = {
  matMul: () => tf.matMul(tf.tensor2d(values(64 * 48, 1), [64, 48]), tf.tensor2d(values(48 * 40, 2), [48, 40])),
  'matMul (batched, transposed)': () =>
    tf.matMul(
      tf.tensor3d(values(3 * 17 * 33, 3), [3, 17, 33]),
      tf.tensor3d(values(3 * 9 * 33, 4), [3, 9, 33]),
      false,
      true,
    ),
  softmax: () => tf.softmax(tf.mul(tf.tensor2d(values(8 * 50, 5), [8, 50]), 6)),
  logSoftmax: () => tf.logSoftmax(tf.mul(tf.tensor2d(values(8 * 50, 6), [8, 50]), 6)),
  'sum / mean / max': () => {
    const x = tf.tensor3d(values(4 * 5 * 6, 7), [4, 5, 6]);
    return tf.concat([tf.sum(x, 2).flatten(), tf.mean(x, 1).flatten(), tf.max(x, 0).flatten()]);
  },
  'exp log tanh sqrt rsqrt pow': () => {
    const x = tf.add(tf.abs(tf.tensor1d(values(256, 8))), 0.1);
    return tf.concat([tf.exp(x), tf.log(x), tf.tanh(x), tf.sqrt(x), tf.rsqrt(x), tf.pow(x, 1.5)]);
  },
  'gather + gradient (UnsortedSegmentSum)': () => {
    const table = tf.tensor2d(values(12 * 5, 9), [12, 5]);
    const ids = tf.tensor1d([3, 3, 7, 0, 11, 3, 1], 'int32');
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.gather(w, ids))))(table);
    return tf.concat([tf.gather(table, ids).flatten(), g.flatten()]);
  },
  'concat slice transpose pad': () => {
    const x = tf.tensor3d(values(2 * 3 * 4, 10), [2, 3, 4]);
    return tf.concat([
      tf.transpose(x, [2, 0, 1]).flatten(),
      tf.slice(x, [0, 1, 1], [2, 2, 2]).flatten(),
      tf
        .pad(x, [
          [0, 0],
          [1, 0],
          [0, 2],
        ])
        .flatten(),
    ]);
  },
  'oneHot cast int32': () => {
    const idx = tf.tensor1d([0, 4, 2, 4], 'int32');
    return tf.concat([tf.oneHot(idx, 5).flatten().cast('float32'), tf.add(idx, tf.scalar(3, 'int32')).cast('float32')]);
  },
  'conv2d (FusedConv2D, relu6)': () =>
    tf.fused.conv2d({
      x: tf.tensor4d(values(1 * 9 * 9 * 3, 11), [1, 9, 9, 3]),
      filter: tf.tensor4d(values(3 * 3 * 3 * 8, 12), [3, 3, 3, 8]),
      strides: 2,
      pad: 'same',
      bias: tf.tensor1d(values(8, 13)),
      activation: 'relu6',
    }),
  'depthwiseConv2d (FusedDepthwiseConv2D)': () =>
    tf.fused.depthwiseConv2d({
      x: tf.tensor4d(values(1 * 7 * 7 * 4, 14), [1, 7, 7, 4]),
      filter: tf.tensor4d(values(3 * 3 * 4 * 1, 15), [3, 3, 4, 1]),
      strides: 1,
      pad: 'same',
      bias: tf.tensor1d(values(4, 16)),
      activation: 'relu6',
    }),
  'matMul gradient': () => {
    const a = tf.tensor2d(values(6 * 5, 17), [6, 5]);
    const b = tf.tensor2d(values(5 * 4, 18), [5, 4]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.tanh(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))),
    )([a, b]);
    return tf.concat([ga.flatten(), gb.flatten()]);
  },
  'topk argMax': () => {
    const x = tf.tensor2d(values(3 * 20, 19), [3, 20]);
    const { values: v, indices } = tf.topk(x, 5);
    return tf.concat([v.flatten(), indices.flatten().cast('float32'), tf.argMax(x, 1).cast('float32')]);
  },
};

/**
 * Runs every case on `target` (a tf backend name: 'webgpu', 'tensorflow', …) and on cpu; both must be registered,
 * and `target` is current afterwards.
 */
export async function runBackendSelfTest(target: string, tolerance = 1e-4): Promise<SelfTestReport> {
  const read = (f: () => tf.Tensor): Float32Array => tf.tidy(() => f().dataSync() as Float32Array).slice();
  const cases: SelfTestCase[] = [];
  silenceCpuNodeHint();
  for (const [op, make] of Object.entries(CASES)) {
    await tf.setBackend('cpu');
    const want = read(make);
    await tf.setBackend(target);
    let got: Float32Array;
    try {
      got = read(make);
    } catch (err) {
      const error = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      cases.push({ op, maxAbsDiff: Infinity, relDiff: Infinity, ok: false, error });
      continue;
    }
    let maxAbsDiff = got.length === want.length ? 0 : Infinity;
    let scale = 1e-6;
    for (let i = 0; i < want.length && maxAbsDiff !== Infinity; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    if (Number.isNaN(maxAbsDiff) || got.some(Number.isNaN)) maxAbsDiff = Infinity;
    const relDiff = maxAbsDiff / scale;
    cases.push({ op, maxAbsDiff, relDiff, ok: relDiff <= tolerance });
  }
  await tf.setBackend(target);
  return { backend: target, tolerance, cases, ok: cases.every((c) => c.ok) };
}
