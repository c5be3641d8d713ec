// Kernels of this project's own for the wasm backend (tfjs-backend-wasm 4.22), registered on first use.
//
// Why: in that backend only a 2D, untransposed matmul reaches XNNPACK; a batched (or transposed) one runs a scalar
// loop (4–15× slower here), every Slice / SplitV / Unpack copies its WHOLE input out of the heap before taking its
// piece, and GatherV2 costs ~20 ns per float. So batched products (attention: rows × heads) and per-row products (a
// per-row gradient x_rᵀ·δ_r for every row) were either slow or many small kernels with quadratic copying.
// - AimkpBatchMatMul, AimkpRowwiseOuter: loop over the batch / the rows inside ONE engine call, every 2D product
//   through the wasm backend's own BatchMatMul kernel function (XNNPACK), on pieces copied straight out of the heap;
//   the per-row kernel also dots the requested pairs of its outputs.
// - AimkpGatherRows: rows of a 2D tensor by row copies. AimkpWeightedRowSum: Σ_r w_r·P[r].
// Dots and weighted sums use the SIMD loops of wasm-simd.ts when they can be built, JS loops otherwise.
//
// They use only public methods of the wasm backend (makeOutput, typedArrayFromHeap, disposeData, getMemoryOffset)
// and registered kernel functions; when any is missing, `wasmKernelsReady()` is false and callers use plain tf ops.
//
// With the native matmuls (models/tf/native-matmul.ts) on, products go to the addon instead: the batched kernel hands
// the whole product to the (native) BatchMatMul kernel, the per-row kernel multiplies xᵀ·δ in place on the heap. The
// kernel functions are looked up at every call, never captured, so the order in which this file and the native
// kernels register (or unregister) does not matter.
import * as tf from '@tensorflow/tfjs';
import { nativeHeapGemm, VECTOR_KERNELS, wasmHeap, type HeapGemm } from '../tf/native-matmul';
import { heapSimd, type HeapSimd } from './wasm-simd';

export const BATCH_MATMUL_KERNEL = 'AimkpBatchMatMul';
export const ROWWISE_OUTER_KERNEL = 'AimkpRowwiseOuter';
export const GATHER_ROWS_KERNEL = 'AimkpGatherRows';
export const WEIGHTED_ROW_SUM_KERNEL = 'AimkpWeightedRowSum';
export const ADAMW_KERNEL = 'AimkpAdamW';
/**
 * The kernels above, dispatched only while `wasmKernelsReady()`, and the native cross-entropy, dropout and GELU
 * (only while `nativeVectorReady()`, which needs wasm): no other backend (webgpu, cpu) needs them.
 */
export const WASM_ONLY_KERNELS = [
  BATCH_MATMUL_KERNEL,
  ROWWISE_OUTER_KERNEL,
  GATHER_ROWS_KERNEL,
  WEIGHTED_ROW_SUM_KERNEL,
  ADAMW_KERNEL,
  ...VECTOR_KERNELS,
] as const;

/** The wasm backend's methods the kernels use (BackendWasm in tfjs-backend-wasm 4.22). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  getMemoryOffset(dataId: object): number;
  /** The Emscripten module; its `asm.memory` is the heap (used by wasm-simd.ts when present). */
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
}

/** SIMD loops over the backend's heap, or null (then the kernels loop in JS). */
function simdFor(backend: WasmBackendLike): HeapSimd | null {
  return heapSimd(backend.wasm.asm?.memory);
}

interface KernelArgs<A> {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs: A;
}

export interface RowwiseOuterAttrs {
  /** Per part: the output row of each of its rows. */
  outRows: number[][];
  nOut: number;
  /** Output-row pairs whose dot products the second output holds. */
  a: number[];
  b: number[];
}

let ready: boolean | null = null;
let products = 0;
let calls = 0;

/** Calls of the kernels above so far, whichever path their products take (wasm's BatchMatMul or the native addon). */
export function wasmKernelCalls(): number {
  return calls;
}

/** 2D products the kernels have run through wasm's BatchMatMul so far (for the benchmark's kernel counts). */
export function wasmKernelProducts(): number {
  return products;
}

