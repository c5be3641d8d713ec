/**
 * Staging arrays for the values of new tensors. A step builds several megabytes of float32 input per batch (the
 * batch's image features: 16 × 49 × 1792 values are 5.6 MB; the adapter's ghost-norm blocks more). Allocated fresh
 * each time, they are ArrayBuffers that V8 counts as external memory, one of the triggers of its full collections
 * (--trace-gc: 86 in a 100-step baseline training, 77 with these arrays reused), which run partly on V8's
 * background threads, which share the cores with the data-parallel ranks. The wasm backend copies a new tensor's
 * values into its heap at creation, so one grow-only array per call site can be refilled instead. Backends that
 * keep the caller's array (cpu; webgpu until its upload) get a fresh array, so reuse never changes a tensor they
 * hold.
 */
import * as tf from '@tensorflow/tfjs';

/** Whether tensors made now copy their values at creation (so the source array may be reused at once). */
export function backendCopiesValues(): boolean {
  return tf.getBackend() === 'wasm';
}

export class StagingF32 {
  private buf = new Float32Array(0);

  /**
   * n float32 values, zeroed unless `zero` is false (every value is then the caller's to write). On a copying
   * backend the array is this stage's buffer: valid until the next `take`, so only for values handed to a tensor
   * (or read) before then. Elsewhere a new array.
   */
  take(n: number, zero = true): Float32Array {
    if (!backendCopiesValues()) return new Float32Array(n);
    if (this.buf.length < n) this.buf = new Float32Array(Math.max(n, Math.ceil(this.buf.length * 1.25)));
    const a = this.buf.subarray(0, n);
    if (zero) a.fill(0);
    return a;
  }

  /** The buffer's length (what it holds between steps). */
  get capacity(): number {
    return this.buf.length;
  }
}
