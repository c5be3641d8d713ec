// Per-row outer products x_rᵀ·δ_r (the per-row gradient of a linear layer's weight) for all rows of a call, and
// the dot products of chosen pairs of them, as ONE kernel.
//
// On wasm this is one kernel of our own (wasm-kernels.ts: the n 2D products back to back through XNNPACK, the
// dots in JS on the heap); composed from tf ops it was ~4 kernels per row there, and quadratic copying. Other
// backends (cpu, webgpu, tensorflow) have fast batched matmuls: there it is a batched matMul, a gather and a sum.
import * as tf from '@tensorflow/tfjs';
import { ROWWISE_OUTER_KERNEL, wasmKernelsReady, type RowwiseOuterAttrs } from './wasm-kernels';

/** One part: rows of a (n × t × din) input and its (n × t × dout) output gradient (e.g. one length pass). */
export interface RowwisePart {
  x: tf.Tensor3D;
  dy: tf.Tensor3D;
  /** Output row of each of the part's n rows (every output row is written by exactly one part row). */
  outRows: number[];
}

export interface RowwiseOuter {
  /** nOut × (din·dout): row o is x_rᵀ·δ_r (row-major din × dout) of the part row mapped to o. */
  perRow: tf.Tensor2D;
  /** dots[e] = perRow[a[e]] · perRow[b[e]] (float32, accumulated in float64). */
  dots: tf.Tensor1D;
}

/**
 * Per-row products of `parts` into `nOut` output rows and the dot products of the output-row pairs (a[e], b[e]).
 * The caller disposes both tensors.
 */
export function rowwiseOuter(
  parts: readonly RowwisePart[],
  nOut: number,
  a: readonly number[],
  b: readonly number[],
): RowwiseOuter {
  if (parts.length === 0) throw new RangeError('rowwiseOuter: no parts');
  if (a.length !== b.length) throw new RangeError(`rowwiseOuter: ${a.length} vs ${b.length} pair indices`);
  const din = parts[0].x.shape[2];
  const dout = parts[0].dy.shape[2];
  const seen = new Uint8Array(nOut);
  for (const p of parts) {
    const [n, t, pin] = p.x.shape;
    const [dn, dt, pout] = p.dy.shape;
    if (pin !== din || pout !== dout || dn !== n || dt !== t || p.outRows.length !== n)
      throw new RangeError(`rowwiseOuter: part shapes ${p.x.shape} / ${p.dy.shape} / ${p.outRows.length} rows`);
    for (const o of p.outRows) {
      if (!(o >= 0 && o < nOut) || seen[o]) throw new RangeError(`rowwiseOuter: output row ${o} out of range or twice`);
      seen[o] = 1;
    }
  }
  if (seen.some((s) => s === 0)) throw new RangeError('rowwiseOuter: every output row needs a part row');
  for (let e = 0; e < a.length; e++) {
    if (!(a[e] >= 0 && a[e] < nOut && b[e] >= 0 && b[e] < nOut))
      throw new RangeError(`rowwiseOuter: pair (${a[e]}, ${b[e]}) outside 0..${nOut - 1}`);
  }
  if (wasmKernelsReady()) {
    const inputs: Record<string, tf.Tensor> = {};
    parts.forEach((p, i) => {
      inputs[`x${i}`] = p.x;
      inputs[`dy${i}`] = p.dy;
    });
    const attrs: RowwiseOuterAttrs = { outRows: parts.map((p) => p.outRows), nOut, a: Array.from(a), b: Array.from(b) };
    const out = tf
      .engine()
      .runKernel(
        ROWWISE_OUTER_KERNEL,
        inputs as unknown as tf.NamedTensorMap,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return { perRow: out[0] as tf.Tensor2D, dots: out[1] as tf.Tensor1D };
  }
  return rowwiseOuterOps(parts, nOut, a, b);
}

/** The same with plain tf ops (a batched matmul per part): the reference, and the path on other backends. */
export function rowwiseOuterOps(
  parts: readonly RowwisePart[],
  nOut: number,
  a: readonly number[],
  b: readonly number[],
): RowwiseOuter {
  return tf.tidy(() => {
    const din = parts[0].x.shape[2];
    const dout = parts[0].dy.shape[2];
    const pieces = parts.map((p) => tf.matMul(p.x, p.dy, true, false).reshape([p.x.shape[0], din * dout]));
    const stacked = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
    // Stacked position of each output row.
    const where = new Int32Array(nOut);
    let k = 0;
    for (const p of parts) for (const o of p.outRows) where[o] = k++;
    const perRow = tf.gather(stacked, tf.tensor1d(where, 'int32')) as tf.Tensor2D;
    const dots =
      a.length === 0
        ? tf.zeros([0])
        : tf
            .gather(perRow, tf.tensor1d(Int32Array.from(a), 'int32'))
            .mul(tf.gather(perRow, tf.tensor1d(Int32Array.from(b), 'int32')))
            .sum(1);
    return { perRow, dots: dots as tf.Tensor1D };
  });
}
