// SIMD loops over float32 rows in the wasm backend's own heap — a dot product, y += w·x and the AdamW update — as a
// tiny WebAssembly module assembled here (no toolchain) that imports the backend's memory. JS loops over heap views ran at
// ~2.5 ns per multiply-add on this machine; these run 4 lanes at a time. Used by wasm-kernels.ts for the per-row
// Gram entries and the weighted row sums of combine(); when the module cannot be built or the backend's memory is
// not reachable, `heapSimd()` is null and the kernels keep their JS loops.

export interface HeapSimd {
  /** Σ_k a[k]·b[k] over n float32s at byte offsets a and b (float64 accumulation). */
  dot(a: number, b: number, n: number): number;
  /** y[k] += w·x[k] for n float32s at byte offsets y and x. */
  axpy(y: number, x: number, w: number, n: number): void;
  /**
   * One AdamW update of n float32s (byte offsets; the outputs may not alias the inputs), every operation a float32
   * one in the order of AdamW's tensor ops, so the bits are theirs:
   *   g' = g·c;  m' = m·b1 + g'·c1;  v' = v·b2 + (g'·g')·c2;  p' = p·decay − (m' / (√v' / sqrtBc2 + eps))·step.
   */
  adamw(
    p: number,
    g: number,
    m: number,
    v: number,
    outP: number,
    outM: number,
    outV: number,
    n: number,
    c: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    decay: number,
    sqrtBc2: number,
    eps: number,
    step: number,
  ): void;
}

// Opcodes used below (core and SIMD: 0xfd prefix, LEB128 sub-opcode).
const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  i32const: (v: number) => [0x41, ...sleb(v)],
  i32add: [0x6a],
  i32shl: [0x74],
  i32geU: [0x4f],
  i32gtU: [0x4b],
  f32load: [0x2a, 0x02, 0x00],
  f32store: [0x38, 0x02, 0x00],
  f32mul: [0x94],
  f32add: [0x92],
  f32sub: [0x93],
  f32div: [0x95],
  f32sqrt: [0x91],
  f64add: [0xa0],
  f64promote: [0xbb],
  v128load: [0xfd, 0x00, 0x00, 0x00],
  v128store: [0xfd, 0x0b, 0x00, 0x00],
  f32x4splat: [0xfd, 0x13],
  f32x4add: [0xfd, 0xe4, 0x01],
  f32x4mul: [0xfd, 0xe6, 0x01],
  f32x4sub: [0xfd, 0xe5, 0x01],
  f32x4div: [0xfd, 0xe7, 0x01],
  f32x4sqrt: [0xfd, 0xe3, 0x01],
  f64x2add: [0xfd, 0xf0, 0x01],
  f64x2promoteLow: [0xfd, 0x5f],
  f64x2extract: (lane: number) => [0xfd, 0x21, lane],
  // Lanes 2, 3 of a f32x4 moved to lanes 0, 1 (bytes 8..15 first).
  shuffleHigh: [0xfd, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15],
};

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
/** A function body: local declarations (count, type) and code. */
const body = (locals: [number, number][], code: number[][]): number[] => {
  const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code.flat(), ...op.end];
  return [...uleb(b.length), ...b];
};
/** byte address base + 4·i (params/locals by index). */
const addr = (base: number, i: number): number[][] => [op.get(base), op.get(i), op.i32const(2), op.i32shl, op.i32add];

/**
 * `for (; i + step <= n; i += step) body` (for step 1: `i < n`) over the i32 locals i and n, as a block/loop pair:
 * the skeleton every loop of this module shares, SIMD main loops (step 4) and their scalar tails (step 1) alike.
 */
const stepLoop = (i: number, n: number, step: number, loopBody: number[][]): number[][] => [
  op.block,
  op.loop,
  ...(step === 1 ? [op.get(i), op.get(n), op.i32geU] : [op.get(i), op.i32const(step), op.i32add, op.get(n), op.i32gtU]),
  op.brIf(1),
  ...loopBody,
  op.get(i),
  op.i32const(step),
  op.i32add,
  op.set(i),
  op.br(0),
  op.end,
  op.end,
];

/**
 * The AdamW loop's body for one lane group: `load(base)` pushes p/g/m/v at the current index, `store(base, value)`
 * writes an output, and the arithmetic ops are the vector or the scalar ones — the same expression for the SIMD
 * loop and its scalar tail.
 */
function adamwBody(
  load: (param: number) => number[][],
  store: (param: number, value: number[][]) => number[][],
  k: { mul: number[]; add: number[]; sub: number[]; div: number[]; sqrt: number[] },
  scalar: (param: number) => number[],
  G: number,
  M: number,
  V: number,
): number[][] {
  // Parameters: 0 p, 1 g, 2 m, 3 v, 4 outP, 5 outM, 6 outV, 7 n; 8 c, 9 b1, 10 c1, 11 b2, 12 c2, 13 decay,
  // 14 sqrtBc2, 15 eps, 16 step.
  return [
    ...load(1),
    scalar(8),
    k.mul,
    op.set(G),
    ...load(2),
    scalar(9),
    k.mul,
    op.get(G),
    scalar(10),
    k.mul,
    k.add,
    op.set(M),
    ...load(3),
    scalar(11),
    k.mul,
    op.get(G),
    op.get(G),
    k.mul,
    scalar(12),
    k.mul,
    k.add,
    op.set(V),
    ...store(5, [op.get(M)]),
    ...store(6, [op.get(V)]),
    ...store(4, [
      ...load(0),
      scalar(13),
      k.mul,
      op.get(M),
      op.get(V),
      k.sqrt,
      scalar(14),
      k.div,
      scalar(15),
      k.add,
      k.div,
      scalar(16),
      k.mul,
      k.sub,
    ]),
  ];
}

