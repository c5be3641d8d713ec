// Matrix products that avoid transposed-operand matmuls: on the wasm backend (tfjs 4.22) a BatchMatMul with
// transposeA/transposeB is 5–20× slower than an explicit transpose followed by a plain matmul, and tf.matMul's
// own gradient uses exactly those flags. `matmul` here is differentiable with plain-matmul gradients.
import * as tf from '@tensorflow/tfjs';
import {
  DROPOUT_GRAD_KERNEL,
  DROPOUT_KERNEL,
  nativeMatmulStatus,
  nativeVectorReady,
  XENT_GRAD_KERNEL,
  XENT_KERNEL,
  type DropoutAttrs,
} from '../tf/native-matmul';
import { aleaState } from '../random/alea';
import {
  ADAMW_KERNEL,
  BATCH_MATMUL_KERNEL,
  GATHER_ROWS_KERNEL,
  WEIGHTED_ROW_SUM_KERNEL,
  wasmAdamWReady,
  wasmKernelsReady,
} from './wasm-kernels';

export { wasmAdamWReady };

/**
 * One AdamW update of a parameter in one wasm kernel: [p', m', v'] from p, its gradient g and moments m, v, with the
 * scalars c, b1, c1, b2, c2, decay, sqrtBc2, eps, step (models/train/adamw.ts). Only while `wasmAdamWReady()`.
 */
export function fusedAdamW(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: Float32Array): tf.Tensor[] {
  if (s.length !== 9) throw new RangeError(`fusedAdamW: 9 scalars expected, got ${s.length}`);
  return tf.engine().runKernel(
    ADAMW_KERNEL,
    { p, g, m, v } as unknown as tf.NamedTensorMap,
    {
      s,
    } as unknown as tf.NamedAttrMap,
  ) as unknown as tf.Tensor[];
}

/** Rows idx[i] of x (N × d), zeros where idx[i] < 0. No gradient. */
export function gatherRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  if (wasmKernelsReady()) {
    return tf.engine().runKernel(
      GATHER_ROWS_KERNEL,
      { x } as unknown as tf.NamedTensorMap,
      {
        idx,
      } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const [N, d] = x.shape;
    const safe = Int32Array.from(idx, (j) => (j < 0 ? N : j));
    return tf.gather(tf.concat([x, tf.zeros([1, d])], 0), tf.tensor1d(safe, 'int32')) as tf.Tensor2D;
  });
}

/** Σ_r w[r]·P[r] as a 1 × L tensor. No gradient. */
export function weightedRowSum(P: tf.Tensor2D, w: Float32Array): tf.Tensor2D {
  if (w.length !== P.shape[0]) throw new RangeError(`weightedRowSum: ${w.length} weights for ${P.shape[0]} rows`);
  if (wasmKernelsReady()) {
    return tf.engine().runKernel(
      WEIGHTED_ROW_SUM_KERNEL,
      { P } as unknown as tf.NamedTensorMap,
      {
        w,
      } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.matMul(tf.tensor2d(w, [1, w.length]), P));
}

/** Below this many multiply-adds per batch element, wasm's scalar batched loop beats an XNNPACK set-up each. */
const MIN_XNN_PRODUCT = 8192;

/**
 * a·b without transposes. Batched operands with equal batch dimensions go through this project's wasm kernel (one
 * XNNPACK product per batch element, wasm-kernels.ts) where wasm's own batched matmul is a scalar loop, unless the
 * products are tiny (decoding: one query row); 2D products and other backends use tf.matMul.
 */
export function plainMatMul<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
  const rank = a.rank;
  if (
    rank > 2 &&
    b.rank === rank &&
    a.shape.slice(0, rank - 2).every((d, i) => d === b.shape[i]) &&
    a.shape.slice(0, rank - 2).reduce((s, d) => s * d, 1) > 1 &&
    a.shape[rank - 1] === b.shape[rank - 2] &&
    a.shape[rank - 2] * a.shape[rank - 1] * b.shape[rank - 1] >= MIN_XNN_PRODUCT &&
    wasmKernelsReady()
  ) {
    return tf.engine().runKernel(BATCH_MATMUL_KERNEL, { a, b } as unknown as tf.NamedTensorMap, {}) as T;
  }
  return tf.matMul(a, b) as T;
}

/** Whether transpose flags are free: the native matmuls (models/tf/native-matmul.ts) read either layout in place. */
function transposeFlagsFree(): boolean {
  return nativeMatmulStatus()?.enabled === true && tf.getBackend() === 'wasm';
}

/**
 * op(a)·op(b): with the native matmuls one kernel with transpose flags, otherwise explicit transposes and a plain
 * product (wasm's own transposed matmul is a scalar loop).
 */
export function matmulT<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): T {
  if (transposeFlagsFree()) return tf.matMul(a, b, ta, tb) as T;
  return plainMatMul<T>(ta ? swapLast(a) : a, tb ? swapLast(b) : b);
}

/** Swaps the last two axes (a copy; cheap next to the product). */
export function swapLast<T extends tf.Tensor>(t: T): T {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm) as T;
}

/**
 * a·b for equal-rank operands (2D, or batched with identical batch dims). `grads` says which operands need a
 * gradient: a customGrad computes every gradient it returns, so constants / frozen weights are closed over
 * instead of being inputs (their gradient would cost as much as the forward product).
 */
