/**
 * Native matmuls for the wasm backend. tfjs-backend-wasm 4.22 sends only plain 2D products to XNNPACK (≈ 20 GFLOP/s
 * on one core here) and every batched or transposed one to a scalar loop (≈ 1 GFLOP/s); this module replaces its
 * BatchMatMul and _FusedMatMul kernels with ones that call the optional N-API addon native/native_gemm.cc, which
 * multiplies in place on the wasm heap (no copies) with its own packed kernel — AVX-512 where the CPU has it
 * (125–160 GFLOP/s on one Xeon core), else AVX2+FMA (≈ 100 GFLOP/s there, 85 on an EPYC), bit-identical to each other —
 * a portable scalar kernel on CPUs without AVX2, or — opt-in — a BLAS found at run time.
 *
 * Optional by design: when the addon is not built (no compiler at install), fails to load (other architecture), or
 * fails its self-test, nothing is replaced and the backend line says plain "wasm". Cases the addon does not take
 * (non-float32, a bias of another shape) go to the original wasm kernel.
 *
 * Settings (environment): AIMKP_NATIVE_MATMUL=off turns it off; AIMKP_MATMUL_ENGINE=own (default) | blas | auto
 * (auto: BLAS when one is found, else own); AIMKP_GEMM_KERNEL=avx512 | avx2 | generic caps the own kernel's
 * instruction set (default: the widest the CPU has); AIMKP_NATIVE_GEMM=<path> loads the addon from elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's exports (native/native_gemm.cc). */
interface NativeGemmAddon {
  /**
   * C (batch × m × n) = op(A)·op(B) (+ bias, activation). Offsets in bytes into `heap`; batch strides in elements
   * (0: that operand is shared by every batch element). Returns the engine used (1 BLAS, 2 own, 3 direct loop).
   */
  gemm(
    heap: Uint8Array,
    aOff: number,
    bOff: number,
    cOff: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: number,
    transposeB: number,
    strideA: number,
    strideB: number,
    biasOff: number,
    biasLen: number,
    activation: number,
    alpha: number,
    engine: number,
    preluOff: number,
    preluLen: number,
  ): number;
  info(probeBlas?: boolean): AddonInfo;
  /** Per row of V logits: nll = lse − x[target] and lse (addons built before it lack it: the tf ops run). */
  xent?(
    heap: Uint8Array,
    logitsOff: number,
    targetsOff: number,
    nllOff: number,
    lseOff: number,
    rows: number,
    V: number,
  ): void;
  /** y = (x · keep) / div and the keep bytes, keep_i = float32(u_i) ≥ rate, u the Alea stream from (s0, s1, s2, c). */
  dropout?(
    heap: Uint8Array,
    xOff: number,
    yOff: number,
    keepOff: number,
    n: number,
    s0: number,
    s1: number,
    s2: number,
    c: number,
    rate: number,
    div: number,
  ): void;
  /** dx = (dy / div) · keep. */
  dropoutGrad?(heap: Uint8Array, dyOff: number, keepOff: number, outOff: number, n: number, div: number): void;
  /** GELU (tanh approximation). */
  gelu?(heap: Uint8Array, xOff: number, yOff: number, n: number): void;
  /** dx = dy · GELU′(x) (the tanh term recomputed from x). */
  geluGrad?(heap: Uint8Array, xOff: number, dyOff: number, outOff: number, n: number): void;
  /** dlogits = dnll · (softmax − onehot(target)), per row. */
  xentGrad?(
    heap: Uint8Array,
    logitsOff: number,
    targetsOff: number,
    lseOff: number,
    dnllOff: number,
    outOff: number,
    rows: number,
    V: number,
  ): void;
}

/**
 * Dropout as tf composes it (randomUniform ≥ rate, then (x · keep) / (1 − rate)), bit for bit: AimkpDropout {x} →
 * [y, keep (bool)]; AimkpDropoutGrad {dy, keep} → dx. Attrs: DropoutAttrs (with the native matmuls when the addon has
 * them).
 */
export const DROPOUT_KERNEL = 'AimkpDropout';
export const DROPOUT_GRAD_KERNEL = 'AimkpDropoutGrad';

