// Example sets in shared memory. Image features are the bulk of a run's data (train + valid at 2,566 × 49 × 1792
// float32 is about 1 GB): rank 0 copies each distinct feature array once into SharedArrayBuffers and, when asked,
// points its own examples at the shared copies (so the originals can be freed); the workers view the same memory.
// Texts and answers are small and travel by value. A set that reuses arrays already shared (e.g. a robustness
// condition that changes only texts) adds no buffer.
import type { EncodedExample } from '../lm/contract';
import type { SharedExampleRow, SharedExampleSet, SharedImageRef } from './pool-protocol';

/** Floats per SharedArrayBuffer (256 MB): large sets span several. */
const MAX_BUFFER_FLOATS = 64 * 2 ** 20;

/** Rank 0's side: which feature arrays live where, and which set owns which buffer. */
export class FeatureSharer {
  private nextId = 1;
  /** A shared array (original or its shared view) → where it lives and rank 0's view on it. */
  private readonly where = new WeakMap<Float32Array, { ref: SharedImageRef; view: Float32Array }>();
  /** Buffers each set created (no strong reference to the arrays: the originals can be freed). */
  private readonly sets = new Map<string, number[]>();
  /** Buffers of dropped sets: arrays still mapped to them count as not shared. */
  private readonly dropped = new Set<number>();

  /**
   * Describes `examples` for the workers, copying images not yet shared into new buffers (owned by set `name`).
   * `replaceImages`: rank 0's examples then hold views on the shared copies (same values, memory held once).
   */
  pack(name: string, examples: EncodedExample[], replaceImages: boolean): SharedExampleSet {
    const fresh: Float32Array[] = [];
    const seen = new Set<Float32Array>();
    for (const e of examples) {
      if (e.image === null || this.lookup(e.image) !== null || seen.has(e.image)) continue;
      seen.add(e.image);
      fresh.push(e.image);
    }
    const owned: number[] = [];
    const buffers: SharedExampleSet['buffers'] = [];
    let i = 0;
    while (i < fresh.length) {
      // Fill one buffer with as many whole arrays as fit (an array larger than the cap gets its own buffer).
      let floats = 0;
      let j = i;
      while (j < fresh.length && (j === i || floats + fresh[j].length <= MAX_BUFFER_FLOATS))
        floats += fresh[j++].length;
      const id = this.nextId++;
      const sab = new SharedArrayBuffer(floats * 4);
      const all = new Float32Array(sab);
      let offset = 0;
      for (const a of fresh.slice(i, j)) {
        all.set(a, offset);
        const ref = { buffer: id, offset, length: a.length };
        const view = all.subarray(offset, offset + a.length);
        this.where.set(a, { ref, view });
        this.where.set(view, { ref, view });
        offset += a.length;
      }
      buffers.push({ id, buffer: sab });
      owned.push(id);
      i = j;
    }
    const rows: SharedExampleRow[] = examples.map((e) => ({
      index: e.index,
      id: e.id,
      text: e.text,
      answer: e.answer,
      image: e.image === null ? null : this.lookup(e.image)!.ref,
    }));
    if (replaceImages) for (const e of examples) if (e.image !== null) e.image = this.lookup(e.image)!.view;
    this.sets.set(name, [...(this.sets.get(name) ?? []), ...owned]);
    return { buffers, rows };
  }

  private lookup(a: Float32Array): { ref: SharedImageRef; view: Float32Array } | null {
    const w = this.where.get(a);
    return w === undefined || this.dropped.has(w.ref.buffer) ? null : w;
  }

  /** Forgets set `name`; returns the buffers it owned (the workers drop them too). */
  drop(name: string): number[] {
    const owned = this.sets.get(name) ?? [];
    this.sets.delete(name);
    for (const id of owned) this.dropped.add(id);
    return owned;
  }
}

/** The workers' side: shared buffers by id and example sets by name. */
export class SharedExampleStore {
  private readonly buffers = new Map<number, Float32Array>();
  private readonly sets = new Map<string, EncodedExample[]>();

  add(name: string, set: SharedExampleSet): void {
    for (const b of set.buffers) this.buffers.set(b.id, new Float32Array(b.buffer));
    this.sets.set(
      name,
      set.rows.map((r) => ({
        index: r.index,
        id: r.id,
        text: r.text,
        answer: r.answer,
        image: r.image === null ? null : this.view(r.image),
      })),
    );
  }

  get(name: string): EncodedExample[] {
    const set = this.sets.get(name);
    if (!set) throw new Error(`no example set "${name}" on this worker`);
    return set;
  }

  drop(name: string, buffers: number[]): void {
    this.sets.delete(name);
    for (const id of buffers) this.buffers.delete(id);
  }

  private view(ref: SharedImageRef): Float32Array {
    const all = this.buffers.get(ref.buffer);
    if (!all) throw new Error(`shared feature buffer ${ref.buffer} is unknown on this worker`);
    return all.subarray(ref.offset, ref.offset + ref.length);
  }
}
