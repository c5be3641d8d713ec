// The fused cross-entropy kernels (native/native_gemm.cc xent / xentGrad, models/lm/ops.ts sparseCrossEntropy)
// against a float64 reference and against tf's logSoftmax · oneHot chain they replace: values, gradients, rows of
// a width that is not a multiple of the 8 SIMD lanes, large logits, padding rows, the scalar (non-AVX2) path, and a
// model's training gradients. Skipped, with the reason, where the addon is not built (`npm run build:native`).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeNativeMatmul, nativeMatmulStatus, XENT_KERNEL, XENT_GRAD_KERNEL } from '../../models/tf/native-matmul';
import { nativeSkipReason, onPlainWasm, runScriptJson } from './native-fixtures';
import { sparseCrossEntropy } from '../../models/lm/ops';
import { profileKernels } from '../../models/bench/kernel-profile';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { makeExample, randomizeVariables, TEMPLATE, tinyConfig, variant } from '../lm/fixtures';

let skip: string | null = null;

before(async () => {
  skip = await nativeSkipReason({ vector: true });
});

function logitsOf(rows: number, V: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(rows * V);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

/** nll and d(Σ w·nll)/dx in float64. */
function reference(x: Float32Array, t: Int32Array, w: Float32Array, V: number): { nll: number[]; grad: Float64Array } {
  const rows = t.length;
  const nll: number[] = [];
  const grad = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < V; i++) m = Math.max(m, x[r * V + i]);
    let s = 0;
    for (let i = 0; i < V; i++) s += Math.exp(x[r * V + i] - m);
    const lse = m + Math.log(s);
    nll.push(lse - x[r * V + t[r]]);
    for (let i = 0; i < V; i++) grad[r * V + i] = w[r] * (Math.exp(x[r * V + i] - lse) - (i === t[r] ? 1 : 0));
  }
  return { nll, grad };
}

function run(
  x: Float32Array,
  t: Int32Array,
  w: Float32Array,
  shape: number[],
): { nll: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const lead = shape.slice(0, -1);
    const weights = tf.tensor(w, lead);
    const f = (logits: tf.Tensor) => sparseCrossEntropy(logits, t).mul(weights).sum() as tf.Scalar;
    const logits = tf.tensor(x, shape);
    const nll = sparseCrossEntropy(logits, t).dataSync() as Float32Array;
    const grad = tf.grad(f)(logits).dataSync() as Float32Array;
    return { nll: Float32Array.from(nll), grad: Float32Array.from(grad) };
  });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const CASES = [
  { name: 'V = 1003 (not a multiple of 8), logits in ±4', rows: 37, V: 1003, scale: 4 },
  { name: 'V = 16000, logits in ±30', rows: 6, V: 16000, scale: 30 },
  { name: 'V = 5 (shorter than the lanes), logits in ±80', rows: 9, V: 5, scale: 80 },
];

for (const c of CASES) {
  test(`xent: ${c.name}: the fused kernels equal a float64 reference and tf's ops`, (t) => {
    if (skip) return t.skip(skip);
    const x = logitsOf(c.rows, c.V, c.scale, c.V);
    const targets = Int32Array.from({ length: c.rows }, (_, r) => (r === 0 ? 0 : r === 1 ? c.V - 1 : (r * 7919) % c.V));
    // Row 2 is padding (weight 0): no gradient.
    const w = Float32Array.from({ length: c.rows }, (_, r) => (r === 2 ? 0 : 0.25 + (r % 5) / 4));
    const shape = [c.rows, c.V];
    const { profile, result: fused } = profileKernels(() => run(x, targets, w, shape));
    assert.equal(profile.byKernel.get(XENT_KERNEL)?.count, 2, 'the fused forward ran (value and gradient passes)');
    assert.equal(profile.byKernel.get(XENT_GRAD_KERNEL)?.count, 1, 'the fused backward ran');
    assert.equal(profile.byKernel.has('LogSoftmax') || profile.byKernel.has('OneHot'), false);
    const ops = onPlainWasm(() => run(x, targets, w, shape));
    const ref = reference(x, targets, w, c.V);
    // float32 logits of magnitude ≤ 80: a few ulps of the log-sum-exp.
    const tol = 4e-6 * Math.max(1, c.scale);
    assert.ok(maxDiff(fused.nll, ref.nll) < tol, `nll vs float64: ${maxDiff(fused.nll, ref.nll)}`);
    assert.ok(maxDiff(ops.nll, ref.nll) < tol, `tf ops vs float64: ${maxDiff(ops.nll, ref.nll)}`);
    assert.ok(maxDiff(fused.grad, ref.grad) < 1e-6, `gradient vs float64: ${maxDiff(fused.grad, ref.grad)}`);
    assert.ok(maxDiff(fused.grad, ops.grad) < 1e-6, `gradient vs tf ops: ${maxDiff(fused.grad, ops.grad)}`);
    assert.ok(
      fused.grad.subarray(2 * c.V, 3 * c.V).every((v) => v === 0),
      'a padding row has no gradient',
    );
  });
}

