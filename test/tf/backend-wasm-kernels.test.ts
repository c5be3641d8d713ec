// The wasm fallback kernels (UnsortedSegmentSum, Conv2DBackpropFilter, Einsum) against hand computations and
// the reference cpu backend.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';

before(async () => {
  await initBackend('wasm');
});

/** Runs f on the cpu backend and returns to wasm. */
async function onCpu<T>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test('gradient of sum(gather(W, ids) * c) on wasm: repeated ids accumulate (hand computation)', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const W = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ]);
  const ids = tf.tensor1d([0, 2, 0, 1, 0], 'int32');
  const c = tf.tensor2d([
    [1, 10],
    [2, 20],
    [3, 30],
    [4, 40],
    [5, 50],
  ]);
  const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.gather(w, ids), c)))(W);
  // Row 0 is gathered at positions 0, 2, 4 → c0 + c2 + c4; row 1 at 3; row 2 at 1; row 3 never.
  assert.deepEqual(Array.from(grad.dataSync()), [9, 90, 4, 40, 2, 20, 0, 0]);
  assert.deepEqual(grad.shape, [4, 2]);
  tf.dispose([W, ids, c, grad]);
});

test('embedding gradient on wasm equals the cpu backend (3-D ids, batch of sequences)', async () => {
  const vocab = 11;
  const dim = 5;
  const table = Array.from({ length: vocab * dim }, (_, i) => Math.sin(i));
  const idList = [3, 3, 7, 0, 10, 3, 1, 7, 7, 2, 0, 5];
  const weights = Array.from({ length: idList.length * dim }, (_, i) => Math.cos(i * 0.7));
  const run = (): Float32Array =>
    tf.tidy(() => {
      const W = tf.tensor2d(table, [vocab, dim]);
      const ids = tf.tensor2d(idList, [3, 4], 'int32');
      const k = tf.tensor3d(weights, [3, 4, dim]);
      return tf
        .grad((w: tf.Tensor) => tf.sum(tf.mul(tf.square(tf.gather(w, ids)), k)))(W)
        .dataSync() as Float32Array;
    });
  const wasmGrad = run();
  const cpuGrad = await onCpu(run);
  assertClose(wasmGrad, cpuGrad);
  // Row 4 never occurs: zero gradient; row 3 occurs 3 times: nonzero.
  assert.deepEqual(Array.from(wasmGrad.slice(4 * dim, 5 * dim)), [0, 0, 0, 0, 0]);
  assert.ok(wasmGrad.slice(3 * dim, 4 * dim).some((v) => v !== 0));
});

test('unsortedSegmentSum itself runs on wasm', () => {
  const out = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([1, 0, 1, 3], 'int32'), 4);
  assert.deepEqual(Array.from(out.dataSync()), [2, 4, 0, 4]);
  out.dispose();
});

test('conv2d filter gradient (Conv2DBackpropFilter) on wasm equals the cpu backend', async () => {
  const x = Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i * 0.37));
  const f = Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i * 0.11));
  const run = (): Float32Array =>
    tf.tidy(() => {
      const input = tf.tensor4d(x, [2, 6, 6, 3]);
      const filter = tf.tensor4d(f, [3, 3, 3, 4]);
      const loss = (w: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(input, w as tf.Tensor4D, 2, 'same')));
      return tf.grad(loss)(filter).dataSync() as Float32Array;
    });
  const wasmGrad = run();
  assertClose(wasmGrad, await onCpu(run), 1e-3);
});

test('einsum on wasm equals matMul / a hand computation', () => {
  const a = tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);
  const out = tf.einsum('ij,jk->ik', a, b);
  assert.deepEqual(Array.from(out.dataSync()), [4, 5, 10, 11]);
  const batched = tf.einsum('bij,bjk->bik', tf.stack([a, a]), tf.stack([b, b]));
  assert.deepEqual(Array.from(batched.dataSync()), [4, 5, 10, 11, 4, 5, 10, 11]);
  tf.dispose([a, b, out, batched]);
});

test('the fallback kernels leak no tensors', () => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const W = tf.randomNormal([6, 3]);
    tf.grad((w: tf.Tensor) => tf.sum(tf.gather(w, tf.tensor1d([1, 1, 5], 'int32'))))(W);
  });
  assert.equal(tf.memory().numTensors, before);
});
