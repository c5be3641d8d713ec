/**
 * Fallback kernels for ops the wasm backend lacks (SPEC §3): UnsortedSegmentSum (the gradient of
 * gather / embedding lookup), Conv2DBackpropFilter (the weight gradient of conv2d) and Einsum.
 *
 * Each fallback copies its inputs out of the wasm heap (backend.readSync), runs the pure-JS cpu backend's
 * own kernel on them, and copies the result back into a new wasm tensor (backend.makeOutput with values).
 * Reusing the cpu kernels keeps the semantics identical to TF.js's reference implementation; the copies
 * are cheap next to the op itself for the sizes used here (embedding gradients, small convs).
 */
import * as tf from '@tensorflow/tfjs';

/** Kernels missing from @tensorflow/tfjs-backend-wasm 4.22 that this project needs. */
export const WASM_FALLBACK_KERNELS = ['UnsortedSegmentSum', 'Conv2DBackpropFilter', 'Einsum'] as const;

type TensorInfo = tf.TensorInfo;
type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** The parts of a backend (wasm or cpu) these fallbacks use. */
interface DataBackend {
  readSync(dataId: object): BackendValues;
  write(values: BackendValues | null, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface WasmBackendLike extends DataBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: BackendValues): TensorInfo;
}

interface KernelArgs {
  /** A name → tensor map for most kernels; an array for variadic ones (Einsum). */
  inputs: Record<string, TensorInfo> | TensorInfo[];
  backend: unknown;
  attrs?: Record<string, unknown>;
}

let registered = false;

/**
 * Registers the fallbacks for backend 'wasm' (only for kernels wasm does not already have).
 * Safe to call more than once; call it after importing @tensorflow/tfjs-backend-wasm.
 * Returns the kernel names registered by this call.
 */
export function registerWasmFallbackKernels(): string[] {
  if (registered) return [];
  registered = true;
  const added: string[] = [];
  for (const name of WASM_FALLBACK_KERNELS) {
    if (registerCpuFallback(name)) added.push(name);
  }
  return added;
}

/** Registers `kernelName` for wasm as a bridge to the cpu kernel. False if wasm already has it. */
export function registerCpuFallback(kernelName: string): boolean {
  if (tf.getKernel(kernelName, 'wasm') !== undefined) return false;
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (cpuKernel === undefined) throw new Error(`no cpu kernel ${kernelName} to fall back to`);
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => runOnCpu(cpuKernel.kernelFunc, args)) as unknown as tf.KernelFunc,
  });
  return true;
}

function runOnCpu(cpuFunc: tf.KernelFunc, args: KernelArgs): TensorInfo | TensorInfo[] {
  const wasm = args.backend as WasmBackendLike;
  const cpu = tf.findBackend('cpu') as unknown as DataBackend | null;
  if (!cpu) throw new Error('cpu backend unavailable for the wasm fallback kernels');
  // The cpu backend's first write prints an "install tfjs-node" banner; it is only a scratch pad here.
  const flagged = cpu as unknown as { firstUse?: boolean };
  if ('firstUse' in flagged) flagged.firstUse = false;

  // Copy the inputs into the cpu backend (keeping the array / map shape the kernel expects).
  const toCpu = (info: TensorInfo): TensorInfo => ({
    dataId: cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype),
    shape: info.shape,
    dtype: info.dtype,
  });
  const cpuInputs: Record<string, TensorInfo> | TensorInfo[] = Array.isArray(args.inputs)
    ? args.inputs.map(toCpu)
    : Object.fromEntries(Object.entries(args.inputs).map(([key, info]) => [key, toCpu(info)]));
  try {
    const result = (cpuFunc as unknown as (a: KernelArgs) => TensorInfo | TensorInfo[])({
      inputs: cpuInputs,
      backend: cpu,
      attrs: args.attrs ?? {},
    });
    const outputs = Array.isArray(result) ? result : [result];
    // Copy each output back into a fresh wasm tensor, then free the cpu copy.
    const copied = outputs.map((out) => {
      const values = cpu.readSync(out.dataId);
      const wasmOut = wasm.makeOutput(out.shape, out.dtype, undefined, values);
      cpu.disposeData(out.dataId, true);
      return wasmOut;
    });
    return Array.isArray(result) ? copied : copied[0];
  } finally {
    for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId, true);
  }
}