/** True when the current backend is wasm and the kernels are registered (registering them the first time). */
export function wasmKernelsReady(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (ready !== null) return ready;
  const bmm = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const backend = tf.findBackend('wasm') as unknown as Partial<WasmBackendLike> | null;
  ready =
    bmm !== undefined &&
    transpose !== undefined &&
    backend !== null &&
    backend.wasm?.HEAPU8 instanceof Uint8Array &&
    typeof backend.makeOutput === 'function' &&
    typeof backend.typedArrayFromHeap === 'function' &&
    typeof backend.disposeData === 'function' &&
    typeof backend.getMemoryOffset === 'function';
  if (!ready) return false;
  const matmul2d = new Matmul2d();
  if (tf.getKernel(BATCH_MATMUL_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: BATCH_MATMUL_KERNEL,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs<Record<string, never>>) => (
        calls++,
        batchMatMul(args, matmul2d)
      )) as unknown as tf.KernelFunc,
    });
  }
  if (tf.getKernel(GATHER_ROWS_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: GATHER_ROWS_KERNEL,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs<{ idx: Int32Array }>) => (calls++, gatherRows(args))) as unknown as tf.KernelFunc,
    });
  }
  if (tf.getKernel(WEIGHTED_ROW_SUM_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: WEIGHTED_ROW_SUM_KERNEL,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs<{ w: Float32Array }>) => (
        calls++,
        weightedRowSum(args)
      )) as unknown as tf.KernelFunc,
    });
  }
  if (tf.getKernel(ADAMW_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: ADAMW_KERNEL,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs<AdamWAttrs>) => (calls++, adamwUpdate(args))) as unknown as tf.KernelFunc,
    });
  }
  if (tf.getKernel(ROWWISE_OUTER_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: ROWWISE_OUTER_KERNEL,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs<RowwiseOuterAttrs>) => (
        calls++,
        rowwiseOuter(args, matmul2d)
      )) as unknown as tf.KernelFunc,
    });
  }
  return true;
}

/** True when the AdamW kernel can run: the wasm kernels are registered and the heap's SIMD helpers were built. */
export function wasmAdamWReady(): boolean {
  if (!wasmKernelsReady()) return false;
  return simdFor(tf.findBackend('wasm') as unknown as WasmBackendLike) !== null;
}

/** The AdamW kernel's scalars, float32 as tf rounds a scalar operand: c, b1, c1, b2, c2, decay, sqrtBc2, eps, step. */
export interface AdamWAttrs {
  s: Float32Array;
}

/** One AdamW update of a parameter (inputs p, g, m, v) into three new tensors [p', m', v'] (wasm-simd.ts's adamw). */
function adamwUpdate(args: KernelArgs<AdamWAttrs>): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const simd = simdFor(backend);
  if (simd === null) throw new Error('wasm-kernels: the AdamW kernel needs the heap SIMD helpers');
  const { p, g, m, v } = args.inputs;
  const n = p.shape.reduce((a, b) => a * b, 1);
  for (const [name, x] of [
    ['g', g],
    ['m', m],
    ['v', v],
  ] as const) {
    const size = x.shape.reduce((a, b) => a * b, 1);
    if (size !== n || x.dtype !== 'float32')
      throw new RangeError(`wasm-kernels: AdamW ${name} has ${size} ${x.dtype} values, the parameter ${n} float32`);
  }
  const outs = [p, m, v].map((x) => backend.makeOutput(x.shape, 'float32'));
  // Offsets, not views: they stay valid when an allocation above grew the heap.
  const at = (x: tf.TensorInfo): number => backend.getMemoryOffset(x.dataId);
  const s = args.attrs.s;
  simd.adamw(at(p), at(g), at(m), at(v), at(outs[0]), at(outs[1]), at(outs[2]), n, ...(Array.from(s) as Nine));
  return outs;
}

type Nine = [number, number, number, number, number, number, number, number, number];