export interface DropoutAttrs {
  /** Alea's state after seeding (models/random/alea.ts). */
  s0: number;
  s1: number;
  s2: number;
  c: number;
  /** The drop rate as a float32 value: an element is kept when its uniform draw (as float32) is ≥ it. */
  rate: number;
  /** float32(1 − rate), the divisor tf's RealDiv uses. */
  div: number;
}

/** GELU (tanh approximation): AimkpGelu {x} → y; AimkpGeluGrad {x, dy} → dx (when the addon has them). */
export const GELU_KERNEL = 'AimkpGelu';
export const GELU_GRAD_KERNEL = 'AimkpGeluGrad';

/** The fused cross-entropy kernels (registered with the native matmuls when the addon has them). */
export const XENT_KERNEL = 'AimkpXent';
export const XENT_GRAD_KERNEL = 'AimkpXentGrad';

interface AddonInfo {
  blas: string | null;
  blasCore?: string;
  blasError?: string;
  ownKernel: string;
  callsBlas: number;
  callsOwn: number;
  callsTiny: number;
}

/** The parts of BackendWasm (tfjs-backend-wasm 4.22) the kernels use. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: object): number;
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | null | undefined>;
  backend: unknown;
  attrs: Record<string, unknown>;
}

export type MatmulEngine = 'own' | 'blas' | 'auto';
const ENGINE_CODE: Record<MatmulEngine, number> = { auto: 0, blas: 1, own: 2 };

/** tfjs's fused activations, numbered as the addon's epilogue knows them. */
const ACTIVATION_CODE: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  sigmoid: 4,
  elu: 5,
  prelu: 6,
};

export interface NativeMatmulStatus {
  enabled: boolean;
  /** Why it is off (not built, turned off, self-test failed, …). */
  reason?: string;
  engine?: MatmulEngine;
  /** The addon's own micro-kernel: 'avx512f-12x32', 'avx2-fma-6x16' or 'generic-6x16' (AIMKP_GEMM_KERNEL). */
  kernel?: string;
  /** The BLAS library in use (engine blas / auto), e.g. 'libopenblas.so.0'. */
  blas?: string | null;
  /** Why the vector kernels (cross-entropy, dropout, GELU) are off while the matmuls are on; absent when on. */
  vectorOff?: string;
}

/** A product on the wasm heap: byte offsets, sizes in elements (what the per-row gradient kernels call directly). */
export interface HeapGemm {
  (
    heap: Uint8Array,
    aOff: number,
    bOff: number,
    cOff: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
}

const product = (xs: readonly number[]): number => xs.reduce((p, x) => p * x, 1);

let status: NativeMatmulStatus | null = null;
let addon: NativeGemmAddon | null = null;
let engineCode = ENGINE_CODE.own;
let originals: { batchMatMul: tf.KernelConfig; fusedMatMul: tf.KernelConfig } | null = null;

/** Where the addon may be: beside the sources (native/build/) or beside a bundle (dist-electron/native/). */
export function addonCandidates(): string[] {
  const fromEnv = process.env.AIMKP_NATIVE_GEMM?.trim();
  if (fromEnv) return [fromEnv];
  return [
    fileURLToPath(new URL('../../native/build/native_gemm.node', import.meta.url)),
    fileURLToPath(new URL('./native/native_gemm.node', import.meta.url)),
  ];
}

function loadAddon(): NativeGemmAddon | string {
  const candidates = addonCandidates();
  // Electron serves files of app.asar (and their unpacked copies) through fs; plain Node sees real files.
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) return `not built (npm run build:native; looked in ${candidates.join(', ')})`;
  try {
    const loaded = createRequire(import.meta.url)(path) as Partial<NativeGemmAddon>;
    if (typeof loaded.gemm !== 'function' || typeof loaded.info !== 'function')
      return `${path}: not the native_gemm addon`;
    return loaded as NativeGemmAddon;
  } catch (err) {
    return `${path}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200)}`;
  }
}

/** The state after the last register / self-test call (null before any). */
export function nativeMatmulStatus(): NativeMatmulStatus | null {
  return status;
}

