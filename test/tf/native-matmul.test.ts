// The native matmul kernels (models/tf/native-matmul.ts + native/native_gemm.cc) against a float64 loop and the plain
// wasm kernels: known answers, random shapes (k = 0, batch broadcasting, transposes), bias + every fused activation,
// gradients of a training step, and coexistence with the lean AimKP kernels (models/lm/wasm-kernels.ts) whichever
// registers first. Skipped, with the reason, where the addon is not built (`npm run build:native`).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describeBackend } from '../../models/tf/backend';
import { nativeMatmulCalls, nativeMatmulStatus } from '../../models/tf/native-matmul';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { plainMatMul } from '../../models/lm/ops';
import { rowwiseOuter, rowwiseOuterOps, type RowwisePart } from '../../models/lm/rowwise-outer';
import { wasmKernelsReady } from '../../models/lm/wasm-kernels';
import { nativeSkipReason, onPlainWasm, runScript } from './native-fixtures';
import { maskedBatch, randomizeVariables, TEMPLATE, tinyConfig } from '../lm/fixtures';

let skip: string | null = null;

before(async () => {
  skip = await nativeSkipReason();
});

function ownCalls(): number {
  const calls = nativeMatmulCalls();
  return calls === null ? 0 : calls.own + calls.tiny + calls.blas;
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** op(A)·op(B) in float64 with numpy batch broadcasting. */
function reference(
  A: Float32Array,
  B: Float32Array,
  sa: number[],
  sb: number[],
  ta: boolean,
  tb: boolean,
): { out: Float64Array; shape: number[] } {
  const outerA = sa.slice(0, -2);
  const outerB = sb.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const pad = (s: number[]): number[] => [...Array<number>(outer.length - s.length).fill(1), ...s];
  const pa = pad(outerA);
  const pb = pad(outerB);
  const m = ta ? sa[sa.length - 1] : sa[sa.length - 2];
  const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
  const n = tb ? sb[sb.length - 2] : sb[sb.length - 1];
  const total = outer.reduce((p, x) => p * x, 1);
  const out = new Float64Array(total * m * n);
  for (let bi = 0; bi < total; bi++) {
    const idx: number[] = [];
    for (let i = outer.length - 1, r = bi; i >= 0; i--) {
      idx[i] = r % outer[i];
      r = Math.floor(r / outer[i]);
    }
    const fa = pa.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : idx[i]), 0) * m * k;
    const fb = pb.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : idx[i]), 0) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[fa + (ta ? p * m + i : i * k + p)] * B[fb + (tb ? j * k + p : p * n + j)];
        out[(bi * m + i) * n + j] = s;
      }
  }
  return { out, shape: [...outer, m, n] };
}

