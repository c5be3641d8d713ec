// Counts the kernels a piece of tf code runs, by kernel name and (optionally) by the project call site that
// issued it, with the wall time of each. On wasm and cpu a kernel runs synchronously inside runKernel, so its
// wall time is its cost; on asynchronous backends (webgpu, webgl) the times are only dispatch times.
import * as tf from '@tensorflow/tfjs';

export interface KernelTally {
  count: number;
  ms: number;
}

export interface KernelProfile {
  /** Kernels run (top-level engine.runKernel calls). */
  kernels: number;
  /** Of these, matrix products (BatchMatMul / _FusedMatMul). */
  matmuls: number;
  /** Summed wall time of the kernels, ms. */
  kernelMs: number;
  /** Kernels that took under 50 µs. */
  under50us: number;
  byKernel: Map<string, KernelTally>;
  /** Empty unless `sites` was asked for: "file:function" of the first project frame (backward kernels prefixed). */
  bySite: Map<string, KernelTally>;
}

type RunKernel = (name: string, inputs: unknown, attrs?: unknown) => unknown;
const MATMULS = new Set(['BatchMatMul', '_FusedMatMul']);

/**
 * Runs `fn` with tf's engine.runKernel wrapped. `sites: true` also attributes each kernel to its call site from a
 * stack trace (slow: only for profiling runs, never inside a timed step).
 */
export function profileKernels<T>(
  fn: () => T,
  options: { sites?: boolean } = {},
): { result: T; profile: KernelProfile } {
  const engine = tf.engine() as unknown as { runKernel: RunKernel };
  const original = engine.runKernel;
  const profile: KernelProfile = {
    kernels: 0,
    matmuls: 0,
    kernelMs: 0,
    under50us: 0,
    byKernel: new Map(),
    bySite: new Map(),
  };
  const tally = (m: Map<string, KernelTally>, key: string, ms: number): void => {
    const t = m.get(key);
    if (t === undefined) m.set(key, { count: 1, ms });
    else {
      t.count++;
      t.ms += ms;
    }
  };
  let depth = 0;
  const stackLimit = Error.stackTraceLimit;
  if (options.sites) Error.stackTraceLimit = 80;
  engine.runKernel = function (this: unknown, name: string, inputs: unknown, attrs?: unknown): unknown {
    if (depth > 0) return original.call(this, name, inputs, attrs);
    const site = options.sites ? callSite(new Error().stack ?? '') : '';
    depth++;
    const t0 = performance.now();
    try {
      return original.call(this, name, inputs, attrs);
    } finally {
      const ms = performance.now() - t0;
      depth--;
      profile.kernels++;
      if (MATMULS.has(name)) profile.matmuls++;
      profile.kernelMs += ms;
      if (ms < 0.05) profile.under50us++;
      tally(profile.byKernel, name, ms);
      if (options.sites) tally(profile.bySite, `${site} ${name}`, ms);
    }
  };
  try {
    return { result: fn(), profile };
  } finally {
    engine.runKernel = original;
    Error.stackTraceLimit = stackLimit;
  }
}

/** The first frame in the project's models/ code outside ops.ts (its product helpers), "file:function". */
function callSite(stack: string): string {
  const lines = stack.split('\n').slice(2);
  const backward = lines.some((l) => l.includes('backpropagateGradients'));
  for (const l of lines) {
    const m = /at (?:(\S+) \()?.*\/models\/([^:)]+):(\d+)/.exec(l);
    if (m === null || m[2].endsWith('bench/kernel-profile.ts') || m[2].endsWith('lm/ops.ts')) continue;
    return `${backward ? 'backward ' : ''}${m[2]}:${m[1] ?? '?'}:${m[3]}`;
  }
  return backward ? 'backward (tf)' : '(tf)';
}