/** "native matmul (AVX2)" and the like, for the backend line. */
export function describeNativeMatmul(s: NativeMatmulStatus): string {
  if (!s.enabled) return `native matmul off: ${s.reason ?? 'unknown'}`;
  const vector = s.vectorOff === undefined ? '' : `; vector kernels off: ${s.vectorOff}`;
  if (s.engine === 'blas' || (s.engine === 'auto' && s.blas)) return `native matmul (BLAS ${s.blas}${vector})`;
  const isa = s.kernel?.startsWith('avx512') ? 'AVX-512' : s.kernel?.startsWith('avx2') ? 'AVX2' : 'scalar';
  return `native matmul (${isa}${vector})`;
}

/** Products run by the addon so far in this process, per engine (tests check the native path was taken). */
export function nativeMatmulCalls(): { blas: number; own: number; tiny: number } | null {
  if (addon === null) return null;
  const info = addon.info();
  return { blas: info.callsBlas, own: info.callsOwn, tiny: info.callsTiny };
}

/** The addon's product on the wasm heap when the native kernels are enabled, else null. */
export function nativeHeapGemm(): HeapGemm | null {
  const lib = addon;
  if (!status?.enabled || lib === null) return null;
  const engine = engineCode;
  return (heap, aOff, bOff, cOff, m, n, k, ta, tb) => {
    lib.gemm(heap, aOff, bOff, cOff, 1, m, n, k, ta ? 1 : 0, tb ? 1 : 0, 0, 0, -1, 0, 0, 0, engine, -1, 0);
  };
}

/** The wasm heap as the addon needs it, read after every allocation (a growing memory replaces the view). */
export function wasmHeap(backend: WasmBackendLike): Uint8Array {
  // The threaded build's SharedArrayBuffer never detaches but may grow without HEAPU8 being refreshed.
  const memory = backend.wasm.wasmMemory;
  return memory && memory.buffer !== backend.wasm.HEAPU8.buffer ? new Uint8Array(memory.buffer) : backend.wasm.HEAPU8;
}

function parseEngine(value: string | undefined): MatmulEngine | string {
  const v = (value ?? '').trim() || 'own';
  return v === 'own' || v === 'blas' || v === 'auto' ? v : `AIMKP_MATMUL_ENGINE=${v}: expected own, blas or auto`;
}

/**
 * Replaces the wasm backend's BatchMatMul and _FusedMatMul with the native kernels. Call after importing
 * @tensorflow/tfjs-backend-wasm, before or after tf.setBackend('wasm') (the original setupFuncs are kept, so the
 * fallback path is initialised either way). Idempotent; returns the status (never throws).
 */
export function registerNativeMatmul(options: { engine?: MatmulEngine } = {}): NativeMatmulStatus {
  if (status?.enabled) return status;
  const setting = process.env.AIMKP_NATIVE_MATMUL?.trim();
  if (setting === 'off' || setting === '0') return (status = { enabled: false, reason: 'AIMKP_NATIVE_MATMUL=off' });
  const engine = options.engine ?? parseEngine(process.env.AIMKP_MATMUL_ENGINE);
  if (!(engine in ENGINE_CODE)) return (status = { enabled: false, reason: engine });
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const fusedMatMul = tf.getKernel('_FusedMatMul', 'wasm');
  if (!batchMatMul || !fusedMatMul) return (status = { enabled: false, reason: 'the wasm backend is not imported' });
  const loaded = loadAddon();
  if (typeof loaded === 'string') return (status = { enabled: false, reason: loaded });
  const info = loaded.info(engine !== 'own');
  if (engine === 'blas' && info.blas === null)
    return (status = { enabled: false, reason: `no BLAS found (${info.blasError ?? 'none'})` });
  addon = loaded;
  engineCode = ENGINE_CODE[engine as MatmulEngine];
  const original = (config: tf.KernelConfig) => config.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;

  const batchKernel = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const out = runProduct(loaded, args.backend as WasmBackendLike, a, b, args.attrs, null, 'linear', null);
    return out ?? original(batchMatMul)(args);
  };
  const fusedKernel = (args: KernelArgs): tf.TensorInfo => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs.activation as string | undefined) ?? 'linear';
    const out = runProduct(
      loaded,
      args.backend as WasmBackendLike,
      a as tf.TensorInfo,
      b as tf.TensorInfo,
      args.attrs,
      bias ?? null,
      activation,
      preluActivationWeights ?? null,
    );
    return out ?? original(fusedMatMul)(args);
  };
  originals = { batchMatMul, fusedMatMul };
  replaceKernel(batchMatMul, batchKernel);
  replaceKernel(fusedMatMul, fusedKernel);
  const vectorOff = registerVectorKernels(loaded);
  status = { enabled: true, engine: engine as MatmulEngine, kernel: info.ownKernel, blas: info.blas };
  if (vectorOff !== null) status.vectorOff = vectorOff;
  return status;
}

