/**
 * A zero-copy Identity for the wasm backend. tfjs-backend-wasm 4.22's Identity copies its input into a new heap
 * buffer, where the cpu and WebGL backends share the data and count a reference. Identity is what `tf.clone` runs,
 * and the gradient tape clones every tensor a kernel or a custom gradient saves for the backward, so on wasm each
 * saved activation was copied once more: 2,520 copies (175 ms, 3.4 %) per masked step of the paper setting.
 *
 * Sharing is safe because tensor data on this backend is immutable: every kernel, wasm's and this project's
 * (native matmuls, vector kernels, AdamW, the per-row kernels), writes a fresh output, Reshape already shares its
 * input's buffer the same way, and a variable's assign swaps buffers instead of writing into one. Values are the
 * same bits either way; only the copy goes. `AIMKP_WASM_IDENTITY=copy` keeps wasm's copying kernel (an A/B).
 */
import * as tf from '@tensorflow/tfjs';

/** The wasm backend's reference counting (BackendWasm.incRef; its Reshape uses it). */
interface RefCounting {
  incRef(dataId: object): void;
}

let original: tf.KernelConfig | null = null;

/** Replaces wasm's Identity with the sharing one; false when turned off or the backend lacks what it needs. */
export function registerSharedIdentity(): boolean {
  if (original !== null) return true;
  if (process.env.AIMKP_WASM_IDENTITY?.trim() === 'copy') return false;
  const config = tf.getKernel('Identity', 'wasm');
  if (config === undefined) return false;
  original = config;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const backend = args.backend as Partial<RefCounting>;
      // Strings live outside the heap; a backend without incRef keeps the copy.
      if (x.dtype === 'string' || typeof backend.incRef !== 'function') return config.kernelFunc(args);
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  return true;
}

/** Puts wasm's copying Identity back (tests). */
export function unregisterSharedIdentity(): void {
  if (original === null) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel(original);
  original = null;
}

/** Whether the sharing Identity is registered. */
export function sharedIdentityActive(): boolean {
  return original !== null;
}