/** The module's bytes: imports env.memory; exports dot, axpy and adamw. */
export function heapSimdModule(): Uint8Array<ArrayBuffer> {
  // dot(a, b, n) -> f64. Locals: 3 i (i32), 4 acc0 (v128: lanes 0-1 as f64x2), 5 acc1 (lanes 2-3), 6 prod (v128), 7 s (f64).
  const dot = body(
    [
      [1, I32],
      [3, V128],
      [1, F64],
    ],
    [
      ...stepLoop(3, 2, 4, [
        ...addr(0, 3),
        op.v128load,
        ...addr(1, 3),
        op.v128load,
        op.f32x4mul,
        op.set(6),
        op.get(4),
        op.get(6),
        op.f64x2promoteLow,
        op.f64x2add,
        op.set(4),
        op.get(5),
        op.get(6),
        op.get(6),
        op.shuffleHigh,
        op.f64x2promoteLow,
        op.f64x2add,
        op.set(5),
      ]),
      // s = acc0[0] + acc0[1] + acc1[0] + acc1[1]
      op.get(4),
      op.f64x2extract(0),
      op.get(4),
      op.f64x2extract(1),
      op.f64add,
      op.get(5),
      op.f64x2extract(0),
      op.f64add,
      op.get(5),
      op.f64x2extract(1),
      op.f64add,
      op.set(7),
      // tail: while (i < n) s += a[i]·b[i]
      ...stepLoop(3, 2, 1, [
        op.get(7),
        ...addr(0, 3),
        op.f32load,
        ...addr(1, 3),
        op.f32load,
        op.f32mul,
        op.f64promote,
        op.f64add,
        op.set(7),
      ]),
      op.get(7),
    ],
  );
  // axpy(y, x, w: f32, n). Locals: 4 i (i32), 5 wv (v128).
  const axpy = body(
    [
      [1, I32],
      [1, V128],
    ],
    [
      op.get(2),
      op.f32x4splat,
      op.set(5),
      ...stepLoop(4, 3, 4, [
        ...addr(0, 4),
        ...addr(0, 4),
        op.v128load,
        op.get(5),
        ...addr(1, 4),
        op.v128load,
        op.f32x4mul,
        op.f32x4add,
        op.v128store,
      ]),
      ...stepLoop(4, 3, 1, [
        ...addr(0, 4),
        ...addr(0, 4),
        op.f32load,
        op.get(2),
        ...addr(1, 4),
        op.f32load,
        op.f32mul,
        op.f32add,
        op.f32store,
      ]),
    ],
  );
  // adamw(p, g, m, v, outP, outM, outV, n, 9 × f32). Locals: 17 i (i32); 18–26 the scalars splatted (v128);
  // 27 G, 28 M, 29 V (v128); 30 G, 31 M, 32 V of the scalar tail (f32).
  const splat = (param: number) => param + 10;
  const vectorOps = { mul: op.f32x4mul, add: op.f32x4add, sub: op.f32x4sub, div: op.f32x4div, sqrt: op.f32x4sqrt };
  const scalarOps = { mul: op.f32mul, add: op.f32add, sub: op.f32sub, div: op.f32div, sqrt: op.f32sqrt };
  const adamw = body(
    [
      [1, I32],
      [12, V128],
      [3, F32],
    ],
    [
      ...[8, 9, 10, 11, 12, 13, 14, 15, 16].flatMap((param) => [op.get(param), op.f32x4splat, op.set(splat(param))]),
      ...stepLoop(17, 7, 4, [
        ...adamwBody(
          (base) => [...addr(base, 17), op.v128load],
          (base, value) => [...addr(base, 17), ...value, op.v128store],
          vectorOps,
          (param) => op.get(splat(param)),
          27,
          28,
          29,
        ),
      ]),
      ...stepLoop(17, 7, 1, [
        ...adamwBody(
          (base) => [...addr(base, 17), op.f32load],
          (base, value) => [...addr(base, 17), ...value, op.f32store],
          scalarOps,
          (param) => op.get(param),
          30,
          31,
          32,
        ),
      ]),
    ],
  );
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // types: 0 = (i32 i32 i32) -> f64, 1 = (i32 i32 f32 i32) -> (), 2 = (8 × i32, 9 × f32) -> ()
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[F64]])],
        [0x60, ...vec([[I32], [I32], [F32], [I32]]), ...vec([])],
        [0x60, ...vec([...Array(8).fill([I32]), ...Array(9).fill([F32])]), ...vec([])],
      ]),
    ),
    // import env.memory (min 1 page, no maximum)
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(
      7,
      vec([
        [...name('dot'), 0x00, 0],
        [...name('axpy'), 0x00, 1],
        [...name('adamw'), 0x00, 2],
      ]),
    ),
    ...section(10, vec([dot, axpy, adamw])),
  ];
  return new Uint8Array(bytes);
}

const cache = new WeakMap<WebAssembly.Memory, HeapSimd | null>();

/** The helpers bound to `memory` (the wasm backend's heap), or null when they cannot be built there. */
export function heapSimd(memory: WebAssembly.Memory | undefined): HeapSimd | null {
  if (memory === undefined || !(memory instanceof WebAssembly.Memory)) return null;
  if (cache.has(memory)) return cache.get(memory)!;
  let helpers: HeapSimd | null = null;
  try {
    const bytes = heapSimdModule();
    if (WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      const e = instance.exports as unknown as HeapSimd;
      if (typeof e.dot === 'function' && typeof e.axpy === 'function' && typeof e.adamw === 'function')
        helpers = { dot: e.dot, axpy: e.axpy, adamw: e.adamw };
    }
  } catch {
    helpers = null;
  }
  cache.set(memory, helpers);
  return helpers;
}
