// The same exactness checks on the backend the CLI picks (wasm here): custom gradients, compaction, per-row path.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { plainMatMul } from '../../models/lm/ops';
import { rowwiseOuter, rowwiseOuterOps, type RowwisePart } from '../../models/lm/rowwise-outer';
import { wasmKernelsReady } from '../../models/lm/wasm-kernels';
import { heapSimd, heapSimdModule } from '../../models/lm/wasm-simd';
import {
  assertKvCacheMatchesRecompute,
  makeExample,
  maskedVariants,
  maxRelErr,
  randomizeVariables,
  TEMPLATE,
  tinyConfig,
  variant,
} from './fixtures';

before(async () => {
  await initBackend();
});

test('on the default backend: compact == reference, fast per-row == brute force, weighted == combine', () => {
  const config = tinyConfig({ lora: null });
  const model = createKeyphraseLM(config, TEMPLATE, 41);
  randomizeVariables(model.namedVariables().values(), 42, 0.4);
  const a = makeExample(0, config, 6, [7, 8]);
  const b = makeExample(1, config, 3, [9], false);
  const examples = [a, a, a, b];
  const variants = [
    variant(),
    variant({ textStride: 2, imageStride: 2 }),
    variant({ kind: 'pool', textStride: 2, imageStride: 2 }),
    variant({ textStride: 4 }),
  ];
  const w = [1, 0.5, 2, -1];
  const ref = model.weightedGradientsWith(examples, variants, w, false, { compact: false });
  const fast = model.perRowGradients(examples, variants, false);
  const brute = model.perRowGradientsBruteForce(examples, variants, false);
  assert.ok(maxRelErr(fast.losses, ref.result.losses) < 1e-5, `losses on ${tf.getBackend()}`);
  assert.ok(maxRelErr(fast.gram, brute.gram) < 1e-4, `gram on ${tf.getBackend()}: ${maxRelErr(fast.gram, brute.gram)}`);
  const scale = Math.max(...ref.grads.map((g) => Math.max(...Array.from(g.dataSync(), Math.abs))));
  const combined = fast.combine(w);
  combined.forEach((g, i) => {
    const r = ref.grads[i].dataSync();
    const c = g.dataSync();
    let diff = 0;
    for (let k = 0; k < r.length; k++) diff = Math.max(diff, Math.abs(r[k] - c[k]));
    assert.ok(diff < 1e-4 * scale, `variable ${i} on ${tf.getBackend()}`);
  });
  [...ref.grads, ...combined].forEach((g) => g.dispose());
  fast.dispose();
  brute.dispose();
  model.dispose();
});

test('wasm kernels of our own equal plain tf ops: batched matmul and per-row outer products with pair dots', () => {
  if (!wasmKernelsReady()) {
    // Only the wasm backend has them; elsewhere the plain ops are what runs.
    assert.notEqual(tf.getBackend(), 'wasm', 'wasm backend without the project kernels');
    return;
  }
  const rel = (a: tf.Tensor, b: tf.Tensor): number => maxRelErr(a.dataSync(), b.dataSync());
  tf.tidy(() => {
    const a = tf.randomNormal([3, 4, 7, 5], 0, 1, 'float32', 1);
    const b = tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 2);
    assert.ok(rel(plainMatMul(a, b), tf.matMul(a, b)) < 1e-6, 'batched matmul');
    // Two parts of different lengths (as two length passes), output rows interleaved.
    const part = (n: number, t: number, seed: number, outRows: number[]): RowwisePart => ({
      x: tf.randomNormal([n, t, 6], 0, 1, 'float32', seed) as tf.Tensor3D,
      dy: tf.randomNormal([n, t, 4], 0, 1, 'float32', seed + 1) as tf.Tensor3D,
      outRows,
    });
    const parts = [part(3, 5, 3, [4, 0, 2]), part(2, 2, 5, [1, 3])];
    const pa = [0, 0, 1, 4, 2];
    const pb = [0, 3, 2, 4, 4];
    const k = rowwiseOuter(parts, 5, pa, pb);
    const r = rowwiseOuterOps(parts, 5, pa, pb);
    assert.ok(rel(k.perRow, r.perRow) < 1e-6, 'per-row products');
    assert.ok(rel(k.dots, r.dots) < 1e-5, 'pair dots');
  });
});

