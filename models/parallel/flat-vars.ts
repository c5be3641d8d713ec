// One flat float32 vector over a list of variables (the optimizer's, in its slot order): the layout of every
// rank's gradient slot and of the shared sum.
import * as tf from '@tensorflow/tfjs';

export interface FlatLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  sizes: number[];
  /** Floats in all. */
  total: number;
}

/** The layout of `vars`, named by `named` (the checkpoint names, identical on every replica). */
export function flatLayout(vars: readonly tf.Variable[], named: Map<string, tf.Variable>): FlatLayout {
  const nameOf = new Map<tf.Variable, string>();
  for (const [name, v] of named) nameOf.set(v, name);
  const layout: FlatLayout = { names: [], shapes: [], offsets: [], sizes: [], total: 0 };
  for (const v of vars) {
    layout.names.push(nameOf.get(v) ?? v.name);
    layout.shapes.push(v.shape.slice());
    layout.offsets.push(layout.total);
    layout.sizes.push(v.size);
    layout.total += v.size;
  }
  return layout;
}

/**
 * Where each layout entry is in `vars` (a step's gradients come one per trainable variable, in the model's order;
 * the layout holds the optimizer's, which may be fewer: pretraining leaves the adapter out).
 */
export function layoutIndices(
  layout: FlatLayout,
  vars: readonly tf.Variable[],
  named: Map<string, tf.Variable>,
): number[] {
  const index = new Map<string, number>();
  const nameOf = new Map<tf.Variable, string>();
  for (const [name, v] of named) nameOf.set(v, name);
  vars.forEach((v, i) => index.set(nameOf.get(v) ?? v.name, i));
  return layout.names.map((name) => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`flat layout: "${name}" is not among the step's gradients`);
    return i;
  });
}

/** The wasm backend's view of a tensor's values on its heap (no copy); absent on other backends. */
interface HeapViews {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function heapViews(): HeapViews | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as Partial<HeapViews>;
  return typeof backend.typedArrayFromHeap === 'function' ? (backend as HeapViews) : null;
}

/**
 * Writes tensors (one per layout entry) into `out`. On wasm straight from the heap (one copy); elsewhere through
 * dataSync (which copies out of the backend first).
 */
export function writeFlat(tensors: readonly tf.Tensor[], layout: FlatLayout, out: Float32Array): void {
  if (tensors.length !== layout.names.length)
    throw new Error(`flat layout: ${tensors.length} tensors for ${layout.names.length} variables`);
  const heap = heapViews();
  tensors.forEach((t, i) => {
    if (t.size !== layout.sizes[i])
      throw new Error(`flat layout: "${layout.names[i]}" has ${t.size} values, expected ${layout.sizes[i]}`);
    if (t.dtype !== 'float32') throw new Error(`flat layout: "${layout.names[i]}" is ${t.dtype}, expected float32`);
    out.set((heap ? heap.typedArrayFromHeap(t) : t.dataSync()) as Float32Array, layout.offsets[i]);
  });
}

/** Tensors (one per layout entry) holding copies of `flat`'s ranges. Caller disposes. */
export function tensorsOfFlat(flat: Float32Array, layout: FlatLayout): tf.Tensor[] {
  // The wasm backend copies the values onto its heap at once, so a view suffices; other backends may keep the array
  // they are given (cpu) or read it later (webgpu): they get a copy, so that none keeps a view on memory another
  // thread writes.
  const copy = heapViews() === null;
  return layout.names.map((_, i) => {
    const view = flat.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
    return tf.tensor(copy ? view.slice() : view, layout.shapes[i], 'float32');
  });
}

/**
 * out[i] = slots[0][i] + slots[1][i] + … for i in [start, end), added left to right with float32 rounding after
 * each addition: the same arithmetic whichever thread reduces which range, so the sum does not depend on K's split.
 */
export function sumSlots(slots: readonly Float32Array[], out: Float32Array, start: number, end: number): void {
  out.set(slots[0].subarray(start, end), start);
  for (let r = 1; r < slots.length; r++) {
    const s = slots[r];
    for (let i = start; i < end; i++) out[i] += s[i];
  }
}