export function matmul<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor, grads: 'both' | 'a' | 'b' = 'both'): T {
  // Tensors the backward pass needs go through `save` (tf disposes the forward's intermediates before backprop).
  type Save = (tensors: tf.Tensor[]) => void;
  if (grads === 'a') {
    const fa: Parameters<typeof tf.customGrad>[0] = (...args) => {
      (args[1] as unknown as Save)([b]);
      return {
        value: plainMatMul(args[0] as tf.Tensor, b),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => matmulT(dy, saved[0], false, true),
      };
    };
    return tf.customGrad(fa)(a) as T;
  }
  if (grads === 'b') {
    const fb: Parameters<typeof tf.customGrad>[0] = (...args) => {
      (args[1] as unknown as Save)([a]);
      return {
        value: plainMatMul(a, args[0] as tf.Tensor),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => matmulT(saved[0], dy, true, false),
      };
    };
    return tf.customGrad(fb)(b) as T;
  }
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
    const [x, y] = args as [tf.Tensor, tf.Tensor];
    (args[2] as unknown as Save)([x, y]);
    return {
      value: plainMatMul(x, y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        matmulT(dy, saved[1], false, true),
        matmulT(saved[0], dy, true, false),
      ],
    };
  };
  return tf.customGrad(fn)(a, b) as T;
}

/** aᵀ·b without the gradient (per-row gradient algebra). */
export function matmulTN<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
  return matmulT<T>(a, b, true, false);
}

/** a·bᵀ without the gradient. */
export function matmulNT<T extends tf.Tensor>(a: tf.Tensor, b: tf.Tensor): T {
  return matmulT<T>(a, b, false, true);
}

/** Element-wise sum of two gradient lists (one tensor per variable); disposes both inputs. `acc` null: `next`. */
export function accumulateGrads(acc: tf.Tensor[] | null, next: tf.Tensor[]): tf.Tensor[] {
  if (acc === null) return next;
  return acc.map((a, i) => {
    const s = tf.add(a, next[i]);
    a.dispose();
    next[i].dispose();
    return s;
  });
}

/**
 * Cross-entropy −log softmax(logits)[target] over the last axis: logits [..., V], one target per row (row-major),
 * result of the logits' shape without V. With the native kernels (models/tf/native-matmul.ts) one pass per row
 * forward and one backward, never materialising log-probabilities or a one-hot (for the pretraining's 16k vocabulary
 * over every token that chain was 40 % of a step); otherwise tf's logSoftmax · oneHot, bit for bit as before.
 */
export function sparseCrossEntropy(logits: tf.Tensor, targets: Int32Array): tf.Tensor {
  const V = logits.shape[logits.rank - 1];
  const lead = logits.shape.slice(0, -1);
  const t = tf.tensor(targets, lead, 'int32');
  if (!nativeVectorReady()) return tf.logSoftmax(logits).mul(tf.oneHot(t, V)).sum(-1).neg();
  const rows = targets.length;
  const flatTargets = t.reshape([rows]);
  const fused = tf.customGrad((...args) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as unknown as tf.GradSaveFunc;
    const [nll, lse] = tf.engine().runKernel(XENT_KERNEL, { logits: x, targets: flatTargets }, {}) as tf.Tensor[];
    save([x, lse, flatTargets]);
    return {
      value: nll,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf
          .engine()
          .runKernel(
            XENT_GRAD_KERNEL,
            { logits: saved[0], targets: saved[2], lse: saved[1], dy: dy.reshape([rows]) },
            {},
          ) as tf.Tensor,
    };
  });
  return fused(logits.reshape([rows, V])).reshape(lead);
}

/**
 * Dropout at `rate` with the mask tf.randomUniform(shape, 0, 1, 'float32', seed) ≥ rate: (x · keep) / (1 − rate).
 * The native kernels draw the same Alea stream in C++ and apply it in the same float operations, so the result and
 * its gradient equal tf's bit for bit (test/tf/native-dropout.test.ts); tf's op draws the stream one JS call per
 * element, which was a third of a paper-setting fine-tuning step with LoRA dropout.
 */
export function dropout(x: tf.Tensor, seed: number, rate: number): tf.Tensor {
  if (!nativeVectorReady()) {
    const keep = tf.randomUniform(x.shape, 0, 1, 'float32', seed).greaterEqual(rate);
    return x.mul(keep.cast('float32')).div(1 - rate);
  }
  const attrs: DropoutAttrs = { ...aleaState(seed), rate: Math.fround(rate), div: Math.fround(1 - rate) };
  const named = attrs as unknown as tf.NamedAttrMap;
  const fused = tf.customGrad((...args) => {
    const save = args[1] as unknown as tf.GradSaveFunc;
    const [y, keep] = tf.engine().runKernel(DROPOUT_KERNEL, { x: args[0] as tf.Tensor }, named) as tf.Tensor[];
    // The mask is bytes: saving it (a copy) costs a quarter of a float mask.
    save([keep]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(DROPOUT_GRAD_KERNEL, { dy, keep: saved[0] }, named) as tf.Tensor,
    };
  });
  return fused(x);
}
