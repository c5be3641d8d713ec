/**
 * A kernel some backend lacks, served by the pure-JS cpu backend's own kernel: the inputs are read out of the target
 * backend (readSync), the cpu kernel runs on copies, and each output is written back as a new tensor of the target
 * backend. Reusing the cpu kernels keeps the semantics identical to TF.js's reference implementation; the copies are
 * cheap next to the op itself for the sizes they are used at (embedding gradients, small convs, rare ops).
 * Used by wasm-fallback-kernels.ts and webgpu-fallback-kernels.ts.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** The backends that get fallbacks, and how each makes an output tensor from values. */
export type FallbackTarget = 'wasm' | 'webgpu';

/** The parts of a backend (target or cpu) the bridge uses. */
interface DataBackend {
  readSync(dataId: object): BackendValues;
  write(values: BackendValues | null, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}
interface WasmBackendLike extends DataBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: BackendValues): TensorInfo;
}
interface WebGpuBackendLike extends DataBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: BackendValues): TensorInfo;
}

interface KernelArgs {
  /** A name → tensor map for most kernels; an array for variadic ones (Einsum). */
  inputs: Record<string, TensorInfo> | TensorInfo[];
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** Registers `kernelName` for `target` as a bridge to the cpu kernel. False if the target already has it. */
export function registerCpuFallback(kernelName: string, target: FallbackTarget): boolean {
  if (tf.getKernel(kernelName, target) !== undefined) return false;
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (cpuKernel === undefined) throw new Error(`no cpu kernel ${kernelName} to fall back to`);
  tf.registerKernel({
    kernelName,
    backendName: target,
    kernelFunc: ((args: KernelArgs) => runOnCpu(cpuKernel.kernelFunc, args, target)) as unknown as tf.KernelFunc,
  });
  return true;
}

function makeOutput(target: FallbackTarget, backend: unknown, out: TensorInfo, values: BackendValues): TensorInfo {
  if (target === 'wasm') return (backend as WasmBackendLike).makeOutput(out.shape, out.dtype, undefined, values);
  return (backend as WebGpuBackendLike).makeTensorInfo(out.shape, out.dtype, values);
}

function runOnCpu(cpuFunc: tf.KernelFunc, args: KernelArgs, target: FallbackTarget): TensorInfo | TensorInfo[] {
  const source = args.backend as DataBackend;
  const cpu = tf.findBackend('cpu') as unknown as DataBackend | null;
  if (!cpu) throw new Error(`cpu backend unavailable for the ${target} fallback kernels`);
  // The cpu backend's first write prints an "install tfjs-node" banner; it is only a scratch pad here.
  const flagged = cpu as unknown as { firstUse?: boolean };
  if ('firstUse' in flagged) flagged.firstUse = false;

  // Copy the inputs into the cpu backend (keeping the array / map shape the kernel expects).
  const toCpu = (info: TensorInfo): TensorInfo => ({
    dataId: cpu.write(source.readSync(info.dataId), info.shape, info.dtype),
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
    // Copy each output back into a fresh tensor of the target backend, then free the cpu copy.
    const copied = outputs.map((out) => {
      const values = cpu.readSync(out.dataId);
      const targetOut = makeOutput(target, args.backend, out, values);
      cpu.disposeData(out.dataId, true);
      return targetOut;
    });
    return Array.isArray(result) ? copied : copied[0];
  } finally {
    for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId, true);
  }
}