function replaceKernel(config: tf.KernelConfig, kernelFunc: (args: KernelArgs) => tf.TensorInfo): void {
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({
    kernelName: config.kernelName,
    backendName: 'wasm',
    // The wasm kernels cwrap their C functions in setupFunc; the fallback path needs them.
    setupFunc: config.setupFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

type VectorKernelFns = Required<
  Pick<NativeGemmAddon, 'xent' | 'xentGrad' | 'dropout' | 'dropoutGrad' | 'gelu' | 'geluGrad'>
>;

function hasVectorKernels(lib: NativeGemmAddon): lib is NativeGemmAddon & VectorKernelFns {
  return [lib.xent, lib.xentGrad, lib.dropout, lib.dropoutGrad, lib.gelu, lib.geluGrad].every(
    (f) => typeof f === 'function',
  );
}

/** What a heap kernel's body gets: the backend, its inputs and attrs, and a tensor's heap offset. */
interface HeapKernelCall {
  backend: WasmBackendLike;
  inputs: Record<string, tf.TensorInfo>;
  attrs: Record<string, unknown>;
  at(t: tf.TensorInfo): number;
}

/**
 * A wasm kernel whose body makes its outputs and then calls the addon on the heap. The body reads the heap
 * (wasmHeap) only after makeOutput, whose malloc may grow the memory.
 */
function registerHeapKernel(kernelName: string, body: (call: HeapKernelCall) => tf.TensorInfo | tf.TensorInfo[]): void {
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
      const backend = args.backend as WasmBackendLike;
      return body({
        backend,
        inputs: args.inputs as Record<string, tf.TensorInfo>,
        attrs: args.attrs,
        at: (t) => backend.getMemoryOffset(t.dataId),
      });
    }) as unknown as tf.KernelFunc,
  });
}

/** The vector kernels' names (registered all or none; wasm-kernels.ts lists them among the wasm-only kernels). */
export const VECTOR_KERNELS = [
  XENT_KERNEL,
  XENT_GRAD_KERNEL,
  DROPOUT_KERNEL,
  DROPOUT_GRAD_KERNEL,
  GELU_KERNEL,
  GELU_GRAD_KERNEL,
] as const;

/**
 * Registers the vector kernels, all or none; returns why they stay off, or null.
 * - AimkpXent: {logits [N, V] float32, targets [N] int32} → [nll [N], lse [N]]; AimkpXentGrad: {logits, targets,
 *   lse, dy [N]} → dlogits [N, V].
 * - AimkpDropout: {x} → [y, keep (bool)], attrs DropoutAttrs; AimkpDropoutGrad: {dy, keep} → dx.
 * - AimkpGelu: {x} → y; AimkpGeluGrad: {x, dy} → dx.
 * Callers ask `nativeVectorReady()` first and otherwise use tf's ops.
 */