/** max |a − b| / max(max |b|, 1). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

test('the backend line says which matmuls run; AIMKP_NATIVE_MATMUL=off and a missing addon say plain wasm', (t) => {
  const status = nativeMatmulStatus();
  if (skip !== null || status === null) {
    t.skip(skip ?? 'no status');
    return;
  }
  const line = describeBackend({ name: 'wasm', picked: 'wasm', requested: 'wasm', tried: [], nativeMatmul: status });
  assert.match(
    line,
    /^backend: wasm \+ native matmul \((AVX-512|AVX2|scalar|BLAS [^)]+)\) \(SIMD (on|off), 1 thread\)$/,
  );
  // Fresh processes: the setting, and an addon path with nothing there.
  const probe = `import { initBackend, describeBackend } from './models/tf/backend.ts';
    console.log(describeBackend(await initBackend('wasm')));`;
  for (const [env, expected] of [
    [{ AIMKP_NATIVE_MATMUL: 'off' }, /^backend: wasm \(SIMD .* — native matmul: AIMKP_NATIVE_MATMUL=off$/],
    [{ AIMKP_NATIVE_GEMM: '/nonexistent/native_gemm.node' }, /^backend: wasm \(SIMD .* — native matmul: not built/],
    [{ AIMKP_GEMM_KERNEL: 'generic' }, /^backend: wasm \+ native matmul \(scalar\) \(SIMD/],
    [{ AIMKP_GEMM_KERNEL: 'avx2' }, /^backend: wasm \+ native matmul \((AVX2|scalar)\) \(SIMD/],
    [{ AIMKP_MATMUL_ENGINE: 'fast' }, /native matmul: AIMKP_MATMUL_ENGINE=fast: expected own, blas or auto$/],
  ] as const) {
    assert.match(runScript(probe, env).trim(), expected, JSON.stringify(env));
  }
});

test('the AVX-512 and AVX2 kernels give bit-identical products (full and partial tiles, several k blocks, transposes, 16 and 8 wide)', (t) => {
  if (skip !== null) return t.skip(skip);
  // Each kernel in a fresh process (the addon picks its kernel once, at load). Every element of C is the same chain
  // of fused multiply-adds in both, so the bytes must match; a kernel that summed in another order would not.
  const probe = `import { createHash } from 'node:crypto';
    import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend.ts';
    import { nativeMatmulStatus } from './models/tf/native-matmul.ts';
    await initBackend('wasm');
    let s = 5;
    const v = (n) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1));
    const shapes = [[12, 32, 256], [13, 33, 257], [97, 1025, 300], [200, 70, 600], [5, 700, 40], [257, 64, 1030], [36, 48, 17], [4448, 16, 256], [300, 8, 40]];
    const hashes = [];
    for (const [m, n, k] of shapes)
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = tf.tensor2d(v(m * k), ta ? [k, m] : [m, k]);
        const b = tf.tensor2d(v(k * n), tb ? [n, k] : [k, n]);
        const c = tf.matMul(a, b, ta, tb);
        hashes.push(createHash('sha256').update(c.dataSync()).digest('hex').slice(0, 16));
        tf.dispose([a, b, c]);
      }
    console.log(JSON.stringify({ kernel: nativeMatmulStatus()?.kernel, hashes }));`;
  const wide = JSON.parse(runScript(probe, { AIMKP_GEMM_KERNEL: 'avx512' }).trim()) as {
    kernel: string;
    hashes: string[];
  };
  if (!wide.kernel.startsWith('avx512')) return t.skip(`this CPU has no AVX-512F (the kernel is ${wide.kernel})`);
  const narrow = JSON.parse(runScript(probe, { AIMKP_GEMM_KERNEL: 'avx2' }).trim()) as {
    kernel: string;
    hashes: string[];
  };
  assert.match(narrow.kernel, /^avx2/);
  assert.equal(wide.hashes.length, 36);
  assert.deepEqual(wide.hashes, narrow.hashes);
});

test('known answers: 2×3·3×2, its transposes and a batch of two', (t) => {
  if (skip !== null) return t.skip(skip);
  const before = ownCalls();
  tf.tidy(() => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
    assert.deepEqual(Array.from(tf.matMul(a, b).dataSync()), [58, 64, 139, 154]);
    assert.deepEqual(Array.from(tf.matMul(a.transpose(), b.transpose(), true, true).dataSync()), [58, 64, 139, 154]);
    assert.deepEqual(Array.from(tf.matMul(b, a, true, true).dataSync()), [58, 139, 64, 154]);
    const batch = tf.matMul(tf.stack([a, a.mul(2)]), b);
    assert.deepEqual(batch.shape, [2, 2, 2]);
    assert.deepEqual(Array.from(batch.dataSync()), [58, 64, 139, 154, 116, 128, 278, 308]);
  });
  assert.ok(ownCalls() >= before + 4, 'the products went through the addon');
});

test('400 random products (ranks 2–4, broadcasting, transposes, k = 0, large) equal float64, and wasm where it is right', (t) => {
  if (skip !== null) return t.skip(skip);
  let seed = 17;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  let comparedWithWasm = 0;
  for (let c = 0; c < 400; c++) {
    const big = c % 25 === 0;
    const dim = (): number => (big ? 40 + rnd(90) : rnd(9) === 0 ? 0 : 1 + rnd(12));
    const m = dim() || 1;
    const n = dim() || 1;
    const k = c % 40 === 7 ? 0 : dim();
    const ta = rnd(2) === 1;
    const tb = rnd(2) === 1;
    const rankA = 2 + rnd(3);
    const rankB = 2 + rnd(3);
    const outer = Array.from({ length: Math.max(rankA, rankB) - 2 }, () => 1 + rnd(3));
    // Each operand's batch dims: a suffix of outer, any of them possibly 1 (broadcast).
    const outerOf = (rank: number): number[] =>
      outer.slice(outer.length - (rank - 2)).map((d) => (rnd(3) === 0 ? 1 : d));
    const oa = outerOf(rankA);
    const ob = outerOf(rankB);
    const sa = [...oa, ...(ta ? [k, m] : [m, k])];
    const sb = [...ob, ...(tb ? [n, k] : [k, n])];
    const A = values(
      sa.reduce((p, x) => p * x, 1),
      2 * c + 1,
    );
    const B = values(
      sb.reduce((p, x) => p * x, 1),
      2 * c + 2,
    );
    const ref = reference(A, B, sa, sb, ta, tb);
    const product = (): { data: Float32Array; shape: number[] } =>
      tf.tidy(() => {
        const r = tf.matMul(tf.tensor(A, sa), tf.tensor(B, sb), ta, tb);
        return { data: r.dataSync() as Float32Array, shape: r.shape };
      });
    const got = product();
    const what = `case ${c}: ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} · ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`;
    assert.deepEqual(got.shape, ref.shape, what);
    assert.ok(relDiff(got.data, ref.out) < 1e-5, `${what}: ${relDiff(got.data, ref.out)}`);
    // Plain wasm returns garbage for k = 0 and for mixed broadcasting ([2,1]·[1,3]); elsewhere both must agree.
    const pad = (s: number[]): number[] => [...Array<number>(outer.length - s.length).fill(1), ...s];
    const whole = (o: number[]): boolean =>
      o.reduce((p, x) => p * x, 1) === 1 || pad(o).every((d, i) => d === outer[i]);
    const mixed = !whole(oa) || !whole(ob);
    if (k > 0 && !mixed) {
      const plain = onPlainWasm(product);
      assert.ok(relDiff(got.data, plain.data) < 1e-5, `${what} vs plain wasm: ${relDiff(got.data, plain.data)}`);
      comparedWithWasm++;
    }
  }
  assert.ok(comparedWithWasm > 250, `${comparedWithWasm} compared with wasm`);
});

test('fused matmul: bias + every activation, batch 1 and 2, transposes, against composed plain-wasm ops', (t) => {
  if (skip !== null) return t.skip(skip);
  const activations = ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu'] as const;
  for (const batch of [1, 2])
    for (const activation of activations)
      for (const [ta, tb] of [
        [false, false],
        [true, true],
      ]) {
        const [m, k, n] = [9, 33, 17];
        const sa = ta ? [batch, k, m] : [batch, m, k];
        const sb = tb ? [n, k] : [k, n];
        const inputs = (): { a: tf.Tensor3D; b: tf.Tensor2D; bias: tf.Tensor1D; alpha: tf.Tensor1D } => ({
          a: tf.tensor3d(values(batch * m * k, 3), sa as [number, number, number]),
          b: tf.tensor2d(values(k * n, 4), sb as [number, number]).mul(3) as tf.Tensor2D,
          bias: tf.tensor1d(values(n, 5)),
          alpha: tf.tensor1d(values(n, 6).map((v) => Math.abs(v))),
        });
        const fused = tf.tidy(() => {
          const { a, b, bias, alpha } = inputs();
          return tf.fused
            .matMul({
              a,
              b,
              transposeA: ta,
              transposeB: tb,
              bias,
              activation,
              preluActivationWeights: alpha,
              leakyreluAlpha: 0.3,
            })
            .dataSync();
        });
        const composed = onPlainWasm(() =>
          tf.tidy(() => {
            const { a, b, bias, alpha } = inputs();
            const y = tf.matMul(ta ? a.transpose([0, 2, 1]) : a, tb ? b.transpose() : b).add(bias);
            const act: Record<(typeof activations)[number], () => tf.Tensor> = {
              linear: () => y,
              relu: () => tf.relu(y),
              relu6: () => tf.relu6(y),
              leakyrelu: () => tf.leakyRelu(y, 0.3),
              sigmoid: () => tf.sigmoid(y),
              elu: () => tf.elu(y),
              prelu: () => tf.prelu(y, alpha),
            };
            return act[activation]().dataSync();
          }),
        );
        assert.ok(relDiff(fused, composed) < 1e-5, `${activation} batch ${batch} ${ta}/${tb}`);
      }
});

test('gradients of a training step (weighted and per-row AimKP gradients) equal the plain wasm ones', (t) => {
  if (skip !== null) return t.skip(skip);
  // Large enough that products take the packed kernel, not only the direct loop for tiny ones.
  const config = tinyConfig({ dModel: 32, nHeads: 2, dFF: 64, adapterHidden: 24, vocabSize: 40, lora: null });
  const model = createKeyphraseLM(config, TEMPLATE, 51);
  randomizeVariables(model.namedVariables().values(), 52, 0.3);
  const { examples, variants, weights: w } = maskedBatch(config);
  const step = (): { losses: Float32Array; grads: Float32Array[]; gram: Float32Array; combined: Float32Array[] } => {
    const ref = model.weightedGradientsWith(examples, variants, w, false, { compact: true });
    const perRow = model.perRowGradients(examples, variants, false);
    const combined = perRow.combine(w);
    const out = {
      losses: Float32Array.from(ref.result.losses),
      grads: ref.grads.map((g) => g.dataSync() as Float32Array),
      gram: Float32Array.from(perRow.gram),
      combined: combined.map((g) => g.dataSync() as Float32Array),
    };
    [...ref.grads, ...combined].forEach((g) => g.dispose());
    perRow.dispose();
    return out;
  };
  const before = ownCalls();
  const native = step();
  assert.ok(ownCalls() > before + 50, 'the step ran its products in the addon');
  const plain = onPlainWasm(step);
  assert.ok(relDiff(native.losses, plain.losses) < 1e-5, 'losses');
  native.grads.forEach((g, i) =>
    assert.ok(relDiff(g, plain.grads[i]) < 1e-4, `gradient ${i}: ${relDiff(g, plain.grads[i])}`),
  );
  assert.ok(relDiff(native.gram, plain.gram) < 1e-4, `Gram: ${relDiff(native.gram, plain.gram)}`);
  native.combined.forEach((g, i) => assert.ok(relDiff(g, plain.combined[i]) < 1e-4, `combined ${i}`));
  model.dispose();
});

test('the lean AimKP kernels and the native matmuls coexist, whichever registered first', (t) => {
  if (skip !== null) return t.skip(skip);
  const parts = (): RowwisePart[] => {
    const part = (n: number, tt: number, seed: number, outRows: number[]): RowwisePart => ({
      x: tf.tensor3d(values(n * tt * 24, seed), [n, tt, 24]),
      dy: tf.tensor3d(values(n * tt * 16, seed + 1), [n, tt, 16]),
      outRows,
    });
    return [part(3, 20, 3, [4, 0, 2]), part(2, 0, 5, [1, 3])];
  };
  const pa = [0, 0, 1, 4, 2];
  const pb = [0, 3, 2, 4, 4];
  const check = (label: string, expectNative: boolean): void => {
    const before = ownCalls();
    tf.tidy(() => {
      const p = parts();
      const k = rowwiseOuter(p, 5, pa, pb);
      const r = rowwiseOuterOps(p, 5, pa, pb);
      assert.ok(relDiff(k.perRow.dataSync(), r.perRow.dataSync()) < 1e-6, `${label}: per-row products`);
      assert.ok(relDiff(k.dots.dataSync(), r.dots.dataSync()) < 1e-5, `${label}: pair dots`);
      const a = tf.tensor4d(values(2 * 3 * 30 * 20, 7), [2, 3, 30, 20]);
      const b = tf.tensor4d(values(2 * 3 * 20 * 25, 8), [2, 3, 20, 25]);
      const ref = reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, a.shape, b.shape, false, false);
      assert.ok(relDiff(plainMatMul(a, b).dataSync(), ref.out) < 1e-5, `${label}: batched matmul`);
    });
    const used = ownCalls() - before;
    if (expectNative) assert.ok(used > 0, `${label}: the lean kernels used the addon`);
    else assert.equal(used, 0, `${label}: the lean kernels used wasm only`);
  };
  // Native first (registered at backend start), the lean kernels register at their first use here.
  assert.equal(wasmKernelsReady(), true);
  check('native registered first', true);
  // The native kernels go away and come back after the lean ones: neither loses the other.
  onPlainWasm(() => check('native unregistered', false));
  check('native registered again after the lean kernels', true);
  // A process in which the lean kernels register before the native ones ever did.
  const leanFirst = `import * as tf from '@tensorflow/tfjs';
    import '@tensorflow/tfjs-backend-wasm';
    import { wasmKernelsReady } from './models/lm/wasm-kernels.ts';
    import { rowwiseOuter, rowwiseOuterOps } from './models/lm/rowwise-outer.ts';
    import { nativeMatmulCalls, registerNativeMatmul } from './models/tf/native-matmul.ts';
    await tf.setBackend('wasm');
    if (!wasmKernelsReady()) throw new Error('lean kernels not ready');
    if (!registerNativeMatmul().enabled) throw new Error('native not registered');
    const parts = [{ x: tf.randomNormal([3, 20, 24], 0, 1, 'float32', 1), dy: tf.randomNormal([3, 20, 16], 0, 1, 'float32', 2), outRows: [2, 0, 1] }];
    const k = rowwiseOuter(parts, 3, [0, 1], [2, 2]);
    const r = rowwiseOuterOps(parts, 3, [0, 1], [2, 2]);
    const d = Math.max(...k.perRow.sub(r.perRow).abs().dataSync());
    console.log(JSON.stringify({ d, calls: nativeMatmulCalls() }));`;
  const out = JSON.parse(runScript(leanFirst).trim()) as { d: number; calls: { own: number } };
  assert.ok(out.d < 1e-4, `lean first: per-row products differ by ${out.d}`);
  assert.ok(out.calls.own >= 3, 'lean first: the per-row kernel used the addon');
});

test('worker threads (each its own tfjs + wasm heap) multiply concurrently through the one loaded addon', async (t) => {
  if (skip !== null) return t.skip(skip);
  // What data-parallel training does: every worker_thread starts its own wasm backend and uses the addon at once.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      // Node 20 applies no --import loader inside a worker: register tsx here (as electron/supervisor/worker-dev.mjs).
      (await import('tsx/esm/api')).register();
      const tf = await import('@tensorflow/tfjs');
      const { initBackend } = await import(workerData.backend);
      const info = await initBackend('wasm');
      let worst = 0;
      for (let c = 0; c < 30; c++) {
        const [b, m, k, n] = [1 + (c % 3), 20 + c, 50 + 2 * c, 30 + c];
        const A = Float32Array.from({ length: b * m * k }, (_, i) => Math.sin(i * 0.37 + c + workerData.id));
        const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11 - c));
        const got = tf.tidy(() => tf.matMul(tf.tensor3d(A, [b, m, k]), tf.tensor2d(B, [k, n])).dataSync());
        for (let p = 0; p < b; p++)
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let q = 0; q < k; q++) s += A[(p * m + i) * k + q] * B[q * n + j];
              worst = Math.max(worst, Math.abs(s - got[(p * m + i) * n + j]));
            }
      }
      parentPort.postMessage({ enabled: info.nativeMatmul?.enabled === true, worst });
    })().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));`;
  const backend = new URL('../../models/tf/backend.ts', import.meta.url).href;
  const results = await Promise.all(
    [1, 2].map(
      (id) =>
        new Promise<{ enabled?: boolean; worst?: number; error?: string }>((resolve, reject) => {
          const worker = new Worker(code, { eval: true, workerData: { id, backend } });
          worker.once('message', (m: { enabled?: boolean; worst?: number; error?: string }) => {
            resolve(m);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  for (const r of results) {
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.enabled, true, 'the worker started the native matmuls');
    assert.ok((r.worst ?? 1) < 1e-3, `largest difference ${r.worst}`);
  }
});
