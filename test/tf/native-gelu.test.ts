// The native GELU kernels (native/native_gemm.cc gelu / geluGrad, models/lm/forward.ts gelu) against a float64
// reference and tf's ops they replace: values and gradients over the range a network sees and far beyond it (where
// tanh saturates), lengths that are not a multiple of the 8 SIMD lanes, the inference path, the scalar (non-AVX2)
// kernel. Skipped, with the reason, where the addon is not built.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../../models/tf/native-matmul';
import { nativeSkipReason, onPlainWasm, runScriptJson } from './native-fixtures';
import { gelu } from '../../models/lm/forward';
import { profileKernels } from '../../models/bench/kernel-profile';

let skip: string | null = null;

before(async () => {
  skip = await nativeSkipReason({ vector: true });
});

const C = Math.sqrt(2 / Math.PI);
const refValue = (x: number): number => 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x ** 3)));
const refGrad = (x: number): number => {
  const th = Math.tanh(C * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * C * (1 + 3 * 0.044715 * x * x);
};

/** Values spread over [-span, span], with exact zeros and tiny values among them. */
function inputs(n: number, span: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) =>
    i % 17 === 0 ? 0 : i % 13 === 0 ? 1e-6 * i : Math.sin(i * 0.37) * span,
  );
}

function run(x: Float32Array, dyScale: number): { y: Float32Array; dx: Float32Array; yInference: Float32Array } {
  return tf.tidy(() => {
    const t = tf.tensor2d(x, [x.length / 3, 3].map(Math.round) as [number, number]);
    const dy = tf.fill(t.shape, dyScale);
    const y = gelu(t).dataSync().slice() as Float32Array;
    const dx = tf
      .grad((v: tf.Tensor) => gelu(v).mul(dy).sum())(t)
      .dataSync()
      .slice() as Float32Array;
    const yInference = gelu(t, true).dataSync().slice() as Float32Array;
    return { y, dx, yInference };
  });
}

for (const span of [4, 30]) {
  test(`gelu: x in ±${span}: the native kernels equal a float64 reference and tf's ops`, (t) => {
    if (skip) return t.skip(skip);
    const x = inputs(3 * 1001, span); // 3003 values: not a multiple of 8
    const { result: native, profile } = profileKernels(() => run(x, 0.7));
    assert.equal(profile.byKernel.get(GELU_KERNEL)?.count, 3, 'forward (training, gradient pass, inference)');
    assert.equal(profile.byKernel.get(GELU_GRAD_KERNEL)?.count, 1);
    assert.equal(profile.byKernel.has('Tanh'), false);
    const ops = onPlainWasm(() => run(x, 0.7));
    let worstY = 0;
    let worstDx = 0;
    let worstOps = 0;
    for (let i = 0; i < x.length; i++) {
      const scale = Math.max(1, Math.abs(x[i]));
      worstY = Math.max(worstY, Math.abs(native.y[i] - refValue(x[i])) / scale);
      worstDx = Math.max(worstDx, Math.abs(native.dx[i] - 0.7 * refGrad(x[i])));
      worstOps = Math.max(worstOps, Math.abs(native.y[i] - ops.y[i]) / scale, Math.abs(native.dx[i] - ops.dx[i]));
      assert.equal(native.yInference[i], native.y[i]);
    }
    assert.ok(worstY < 5e-7, `value vs float64: ${worstY}`);
    assert.ok(worstDx < 2e-6, `gradient vs float64: ${worstDx}`);
    assert.ok(worstOps < 2e-6, `vs tf ops: ${worstOps}`);
  });
}

test('gelu: the scalar kernel (no AVX2) matches the float64 reference too', (t) => {
  if (skip) return t.skip(skip);
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend';
    import { gelu } from './models/lm/forward';
    import { nativeVectorReady } from './models/tf/native-matmul';
    const info = await initBackend('wasm');
    const x = Float32Array.from({ length: 203 }, (_, i) => Math.sin(i * 1.3) * 6);
    const t = tf.tensor1d(x);
    const y = gelu(t).dataSync();
    const dx = tf.grad((v) => gelu(v).sum())(t).dataSync();
    const C = Math.sqrt(2 / Math.PI);
    let worst = 0, worstGrad = 0;
    x.forEach((v, i) => {
      const th = Math.tanh(C * (v + 0.044715 * v ** 3));
      worst = Math.max(worst, Math.abs(y[i] - 0.5 * v * (1 + th)));
      worstGrad = Math.max(worstGrad, Math.abs(dx[i] - (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * C * (1 + 3 * 0.044715 * v * v))));
    });
    console.log(JSON.stringify({ kernel: info.nativeMatmul?.kernel, native: nativeVectorReady(), worst, worstGrad }));
  `;
  const out = runScriptJson<Record<string, unknown>>(script, { AIMKP_GEMM_KERNEL: 'generic' });
  assert.equal(out.kernel, 'generic-6x16');
  assert.equal(out.native, true);
  assert.ok((out.worst as number) < 3e-6, `value: ${String(out.worst)}`);
  assert.ok((out.worstGrad as number) < 2e-6, `gradient: ${String(out.worstGrad)}`);
});
