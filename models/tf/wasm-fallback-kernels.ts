/**
 * Fallback kernels for ops the wasm backend lacks (SPEC §3): UnsortedSegmentSum (the gradient of gather / embedding
 * lookup), Conv2DBackpropFilter (the weight gradient of conv2d) and Einsum — each a bridge to the pure-JS cpu backend's
 * own kernel (cpu-fallback-kernels.ts).
 */
import { registerCpuFallback } from './cpu-fallback-kernels';

/** Kernels missing from @tensorflow/tfjs-backend-wasm 4.22 that this project needs. */
export const WASM_FALLBACK_KERNELS = ['UnsortedSegmentSum', 'Conv2DBackpropFilter', 'Einsum'] as const;

let registered = false;

/**
 * Registers the fallbacks for backend 'wasm' (only for kernels wasm does not already have).
 * Safe to call more than once; call it after importing @tensorflow/tfjs-backend-wasm.
 * Returns the kernel names registered by this call.
 */
export function registerWasmFallbackKernels(): string[] {
  if (registered) return [];
  registered = true;
  return WASM_FALLBACK_KERNELS.filter((name) => registerCpuFallback(name, 'wasm'));
}
