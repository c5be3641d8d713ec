/**
 * Fallback kernels for ops the WebGPU backend lacks, each a bridge to the pure-JS cpu backend's own kernel
 * (cpu-fallback-kernels.ts; the inputs are read back with the Node sync read of webgpu-sync-read.ts).
 *
 * @tensorflow/tfjs-backend-webgpu 4.22 registers 162 kernels; of the cpu backend's 172 it lacks exactly these. None is
 * used by the training step, decoding or the image encoders (test/tf/webgpu-kernels.test.ts records the kernels those
 * run and checks them against the registry); they are bridged so that a user's graph model (`--encoder tfjs:…`) that
 * happens to use one still runs. The test also fails when a tfjs upgrade changes the list.
 */
import { registerCpuFallback } from './cpu-fallback-kernels';

export const WEBGPU_FALLBACK_KERNELS = [
  'BitwiseAnd',
  'NonMaxSuppressionV4',
  'RaggedGather',
  'RaggedRange',
  'RaggedTensorToTensor',
  'SparseFillEmptyRows',
  'SparseReshape',
  'StaticRegexReplace',
  'StringSplit',
  'StringToHashBucketFast',
  'Unique',
] as const;

let registered = false;

/**
 * Registers the fallbacks for backend 'webgpu' (only for kernels it does not already have). Safe to call more than
 * once; call it after importing @tensorflow/tfjs-backend-webgpu. Returns the kernel names registered by this call.
 */
export function registerWebGpuFallbackKernels(): string[] {
  if (registered) return [];
  registered = true;
  return WEBGPU_FALLBACK_KERNELS.filter((name) => registerCpuFallback(name, 'webgpu'));
}