function registerVectorKernels(lib: NativeGemmAddon): string | null {
  const setting = process.env.AIMKP_NATIVE_VECTOR?.trim();
  if (setting === 'off' || setting === '0') return 'AIMKP_NATIVE_VECTOR=off';
  // An addon built before these kernels (a `git pull` without `npm ci`): all of them or none, and say so.
  if (!hasVectorKernels(lib)) return 'the addon was built before them (npm run build:native)';
  const rowsOf = (logits: tf.TensorInfo): { rows: number; V: number } => ({
    rows: logits.shape[0],
    V: logits.shape[1],
  });
  registerHeapKernel(XENT_KERNEL, ({ backend, inputs: { logits, targets }, at }) => {
    const { rows, V } = rowsOf(logits);
    const nll = backend.makeOutput([rows], 'float32');
    const lse = backend.makeOutput([rows], 'float32');
    if (rows > 0) lib.xent(wasmHeap(backend), at(logits), at(targets), at(nll), at(lse), rows, V);
    return [nll, lse];
  });
  registerHeapKernel(XENT_GRAD_KERNEL, ({ backend, inputs: { logits, targets, lse, dy }, at }) => {
    const { rows, V } = rowsOf(logits);
    const out = backend.makeOutput([rows, V], 'float32');
    if (rows > 0) lib.xentGrad(wasmHeap(backend), at(logits), at(targets), at(lse), at(dy), at(out), rows, V);
    return out;
  });
  registerHeapKernel(DROPOUT_KERNEL, ({ backend, inputs: { x }, attrs, at }) => {
    const a = attrs as unknown as DropoutAttrs;
    const y = backend.makeOutput(x.shape, 'float32');
    const keep = backend.makeOutput(x.shape, 'bool');
    const n = product(x.shape);
    if (n > 0) lib.dropout(wasmHeap(backend), at(x), at(y), at(keep), n, a.s0, a.s1, a.s2, a.c, a.rate, a.div);
    return [y, keep];
  });
  registerHeapKernel(DROPOUT_GRAD_KERNEL, ({ backend, inputs: { dy, keep }, attrs, at }) => {
    const out = backend.makeOutput(dy.shape, 'float32');
    const n = product(dy.shape);
    const { div } = attrs as unknown as DropoutAttrs;
    if (n > 0) lib.dropoutGrad(wasmHeap(backend), at(dy), at(keep), at(out), n, div);
    return out;
  });
  registerHeapKernel(GELU_KERNEL, ({ backend, inputs: { x }, at }) => {
    const y = backend.makeOutput(x.shape, 'float32');
    const n = product(x.shape);
    if (n > 0) lib.gelu(wasmHeap(backend), at(x), at(y), n);
    return y;
  });
  registerHeapKernel(GELU_GRAD_KERNEL, ({ backend, inputs: { x, dy }, at }) => {
    const out = backend.makeOutput(x.shape, 'float32');
    const n = product(x.shape);
    if (n > 0) lib.geluGrad(wasmHeap(backend), at(x), at(dy), at(out), n);
    return out;
  });
  vectorKernels = true;
  return null;
}

let vectorKernels = false;

/**
 * True when the vector kernels (cross-entropy, dropout, GELU) can run now: the native matmuls on, an addon that has
 * them, and wasm the backend.
 */
export function nativeVectorReady(): boolean {
  return vectorKernels && status?.enabled === true && tf.getBackend() === 'wasm';
}

/** Puts the wasm kernels back (the self-test's failure path, and tests comparing both). */
export function unregisterNativeMatmul(reason = 'unregistered'): void {
  if (vectorKernels) {
    for (const name of VECTOR_KERNELS) tf.unregisterKernel(name, 'wasm');
    vectorKernels = false;
  }
  if (originals !== null) {
    for (const config of [originals.batchMatMul, originals.fusedMatMul]) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
    }
    originals = null;
  }
  status = { enabled: false, reason };
}

/**
 * The native product for one kernel call, or null for what it does not take (then the wasm kernel runs, with tf's
 * usual errors for bad shapes).
 */
