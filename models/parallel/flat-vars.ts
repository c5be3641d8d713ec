// One flat float32 vector over a list of variables (the trainable ones, in the optimizer's order): the layout of
// the shared weights buffer and of every rank's gradient slot.
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

/** Writes tensors (one per layout entry) into `out`. */
export function writeFlat(tensors: readonly tf.Tensor[], layout: FlatLayout, out: Float32Array): void {
  if (tensors.length !== layout.names.length)
    throw new Error(`flat layout: ${tensors.length} tensors for ${layout.names.length} variables`);
  tensors.forEach((t, i) => {
    if (t.size !== layout.sizes[i])
      throw new Error(`flat layout: "${layout.names[i]}" has ${t.size} values, expected ${layout.sizes[i]}`);
    out.set(t.dataSync() as Float32Array, layout.offsets[i]);
  });
}

/** Tensors (one per layout entry) holding copies of `flat`'s ranges. Caller disposes. */
export function tensorsOfFlat(flat: Float32Array, layout: FlatLayout): tf.Tensor[] {
  // slice(): a copy, so that no backend keeps a view on memory another thread writes.
  return layout.names.map((_, i) =>
    tf.tensor(flat.slice(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), layout.shapes[i], 'float32'),
  );
}

/** Assigns `flat`'s ranges to `vars` (in layout order). */
export function assignFlat(vars: readonly tf.Variable[], flat: Float32Array, layout: FlatLayout): void {
  const values = tensorsOfFlat(flat, layout);
  try {
    vars.forEach((v, i) => v.assign(values[i]));
  } finally {
    tf.dispose(values);
  }
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
