// The native dropout kernels (native/native_gemm.cc dropout / dropoutGrad, models/lm/ops.ts dropout): the same Alea
// stream as tf.randomUniform and the same float operations as tf's Multiply and RealDiv, so the output and its
// gradient equal tf's composition bit for bit (signed zeros included), on the vector and the scalar loop; and the
// training forward uses them. Skipped, with the reason, where the addon is not built.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DROPOUT_GRAD_KERNEL, DROPOUT_KERNEL } from '../../models/tf/native-matmul';
import { nativeSkipReason, runScriptJson } from './native-fixtures';
import { aleaNext, aleaState } from '../../models/random/alea';
import { dropout } from '../../models/lm/ops';
import { profileKernels } from '../../models/bench/kernel-profile';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { makeExample, randomizeVariables, TEMPLATE, tinyConfig, variant } from '../lm/fixtures';

let skip: string | null = null;

before(async () => {
  skip = await nativeSkipReason({ vector: true });
});

// Seeds as the forward pass makes them (a per-call seed + k·7717), 0, and beyond 32 bits.
const SEEDS = [0, 1, 7717, 123456789, 2 ** 31 + 12345, 4294967295 + 3 * 7717, 9007199254740991];

test("alea: the written-out seeding and generator give tf.randomUniform's values", () => {
  for (const seed of SEEDS) {
    const st = aleaState(seed);
    const ours = Float32Array.from({ length: 2000 }, () => aleaNext(st));
    const tfs = tf.tidy(() => tf.randomUniform([2000], 0, 1, 'float32', seed).dataSync());
    assert.deepEqual(Array.from(ours), Array.from(tfs), `seed ${seed}`);
  }
});

/** Values with negatives, zeros of both signs and large magnitudes (so −0 outputs and rounding both show). */
function inputs(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = i % 11 === 0 ? (i % 22 === 0 ? 0 : -0) : (s / 2 ** 31 - 1) * (i % 7 === 0 ? 1e4 : 3);
  }
  return out;
}

/** The bits of a float32 array (so 0 and −0 differ). */
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer.slice(0)));

/** y and dx (for an upstream gradient dy) with the given dropout. */
function run(shape: number[], seed: number, rate: number, f: typeof dropout): { y: number[]; dx: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const x = tf.tensor(inputs(n, seed + 1), shape);
    const dy = tf.tensor(inputs(n, seed + 2), shape);
    const y = f(x, seed, rate).dataSync() as Float32Array;
    const dx = tf
      .grad((v: tf.Tensor) => f(v, seed, rate))(x, dy)
      .dataSync() as Float32Array;
    return { y: bits(y), dx: bits(dx) };
  });
}

/** tf's composition, as forward.ts ran it before the kernels. */
const tfDropout: typeof dropout = (x, seed, rate) =>
  x.mul(tf.randomUniform(x.shape, 0, 1, 'float32', seed).greaterEqual(rate).cast('float32')).div(1 - rate);

test("dropout: the native kernels give tf's output and gradient bit for bit", (t) => {
  if (skip) return t.skip(skip);
  for (const seed of SEEDS)
    for (const rate of [0.05, 0.1, 0.5, 0.9])
      for (const shape of [[3, 77, 5], [1001], [2, 0, 4]]) {
        const { result: native, profile } = profileKernels(() => run(shape, seed, rate, dropout));
        const expected = run(shape, seed, rate, tfDropout);
        assert.deepEqual(native.y, expected.y, `y: seed ${seed}, rate ${rate}, shape ${shape.join('×')}`);
        assert.deepEqual(native.dx, expected.dx, `dx: seed ${seed}, rate ${rate}, shape ${shape.join('×')}`);
        assert.equal(profile.byKernel.get(DROPOUT_KERNEL)?.count, 2, 'forward (value and gradient passes)');
        assert.equal(profile.byKernel.get(DROPOUT_GRAD_KERNEL)?.count, 1);
        assert.equal(profile.byKernel.has('GreaterEqual'), false);
      }
  // A check that can fail on its own: about 1 − rate of the values are kept.
  const kept = tf.tidy(
    () =>
      dropout(tf.ones([100000]), 42, 0.05)
        .notEqual(0)
        .mean()
        .dataSync()[0],
  );
  assert.ok(Math.abs(kept - 0.95) < 0.005, `kept ${kept}`);
});

test("dropout: the scalar loop (no AVX2) gives tf's output and gradient too", (t) => {
  if (skip) return t.skip(skip);
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend';
    import { dropout } from './models/lm/ops';
    import { nativeVectorReady } from './models/tf/native-matmul';
    const info = await initBackend('wasm');
    const bits = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    const composed = (x, seed, rate) =>
      x.mul(tf.randomUniform(x.shape, 0, 1, 'float32', seed).greaterEqual(rate).cast('float32')).div(1 - rate);
    let same = true;
    for (const seed of [0, 7717, 2 ** 31 + 12345])
      for (const rate of [0.05, 0.5]) {
        const x = tf.tensor2d(Float32Array.from({ length: 5 * 333 }, (_, i) => Math.sin(i) * 5), [5, 333]);
        const dy = tf.tensor2d(Float32Array.from({ length: 5 * 333 }, (_, i) => Math.cos(i)), [5, 333]);
        for (const [a, b] of [
          [dropout(x, seed, rate), composed(x, seed, rate)],
          [tf.grad((v) => dropout(v, seed, rate))(x, dy), tf.grad((v) => composed(v, seed, rate))(x, dy)],
        ])
          same = same && JSON.stringify(bits(a.dataSync())) === JSON.stringify(bits(b.dataSync()));
      }
    console.log(JSON.stringify({ kernel: info.nativeMatmul?.kernel, native: nativeVectorReady(), same }));
  `;
  const out = runScriptJson<Record<string, unknown>>(script, { AIMKP_GEMM_KERNEL: 'generic' });
  assert.deepEqual(out, { kernel: 'generic-6x16', native: true, same: true });
});

test("dropout: a LoRA model's training forward runs the native kernels", (t) => {
  if (skip) return t.skip(skip);
  const config = tinyConfig({ vocabSize: 64, lora: { rank: 2, alpha: 4, dropout: 0.1 } });
  const model = createKeyphraseLM(config, TEMPLATE, 3);
  randomizeVariables(model.namedVariables().values(), 5, 0.3);
  const examples = [makeExample(0, config, 4, [11, 40]), makeExample(1, config, 2, [12])];
  const { profile } = profileKernels(() => {
    const out = model.weightedGradients(
      examples,
      examples.map(() => variant()),
      [0.5, 0.5],
      true,
    );
    tf.dispose(out.grads);
  });
  assert.ok((profile.byKernel.get(DROPOUT_KERNEL)?.count ?? 0) > 0, 'no native dropout');
  assert.ok((profile.byKernel.get(DROPOUT_GRAD_KERNEL)?.count ?? 0) > 0, 'no native dropout gradient');
  assert.equal(profile.byKernel.has('GreaterEqual'), false);
});
