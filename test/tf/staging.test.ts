// Staging arrays (models/tf/staging.ts): reused on wasm, which copies a tensor's values at creation; fresh on a
// backend that keeps the caller's array. Either way a tensor made from a staged array keeps its values after the
// array is taken again and overwritten.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { backendCopiesValues, StagingF32 } from '../../models/tf/staging';

before(async () => {
  await initBackend('wasm');
});

/** Fills a staged array, makes a tensor of it, takes the array again and scribbles over it; returns the tensor. */
function stageTwice(stage: StagingF32): { first: Float32Array; second: Float32Array; t: tf.Tensor } {
  const first = stage.take(6);
  first.set([1, 2, 3, 4, 5, 6]);
  const t = tf.tensor2d(first, [2, 3]);
  const second = stage.take(6);
  second.fill(-7);
  return { first, second, t };
}

test('on wasm one buffer is reused, zeroed on each take, and tensors made from it keep their values', () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(backendCopiesValues(), true);
  const stage = new StagingF32();
  const { first, second, t } = stageTwice(stage);
  assert.equal(first.buffer, second.buffer, 'the same ArrayBuffer both times');
  assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3, 4, 5, 6]);
  t.dispose();
  // zeroed by default; left as it was with zero = false; grows when asked for more
  assert.deepEqual(Array.from(stage.take(4)), [0, 0, 0, 0]);
  stage.take(4).fill(9);
  assert.deepEqual(Array.from(stage.take(4, false)), [9, 9, 9, 9]);
  const big = stage.take(100);
  assert.equal(big.length, 100);
  assert.ok(stage.capacity >= 100);
  assert.ok(big.every((v) => v === 0));
});

test('on cpu (which keeps the array a tensor is made from) every take is a new array', async () => {
  await tf.setBackend('cpu');
  try {
    assert.equal(backendCopiesValues(), false);
    const { first, second, t } = stageTwice(new StagingF32());
    assert.notEqual(first.buffer, second.buffer);
    assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3, 4, 5, 6]);
    t.dispose();
  } finally {
    await tf.setBackend('wasm');
  }
});

test('what the staging guards against: the cpu backend really keeps the caller array', async () => {
  // If this ever fails (cpu starts copying), backendCopiesValues could include cpu; until then reuse there would
  // change a live tensor.
  await tf.setBackend('cpu');
  try {
    const a = new Float32Array([1, 2, 3]);
    const t = tf.tensor1d(a);
    a[0] = 42;
    assert.equal(t.dataSync()[0], 42);
    t.dispose();
  } finally {
    await tf.setBackend('wasm');
  }
});