function runProduct(
  lib: NativeGemmAddon,
  backend: WasmBackendLike,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: Record<string, unknown>,
  bias: tf.TensorInfo | null,
  activation: string,
  prelu: tf.TensorInfo | null,
): tf.TensorInfo | null {
  const act = ACTIVATION_CODE[activation];
  if (act === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ta = Boolean(attrs.transposeA);
  const tb = Boolean(attrs.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  if (k !== (tb ? b.shape[rb - 1] : b.shape[rb - 2])) return null;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  // A vector per output column (or one value): anything else is the wasm kernel's business.
  const columnVector = (t: tf.TensorInfo | null): boolean =>
    t !== null && t.dtype === 'float32' && t.shape.length === 1 && (t.shape[0] === n || t.shape[0] === 1);
  if (bias !== null && !columnVector(bias)) return null;
  if (activation === 'prelu' && !columnVector(prelu)) return null;
  const batch = product(outer);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  // Offsets and the heap only now: makeOutput's malloc may have grown the memory.
  const offset = (t: tf.TensorInfo): number => backend.getMemoryOffset(t.dataId);
  const heap = wasmHeap(backend);
  const aOff = offset(a);
  const bOff = offset(b);
  const cOff = offset(out);
  const biasOff = bias ? offset(bias) : -1;
  const biasLen = bias ? bias.shape[0] : 0;
  const preluOff = activation === 'prelu' && prelu ? offset(prelu) : -1;
  const preluLen = activation === 'prelu' && prelu ? prelu.shape[0] : 0;
  const alpha = (attrs.leakyreluAlpha as number | undefined) ?? 0.2;
  const gemm = (aAt: number, bAt: number, cAt: number, count: number, strideA: number, strideB: number): void => {
    lib.gemm(
      heap,
      aAt,
      bAt,
      cAt,
      count,
      m,
      n,
      k,
      ta ? 1 : 0,
      tb ? 1 : 0,
      strideA,
      strideB,
      biasOff,
      biasLen,
      act,
      alpha,
      engineCode,
      preluOff,
      preluLen,
    );
  };
  const padded = (s: number[]): number[] => [...Array<number>(outer.length - s.length).fill(1), ...s];
  const pa = padded(outerA);
  const pb = padded(outerB);
  const full = (p: number[]): boolean => p.every((d, i) => d === outer[i]);
  // One call when each side is either shared by all batch elements or has all of them.
  const strideA = product(outerA) === 1 ? 0 : full(pa) ? m * k : -1;
  const strideB = product(outerB) === 1 ? 0 : full(pb) ? k * n : -1;
  if (strideA >= 0 && strideB >= 0) {
    gemm(aOff, bOff, cOff, batch, strideA, strideB);
    return out;
  }
  // Mixed broadcasting ([2,1]·[1,3]): one product per output matrix.
  const index = new Array<number>(outer.length).fill(0);
  const flat = (p: number[]): number => p.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : index[i]), 0);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = outer.length - 1, r = bi; i >= 0; i--) {
      index[i] = r % outer[i];
      r = Math.floor(r / outer[i]);
    }
    gemm(aOff + 4 * flat(pa) * m * k, bOff + 4 * flat(pb) * k * n, cOff + 4 * bi * m * n, 1, 0, 0);
  }
  return out;
}

/**
 * Once the wasm backend is ready: batched, transposed, broadcast and fused products through the native kernels,
 * compared with a float64 loop; on a mismatch or an exception the wasm kernels are restored. Returns the status.
 */
export function selfTestNativeMatmul(): NativeMatmulStatus | null {
  if (!status?.enabled || tf.getBackend() !== 'wasm') return status;
  try {
    const m = 7;
    const k = 19;
    const n = 23;
    const av = Float32Array.from({ length: 2 * k * m }, (_, i) => Math.sin(i));
    const bv = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const biasV = Float32Array.from({ length: n }, (_, j) => j / n - 0.5);
    const got = tf.tidy(() =>
      tf.fused
        .matMul({
          a: tf.tensor3d(av, [2, k, m]),
          b: tf.tensor2d(bv, [k, n]),
          transposeA: true,
          bias: tf.tensor1d(biasV),
          activation: 'relu',
        })
        .dataSync(),
    );
    let worst = 0;
    for (let bi = 0; bi < 2; bi++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = biasV[j];
          for (let p = 0; p < k; p++) s += av[bi * m * k + p * m + i] * bv[p * n + j];
          worst = Math.max(worst, Math.abs(Math.max(s, 0) - got[(bi * m + i) * n + j]));
        }
    if (!(worst < 1e-4)) throw new Error(`largest difference ${worst} from a float64 loop`);
  } catch (err) {
    unregisterNativeMatmul(`self-test failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return status;
}