test('xent: logits of rank 3 keep their leading shape; the tf path is the old chain bit for bit', (t) => {
  if (skip) return t.skip(skip);
  const [R, A, V] = [3, 4, 97];
  const x = logitsOf(R * A, V, 6, 11);
  const targets = Int32Array.from({ length: R * A }, (_, i) => (i * 31) % V);
  const fused = tf.tidy(() => {
    const out = sparseCrossEntropy(tf.tensor3d(x, [R, A, V]), targets);
    return { shape: out.shape, values: out.dataSync().slice() };
  });
  assert.deepEqual(fused.shape, [R, A]);
  const [ops, chain] = onPlainWasm(() =>
    tf.tidy(() => {
      const logits = tf.tensor3d(x, [R, A, V]);
      const before = tf
        .logSoftmax(logits)
        .mul(tf.oneHot(tf.tensor2d(targets, [R, A], 'int32'), V))
        .sum(-1)
        .neg();
      return [sparseCrossEntropy(logits, targets).dataSync().slice(), before.dataSync().slice()];
    }),
  );
  assert.deepEqual(Array.from(ops), Array.from(chain));
  assert.ok(maxDiff(fused.values, ops) < 2e-5);
});

test('xent: the scalar kernel (no AVX2) matches the float64 reference too', (t) => {
  if (skip) return t.skip(skip);
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend';
    import { sparseCrossEntropy } from './models/lm/ops';
    import { nativeVectorReady } from './models/tf/native-matmul';
    const info = await initBackend('wasm');
    const V = 203, rows = 5;
    const x = Float32Array.from({ length: rows * V }, (_, i) => Math.sin(i * 1.7) * 9);
    const t = Int32Array.from({ length: rows }, (_, r) => (r * 41) % V);
    const logits = tf.tensor2d(x, [rows, V]);
    const nll = sparseCrossEntropy(logits, t).dataSync();
    const grad = tf.grad((l) => sparseCrossEntropy(l, t).sum())(logits).dataSync();
    let worst = 0, worstGrad = 0;
    for (let r = 0; r < rows; r++) {
      let m = -Infinity, s = 0;
      for (let i = 0; i < V; i++) m = Math.max(m, x[r * V + i]);
      for (let i = 0; i < V; i++) s += Math.exp(x[r * V + i] - m);
      const lse = m + Math.log(s);
      worst = Math.max(worst, Math.abs(nll[r] - (lse - x[r * V + t[r]])));
      for (let i = 0; i < V; i++)
        worstGrad = Math.max(worstGrad, Math.abs(grad[r * V + i] - (Math.exp(x[r * V + i] - lse) - (i === t[r] ? 1 : 0))));
    }
    console.log(JSON.stringify({ kernel: info.nativeMatmul?.kernel, fused: nativeVectorReady(), worst, worstGrad }));
  `;
  const out = runScriptJson<Record<string, unknown>>(script, { AIMKP_GEMM_KERNEL: 'generic' });
  assert.equal(out.kernel, 'generic-6x16');
  assert.equal(out.fused, true);
  assert.ok((out.worst as number) < 4e-5, `nll: ${String(out.worst)}`);
  assert.ok((out.worstGrad as number) < 1e-6, `gradient: ${String(out.worstGrad)}`);
});

test("xent: a model's training gradients with the fused loss equal those with tf's ops (float tolerance)", (t) => {
  if (skip) return t.skip(skip);
  const config = tinyConfig({ vocabSize: 301 });
  const model = createKeyphraseLM(config, TEMPLATE, 3);
  randomizeVariables(model.namedVariables().values(), 5, 0.3);
  const examples = [
    makeExample(0, config, 4, [11, 40]),
    makeExample(1, config, 2, [12]),
    makeExample(2, config, 6, [13, 200, 7]),
  ];
  const variants = examples.map(() => variant());
  const grads = (): { losses: ArrayLike<number>; grads: Float32Array[] } => {
    const out = model.weightedGradients(examples, variants, [0.5, 0.3, 0.2], true);
    const values = out.grads.map((g) => g.dataSync().slice() as Float32Array);
    tf.dispose(out.grads);
    return { losses: out.result.losses, grads: values };
  };
  const fused = grads();
  const ops = onPlainWasm(grads);
  assert.ok(maxDiff(fused.losses, ops.losses) < 1e-5, `losses: ${maxDiff(fused.losses, ops.losses)}`);
  fused.grads.forEach((g, i) => {
    const scale = Math.max(1e-3, ...Array.from(ops.grads[i], Math.abs));
    assert.ok(maxDiff(g, ops.grads[i]) < 1e-4 * scale, `variable ${i}: ${maxDiff(g, ops.grads[i])} (scale ${scale})`);
  });
});

test('vector kernels: on by default (the backend line says nothing); AIMKP_NATIVE_VECTOR=off says so and uses tf ops', (t) => {
  if (skip) return t.skip(skip);
  assert.doesNotMatch(describeNativeMatmul(nativeMatmulStatus()!), /vector kernels off/);
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { describeBackend, initBackend } from './models/tf/backend';
    import { sparseCrossEntropy } from './models/lm/ops';
    import { nativeVectorReady } from './models/tf/native-matmul';
    import { profileKernels } from './models/bench/kernel-profile';
    const info = await initBackend('wasm');
    const { profile } = profileKernels(() => sparseCrossEntropy(tf.tensor2d([[1, 2, 3]]), Int32Array.from([2])).dataSync());
    console.log(JSON.stringify({
      line: describeBackend(info),
      ready: nativeVectorReady(),
      tfOps: profile.byKernel.has('OneHot'),
    }));
  `;
  const out = runScriptJson<{ line: string; ready: boolean; tfOps: boolean }>(script, { AIMKP_NATIVE_VECTOR: 'off' });
  assert.match(
    out.line,
    /^backend: wasm \+ native matmul \((AVX-512|AVX2|scalar); vector kernels off: AIMKP_NATIVE_VECTOR=off\)/,
  );
  assert.equal(out.ready, false);
  assert.equal(out.tfOps, true);
});