/** The wasm backend's kernel function registered now under `name` (the native one when that is on). */
function currentKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm-kernels: no ${name} kernel registered for wasm`);
  return config.kernelFunc;
}

/** One 2D product A (1 × m × k) · B (1 × k × n) through the backend's BatchMatMul kernel function. */
class Matmul2d {
  /**
   * A is filled by the caller and may be reused across products; `fillB` fills a fresh heap buffer for B every time,
   * because XNNPACK caches its packed copy of B by tensor id (dropped when that id is disposed). `use` gets the
   * product (a heap view, valid until the next allocation).
   */
  run(
    backend: WasmBackendLike,
    raw: unknown,
    k: number,
    n: number,
    A: tf.TensorInfo,
    fillB: (b: Float32Array) => void,
    use: (product: Float32Array) => void,
  ): void {
    products++;
    const B = backend.makeOutput([1, k, n], 'float32');
    fillB(backend.typedArrayFromHeap(B) as Float32Array);
    const prod = currentKernel('BatchMatMul')({
      inputs: { a: A, b: B },
      backend: raw,
      attrs: { transposeA: false, transposeB: false },
    } as never) as tf.TensorInfo;
    use(backend.typedArrayFromHeap(prod) as Float32Array);
    backend.disposeData(prod.dataId);
    backend.disposeData(B.dataId);
  }
}

/** a (…, m, k) · b (…, k, n) with equal batch dimensions, one XNNPACK product per batch element. */
function batchMatMul(args: KernelArgs<Record<string, never>>, mm: Matmul2d): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs;
  // The native kernel multiplies the whole batch in one call, in place.
  if (nativeHeapGemm() !== null) {
    return currentKernel('BatchMatMul')({
      inputs: { a, b },
      backend: args.backend,
      attrs: { transposeA: false, transposeB: false },
    } as never) as tf.TensorInfo;
  }
  const rank = a.shape.length;
  const [m, k] = a.shape.slice(rank - 2);
  const n = b.shape[rank - 1];
  const batch = a.shape.slice(0, rank - 2).reduce((s, x) => s * x, 1);
  const out = backend.makeOutput([...a.shape.slice(0, rank - 2), m, n], 'float32');
  const f32 = (info: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(info) as Float32Array;
  if (m * n === 0) return out;
  const A = backend.makeOutput([1, m, k], 'float32');
  for (let i = 0; i < batch; i++) {
    // Views are taken after every allocation: a growing heap detaches older ones.
    f32(A).set(f32(a).subarray(i * m * k, (i + 1) * m * k));
    mm.run(
      backend,
      args.backend,
      k,
      n,
      A,
      (B) => B.set(f32(b).subarray(i * k * n, (i + 1) * k * n)),
      (p) => f32(out).set(p, i * m * n),
    );
  }
  backend.disposeData(A.dataId);
  return out;
}

/**
 * Parts x_p (n × t × din), dy_p (n × t × dout): every row's x_rᵀ·δ_r into row outRows[p][i] of an nOut × (din·dout)
 * output, and the dot products of output rows (a[e], b[e]) (float64 sums, stored as float32).
 */
function rowwiseOuter(args: KernelArgs<RowwiseOuterAttrs>, mm: Matmul2d): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { outRows, nOut, a, b } = args.attrs;
  const f32 = (info: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(info) as Float32Array;
  const din = args.inputs.x0.shape[2];
  const dout = args.inputs.dy0.shape[2];
  const L = din * dout;
  const out = backend.makeOutput([nOut, L], 'float32');
  const gemm = nativeHeapGemm();
  if (gemm !== null) nativeRowProducts(backend, args.inputs, outRows, L, out, gemm);
  else xnnpackRowProducts(backend, args, outRows, L, out, mm);
  const dots = backend.makeOutput([a.length], 'float32');
  const simd = simdFor(backend);
  const D = f32(dots);
  if (simd !== null) {
    const base = backend.getMemoryOffset(out.dataId);
    for (let e = 0; e < a.length; e++) D[e] = simd.dot(base + 4 * a[e] * L, base + 4 * b[e] * L, L);
  } else {
    const P = f32(out);
    for (let e = 0; e < a.length; e++) D[e] = dot(P, a[e] * L, b[e] * L, L);
  }
  return [out, dots];
}

/** Every row's x_rᵀ·δ_r straight into its output row: one addon call per row, no copies, no transposes. */
function nativeRowProducts(
  backend: WasmBackendLike,
  inputs: Record<string, tf.TensorInfo>,
  outRows: number[][],
  L: number,
  out: tf.TensorInfo,
  gemm: HeapGemm,
): void {
  // No allocation below, so the heap view and the offsets stay valid.
  const heap = wasmHeap(backend);
  const outOff = backend.getMemoryOffset(out.dataId);
  for (let p = 0; p < outRows.length; p++) {
    const x = inputs[`x${p}`];
    const dy = inputs[`dy${p}`];
    const [n, t, din] = x.shape;
    const dout = dy.shape[2];
    const xOff = backend.getMemoryOffset(x.dataId);
    const dyOff = backend.getMemoryOffset(dy.dataId);
    // t = 0 (no slots) needs no special case: the addon writes zeros for an empty inner dimension.
    for (let i = 0; i < n; i++) {
      gemm(
        heap,
        xOff + 4 * i * t * din,
        dyOff + 4 * i * t * dout,
        outOff + 4 * outRows[p][i] * L,
        din,
        dout,
        t,
        true,
        false,
      );
    }
  }
}

/** The same through XNNPACK: per part one transpose of x, then one 2D product per row on copies. */
function xnnpackRowProducts(
  backend: WasmBackendLike,
  args: KernelArgs<RowwiseOuterAttrs>,
  outRows: number[][],
  L: number,
  out: tf.TensorInfo,
  mm: Matmul2d,
): void {
  const f32 = (info: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(info) as Float32Array;
  const din = args.inputs.x0.shape[2];
  const dout = args.inputs.dy0.shape[2];
  for (let p = 0; p < outRows.length; p++) {
    const x = args.inputs[`x${p}`];
    const dy = args.inputs[`dy${p}`];
    const [n, t] = x.shape;
    if (t === 0) {
      // No slots: zero products (the heap is not zeroed for us).
      for (const o of outRows[p]) f32(out).fill(0, o * L, (o + 1) * L);
      continue;
    }
    // xᵀ of every row at once (n × din × t): one row's piece is then contiguous.
    const xT = currentKernel('Transpose')({
      inputs: { x },
      backend: args.backend,
      attrs: { perm: [0, 2, 1] },
    } as never) as tf.TensorInfo;
    const A = backend.makeOutput([1, din, t], 'float32');
    for (let i = 0; i < n; i++) {
      f32(A).set(f32(xT).subarray(i * din * t, (i + 1) * din * t));
      mm.run(
        backend,
        args.backend,
        t,
        dout,
        A,
        (B) => B.set(f32(dy).subarray(i * t * dout, (i + 1) * t * dout)),
        (prod) => f32(out).set(prod, outRows[p][i] * L),
      );
    }
    backend.disposeData(A.dataId);
    backend.disposeData(xT.dataId);
  }
}

/**
 * Rows idx[i] of x (N × d), a zero row where idx[i] < 0: row copies on the heap. (wasm's GatherV2 computes strided
 * offsets element by element: ~20 ns per float here.)
 */
function gatherRows(args: KernelArgs<{ idx: Int32Array }>): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs;
  const { idx } = args.attrs;
  const d = x.shape[1];
  const out = backend.makeOutput([idx.length, d], x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    if (j < 0) dst.fill(0, i * d, (i + 1) * d);
    else dst.set(src.subarray(j * d, (j + 1) * d), i * d);
  }
  return out;
}

/**
 * Σ_r w[r]·P[r] (1 × L), rows in order; rows with w = 0 are skipped. As a matmul (1 × R)·(R × L), XNNPACK would
 * first repack all of P transposed (its weights layout), which costs more than the sum itself.
 */
function weightedRowSum(args: KernelArgs<{ w: Float32Array }>): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { P } = args.inputs;
  const { w } = args.attrs;
  const L = P.shape[1];
  const out = backend.makeOutput([1, L], 'float32');
  const rows: number[] = [];
  for (let r = 0; r < w.length; r++) if (w[r] !== 0) rows.push(r);
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  const simd = simdFor(backend);
  if (simd !== null) {
    const y = backend.getMemoryOffset(out.dataId);
    const x = backend.getMemoryOffset(P.dataId);
    for (const r of rows) simd.axpy(y, x + 4 * r * L, w[r], L);
    return out;
  }
  const src = backend.typedArrayFromHeap(P) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const offs = Int32Array.from(rows, (r) => r * L);
  const ws = Float64Array.from(rows, (r) => w[r]);
  // Column by column with a local accumulator: a read-modify-write of the output per row is ~3× slower here.
  for (let k = 0; k < L; k++) {
    let s = 0;
    for (let i = 0; i < offs.length; i++) s += ws[i] * src[offs[i] + k];
    dst[k] = s;
  }
  return out;
}

/** Σ_k v[i+k]·v[j+k] in float64, four accumulators (one is latency-bound). */
function dot(v: Float32Array, i: number, j: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += v[i + k] * v[j + k];
    s1 += v[i + k + 1] * v[j + k + 1];
    s2 += v[i + k + 2] * v[j + k + 2];
    s3 += v[i + k + 3] * v[j + k + 3];
  }
  for (; k < n; k++) s0 += v[i + k] * v[j + k];
  return s0 + s1 + s2 + s3;
}