for (const lora of [null, { rank: 2, alpha: 4, dropout: 0 }]) {
  test(`on the default backend, an AimKP-shaped call with pairs: Gram entries and combine equal brute force (LoRA ${lora ? 'on' : 'off'})`, () => {
    const config = tinyConfig({ lora });
    const model = createKeyphraseLM(config, TEMPLATE, 43);
    randomizeVariables(model.namedVariables().values(), 44, 0.4);
    const a = makeExample(0, config, 6, [7, 8]);
    const b = makeExample(1, config, 3, [9]);
    const c = makeExample(2, config, 5, [10, 11], false);
    const examples = [a, a, a, b, b, b, c, c];
    const variants = [...maskedVariants(), variant(), variant({ textStride: 2 })];
    const pairs: [number, number][] = [
      [0, 1],
      [0, 2],
      [3, 4],
      [3, 5],
      [6, 7],
    ];
    const fast = model.perRowGradientsWith(examples, variants, false, pairs, { passOverheadFlops: 0 });
    const brute = model.perRowGradientsBruteForce(examples, variants, false);
    const R = examples.length;
    for (const [r, s] of [...pairs, ...examples.map((_, i) => [i, i] as [number, number])]) {
      const scale = Math.sqrt(brute.gram[r * R + r] * brute.gram[s * R + s]);
      assert.ok(
        Math.abs(fast.gram[r * R + s] - brute.gram[r * R + s]) <= 1e-4 * scale,
        `(${r},${s}) on ${tf.getBackend()}: ${fast.gram[r * R + s]} vs ${brute.gram[r * R + s]}`,
      );
    }
    const w = [1, 0.5, 0.25, -1, 2, 0.5, 1, 3];
    const cf = fast.combine(w);
    const cb = brute.combine(w);
    cf.forEach((g, i) => assert.ok(maxRelErr(g.dataSync(), cb[i].dataSync()) < 1e-4, `variable ${i}`));
    [...cf, ...cb].forEach((g) => g.dispose());
    fast.dispose();
    brute.dispose();
    model.dispose();
  });
}

test('the SIMD helpers over the wasm heap: dot and y += w·x equal JS loops, tails included', () => {
  const backend = tf.backend() as unknown as {
    wasm?: { asm?: { memory?: WebAssembly.Memory } };
    getMemoryOffset?(dataId: object): number;
  };
  assert.ok(WebAssembly.validate(heapSimdModule()), 'the assembled module validates');
  const simd = heapSimd(backend.wasm?.asm?.memory);
  if (tf.getBackend() !== 'wasm' || backend.getMemoryOffset === undefined) {
    assert.equal(simd, null);
    return;
  }
  assert.ok(simd !== null, 'helpers build on the wasm heap');
  for (const n of [1, 4, 7, 1003]) {
    const xv = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * 3);
    const yv = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.3) - 0.5);
    const x = tf.tensor1d(xv);
    const y = tf.tensor1d(yv);
    let ref = 0;
    for (let i = 0; i < n; i++) ref += xv[i] * yv[i];
    const got = simd.dot(backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(y.dataId), n);
    assert.ok(Math.abs(got - ref) <= 1e-6 * Math.max(1, Math.abs(ref)) * n, `dot n=${n}: ${got} vs ${ref}`);
    simd.axpy(backend.getMemoryOffset(y.dataId), backend.getMemoryOffset(x.dataId), -0.25, n);
    const out = y.dataSync();
    for (let i = 0; i < n; i++) assert.ok(Math.abs(out[i] - (yv[i] - 0.25 * xv[i])) < 1e-6, `axpy n=${n} at ${i}`);
    x.dispose();
    y.dispose();
  }
});

test('on the default backend: KV-cached decoding equals a full recompute (the cache reordered by row copies)', () => {
  assertKvCacheMatchesRecompute();
});
