// Per-row gradients for AimKP's cosine filter from ONE batched forward/backward of Σ_r L_r per length pass.
//
// Rows never interact (no batch statistics; attention is within a row), so ∂(Σ_s L_s)/∂y_r = ∂L_r/∂y_r for every
// activation y_r of row r. For a linear use y = x·W + b the per-row weight gradient is therefore x_rᵀ·δ_r with
// δ = ∂(ΣL)/∂y (bias: Σ_t δ_r,t); LayerNorm gains Σ_t δ⊙xhat; embeddings scatter δ at the embedding input by
// token / position id. forward.ts records x and δ (via a customGrad probe) for every trainable site; this module
// turns them into the Gram entries the caller needs and into Σ_r w_r·g_r on demand.
//
// The work is organised per trainable variable over ALL passes of a call (not per pass and per row pair), so a
// step issues a few kernels per variable rather than a few per row (docs/model.md, "Gradients"):
// - LM-sized weights: every row's x_rᵀ·δ_r in one kernel (rowwise-outer.ts), the needed dots in the same kernel;
//   combine() is then one (1 × R)·(R × din·dout) product;
// - the adapter's first layer (x = constant image features, C wide): per group of rows sharing images, the image
//   Gram K = F·Fᵀ (G² × G²) and K·δ̃ replace the C-wide per-row products;
// - the output layer (dout = vocabulary): per group, (X·Xᵀ) ⊙ (D·Dᵀ) summed over row blocks ("ghost" form);
// - biases and LayerNorms: per-row sums, read back once and dotted in JS.
import * as tf from '@tensorflow/tfjs';
import type { PerRowGradients } from './contract';
import type { BatchLayout } from './layout';
import type { ForwardInputs, ForwardOptions, LinearSite, NormSite, Site } from './forward';
import type { ModelParams } from './params';
import { forwardRowLosses } from './forward';
import { matmulNT, matmulTN, weightedRowSum } from './ops';
import { rowwiseOuter } from './rowwise-outer';
import { StagingF32 } from '../tf/staging';

/** Reused arrays for the ghost-norm blocks (models/tf/staging.ts): up to several MB per step each. */
const STAGE = {
  x: new StagingF32(),
  d: new StagingF32(),
  images: new StagingF32(),
  deltas: new StagingF32(),
  weighted: new StagingF32(),
};

/** One pass's captured activations and gradients (rows given by their index in the whole call). */
export interface PassCapture {
  /** Call-level row index of each of this pass's batch rows. */
  rows: number[];
  losses: Float32Array;
  answerTokens: Int32Array;
  sites: Site[];
  tokRows: SparseRow[];
  posRows: SparseRow[];
  /** Per batch row: its example's image features (G·G × C, row-major) or null, and the grid indices it uses. */
  images: (Float32Array | null)[];
  imgIdx: number[][];
}

/** One batched forward/backward of Σ_r L_r over a pass, recording every trainable site's x and δ. */
export function capturePass(
  o: ForwardOptions,
  constInputs: ForwardInputs,
  rows: number[],
  images: (Float32Array | null)[],
): PassCapture {
  const { batch, params } = o;
  if (rows.length !== batch.R) throw new RangeError(`capturePass: ${rows.length} row ids for ${batch.R} rows`);
  if (images.length !== batch.R) throw new RangeError(`capturePass: ${images.length} images for ${batch.R} rows`);
  const capture = { sites: [] as Site[] };
  const opts: ForwardOptions = { ...o, capture };
  let losses: tf.Tensor1D | null = null;
  const { imgFeat, imgPre } = constInputs;
  const xs: tf.Tensor[] = [constInputs.tokEmb, constInputs.posEmb];
  if (imgFeat !== null || imgPre !== undefined) xs.push(tf.zeros([1, 1, o.config.adapterHidden]));
  const { value, grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) => {
    const l = forwardRowLosses(opts, {
      tokEmb: inputs[0] as tf.Tensor3D,
      posEmb: inputs[1] as tf.Tensor3D,
      imgFeat,
      imgPre,
      imgAnchor: inputs.length > 2 ? inputs[2] : undefined,
    });
    losses = tf.keep(l);
    return l.sum();
  })(xs);
  if (xs.length > 2) xs[2].dispose();
  value.dispose();
  const rowLosses = (losses as unknown as tf.Tensor1D).dataSync().slice() as Float32Array;
  (losses as unknown as tf.Tensor1D).dispose();
  const dTok = params.tokEmb.trainable ? (grads[0].dataSync() as Float32Array) : null;
  const dPos = params.posEmb.trainable ? (grads[1].dataSync() as Float32Array) : null;
  grads.forEach((g) => g.dispose());
  const d = o.config.dModel;
  return {
    rows,
    losses: rowLosses,
    answerTokens: batch.answerTokens.slice(),
    sites: capture.sites,
    tokRows: dTok === null ? [] : sparseRows(batch, dTok, d, 'tok'),
    posRows: dPos === null ? [] : sparseRows(batch, dPos, d, 'pos'),
    images,
    imgIdx: batch.rows.map((r) => r.imgIdx),
  };
}

/** A site of one pass, with the call row of each of its rows. */
interface SitePart<S extends Site = Site> {
  site: S;
  pass: PassCapture;
  callRows: number[];
}

/** Row pairs (a, b), a ≤ b, whose Gram entries are computed: every pair within a group, the diagonal included. */
interface Entries {
  a: number[];
  b: number[];
}

/**
 * What one trainable variable contributes. `prepare` issues its tensor work and queues what it must read; its
 * Gram entries are added when the values arrive (ReadQueue: one readback per round for everything).
 */
interface Contribution {
  prepare(reads: ReadQueue): void;
  combine(weights: ArrayLike<number>): [tf.Variable, tf.Tensor][];
  dispose(): void;
}

/**
 * Gram entries and combine() over the rows of several passes. `groups` partitions the call's rows 0..R-1 (default:
 * one group); every entry within a group is computed (whatever pass its rows ran in), every other entry is 0.
 */
export function assemblePerRowGradients(
  params: ModelParams,
  R: number,
  passes: PassCapture[],
  groups?: readonly number[][],
): PerRowGradients {
  const passOf = new Int32Array(R).fill(-1);
  passes.forEach((p, k) =>
    p.rows.forEach((r) => {
      if (passOf[r] !== -1) throw new RangeError(`row ${r} is in two passes`);
      passOf[r] = k;
    }),
  );
  if (passOf.some((k) => k === -1)) throw new RangeError('every row must be in exactly one pass');
  const rowGroups = groups ?? [Array.from({ length: R }, (_, r) => r)];
  const entries: Entries = { a: [], b: [] };
  for (const g of rowGroups) {
    for (let i = 0; i < g.length; i++)
      for (let j = i; j < g.length; j++) {
        entries.a.push(Math.min(g[i], g[j]));
        entries.b.push(Math.max(g[i], g[j]));
      }
  }
  const gram = new Float64Array(R * R);
  const addEntry = (r: number, s: number, v: number): void => {
    gram[r * R + s] += v;
    if (r !== s) gram[s * R + r] += v;
  };

  // Sites by variable, across passes.
  const byVar = new Map<tf.Variable, SitePart[]>();
  for (const pass of passes) {
    for (const site of pass.sites) {
      if (site.dy === null) continue;
      const key = site.kind === 'linear' ? site.w : site.g;
      const list = byVar.get(key) ?? [];
      list.push({ site, pass, callRows: site.rows.map((r) => pass.rows[r]) });
      byVar.set(key, list);
    }
  }
  const contributions: Contribution[] = [];
  const smalls = new SmallVectors(entries, addEntry);
  contributions.push(smalls);
  for (const parts of byVar.values()) {
    const first = parts[0].site;
    if (first.kind === 'norm') {
      smalls.add(first.g, parts, (p) => (p.site.dy as tf.Tensor3D).mul((p.site as NormSite).xhat).sum(1));
      smalls.add(first.b, parts, (p) => (p.site.dy as tf.Tensor3D).sum(1));
      continue;
    }
    const linearParts = parts as SitePart<LinearSite>[];
    if (first.b !== null) smalls.add(first.b, parts, (p) => (p.site.dy as tf.Tensor3D).sum(1));
    if (first.xConst) contributions.push(new ImageKernelWeight(linearParts, rowGroups, entries, addEntry));
    else if (ghostIsCheaper(linearParts, rowGroups))
      contributions.push(new GhostWeight(linearParts, rowGroups, entries, addEntry));
    else contributions.push(new MaterialisedWeight(linearParts, entries, addEntry));
  }

  let disposed = false;
  const disposeAll = (): void => {
    if (disposed) return;
    disposed = true;
    contributions.forEach((c) => c.dispose());
    passes.forEach(disposePassCapture);
  };
  try {
    // Two rounds of reads: inputs some contributions assemble in JS, then every contribution's results.
    const reads = new ReadQueue();
    contributions.forEach((c) => c.prepare(reads));
    reads.flush();
    reads.flush();
  } catch (err) {
    disposeAll();
    throw err;
  }

  const tokRows: SparseRow[] = [];
  const posRows: SparseRow[] = [];
  for (const p of passes) {
    p.rows.forEach((r, i) => {
      if (p.tokRows.length > 0) tokRows[r] = p.tokRows[i];
      if (p.posRows.length > 0) posRows[r] = p.posRows[i];
    });
  }
  addSparseGram(gram, tokRows, R, rowGroups);
  addSparseGram(gram, posRows, R, rowGroups);

  const losses = new Float32Array(R);
  const answerTokens = new Int32Array(R);
  for (const p of passes) {
    p.rows.forEach((r, i) => {
      losses[r] = p.losses[i];
      answerTokens[r] = p.answerTokens[i];
    });
  }

  return {
    losses,
    answerTokens,
    gram,
    combine(weights: ArrayLike<number>): tf.Tensor[] {
      if (disposed) throw new Error('PerRowGradients.combine after dispose');
      if (weights.length !== R) throw new RangeError(`combine: ${weights.length} weights for ${R} rows`);
      const byVariable = new Map<tf.Variable, tf.Tensor>();
      const add = (v: tf.Variable, t: tf.Tensor): void => {
        const prev = byVariable.get(v);
        if (prev === undefined) byVariable.set(v, t);
        else {
          byVariable.set(v, prev.add(t));
          prev.dispose();
          t.dispose();
        }
      };
      for (const c of contributions) for (const [v, t] of c.combine(weights)) add(v, t);
      if (params.tokEmb.trainable) add(params.tokEmb, denseFromSparse(tokRows, weights, params.tokEmb.shape));
      if (params.posEmb.trainable) add(params.posEmb, denseFromSparse(posRows, weights, params.posEmb.shape));
      return params.trainable.map((v) => byVariable.get(v) ?? tf.zerosLike(v));
    },
    dispose: disposeAll,
  };
}

/** Frees the tensors a pass capture keeps (each site's input and output gradient). */
export function disposePassCapture(pass: PassCapture): void {
  for (const site of pass.sites) {
    site.dy?.dispose();
    site.dy = null;
    if (site.kind === 'linear') {
      if (!site.xConst) site.x.dispose();
    } else site.xhat.dispose();
  }
}

/** Backends whose tensors live in this process's memory: reading one is a copy, not a device round trip. */
const SYNC_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * Tensors whose values some contribution needs in JS, read together: on a device backend one concatenation and
 * one readback per flush; on wasm / cpu one copy each. Readers queued during a flush wait for the next flush.
 */
class ReadQueue {
  private items: { t: tf.Tensor; use: (v: Float32Array) => void }[] = [];
  private after: (() => void)[] = [];

  /** Queues `t` (disposed after the read); `use` gets an array of its own. */
  read(t: tf.Tensor, use: (v: Float32Array) => void): void {
    this.items.push({ t, use });
  }

  /** Queues a tensor the caller keeps. */
  readKept(t: tf.Tensor, use: (v: Float32Array) => void): void {
    this.items.push({ t: t.clone(), use });
  }

  /** Runs `fn` once the values of the current round have been handed out. */
  afterFlush(fn: () => void): void {
    this.after.push(fn);
  }

  flush(): void {
    const items = this.items;
    const after = this.after;
    this.items = [];
    this.after = [];
    this.readAll(items);
    after.forEach((fn) => fn());
  }

  private readAll(items: { t: tf.Tensor; use: (v: Float32Array) => void }[]): void {
    if (items.length === 0) return;
    if (SYNC_BACKENDS.has(tf.getBackend())) {
      // A read is a plain copy there: no concatenation (and no kernels) needed. (wasm's read is a fresh copy; the
      // cpu backend hands out its own array, copied here so that readers may keep what they get.)
      const own = tf.getBackend() === 'cpu';
      try {
        for (const i of items) {
          const v = i.t.dataSync() as Float32Array;
          i.use(own ? v.slice() : v);
        }
      } finally {
        items.forEach((i) => i.t.dispose());
      }
      return;
    }
    let values: Float32Array;
    try {
      const all =
        items.length === 1
          ? items[0].t
          : tf.tidy(() =>
              tf.concat(
                items.map((i) => i.t.reshape([-1])),
                0,
              ),
            );
      values = all.dataSync() as Float32Array;
      if (all !== items[0].t) all.dispose();
    } finally {
      items.forEach((i) => i.t.dispose());
    }
    let off = 0;
    for (const i of items) {
      i.use(values.subarray(off, off + i.t.size));
      off += i.t.size;
    }
  }
}

/** The per-row vectors of biases and LayerNorm parameters: summed over slots, read back once, dotted in JS. */
class SmallVectors implements Contribution {
  private pending: { v: tf.Variable; part: SitePart; t: tf.Tensor }[] = [];
  /** Per variable: call row → that row's gradient of it. */
  private rowsOf = new Map<tf.Variable, Map<number, Float32Array>>();

  constructor(
    private readonly entries: Entries,
    private readonly addEntry: (r: number, s: number, v: number) => void,
  ) {}

  add(v: tf.Variable, parts: SitePart[], perRow: (p: SitePart) => tf.Tensor): void {
    if (!v.trainable) return;
    for (const part of parts) this.pending.push({ v, part, t: tf.tidy(() => perRow(part)) });
  }

  prepare(reads: ReadQueue): void {
    // Vectors over the same rows (one pass's site rows) travel side by side: one concatenation, one read.
    const bundles = new Map<string, { part: SitePart; items: { v: tf.Variable; t: tf.Tensor }[] }>();
    for (const { v, part, t } of this.pending) {
      const key = part.callRows.join(',');
      const bundle = bundles.get(key) ?? { part, items: [] };
      bundle.items.push({ v, t });
      bundles.set(key, bundle);
    }
    this.pending = [];
    for (const { part, items } of bundles.values()) {
      const widths = items.map((i) => i.t.shape[1] as number);
      const total = widths.reduce((x, y) => x + y, 0);
      const joined =
        items.length === 1
          ? items[0].t
          : tf.concat(
              items.map((i) => i.t),
              1,
            );
      if (items.length > 1) items.forEach((i) => i.t.dispose());
      reads.read(joined, (values) => {
        let off = 0;
        items.forEach(({ v }, k) => {
          const m = this.rowsOf.get(v) ?? new Map<number, Float32Array>();
          part.callRows.forEach((r, i) => m.set(r, values.slice(i * total + off, i * total + off + widths[k])));
          this.rowsOf.set(v, m);
          off += widths[k];
        });
      });
    }
    reads.afterFlush(() => this.rowsOf.forEach((m) => this.addGram(m)));
  }

  private addGram(m: Map<number, Float32Array>): void {
    const { a, b } = this.entries;
    for (let e = 0; e < a.length; e++) {
      const x = m.get(a[e]);
      const y = m.get(b[e]);
      if (x === undefined || y === undefined) continue;
      let s = 0;
      for (let k = 0; k < x.length; k++) s += x[k] * y[k];
      this.addEntry(a[e], b[e], s);
    }
  }

  combine(weights: ArrayLike<number>): [tf.Variable, tf.Tensor][] {
    const out: [tf.Variable, tf.Tensor][] = [];
    for (const [v, m] of this.rowsOf) {
      const acc = new Float32Array(v.size);
      for (const [r, vec] of m) {
        const w = weights[r];
        if (w !== 0) for (let k = 0; k < acc.length; k++) acc[k] += w * vec[k];
      }
      out.push([v, tf.tensor(acc, v.shape)]);
    }
    return out;
  }

  dispose(): void {
    this.pending.forEach((p) => p.t.dispose());
    this.pending = [];
  }
}

/** Entry pairs with both rows in `index` (call row → local index), as local indices plus their call rows. */
function localEntries(entries: Entries, index: Map<number, number>): { a: number[]; b: number[]; e: number[] } {
  const out = { a: [] as number[], b: [] as number[], e: [] as number[] };
  for (let e = 0; e < entries.a.length; e++) {
    const i = index.get(entries.a[e]);
    const j = index.get(entries.b[e]);
    if (i === undefined || j === undefined) continue;
    out.a.push(i);
    out.b.push(j);
    out.e.push(e);
  }
  return out;
}

/** A weight whose per-row gradients x_rᵀ·δ_r are materialised (LM-sized layers, LoRA factors, the adapter's second layer). */
class MaterialisedWeight implements Contribution {
  private perRow: tf.Tensor2D | null = null;
  /** Call row of each output row of perRow. */
  private readonly outRows: number[];

  constructor(
    private readonly parts: SitePart<LinearSite>[],
    private readonly entries: Entries,
    private readonly addEntry: (r: number, s: number, v: number) => void,
  ) {
    this.outRows = parts.flatMap((p) => p.callRows);
  }

  prepare(reads: ReadQueue): void {
    const index = new Map(this.outRows.map((r, i) => [r, i]));
    const local = localEntries(this.entries, index);
    let k = 0;
    const { perRow, dots } = rowwiseOuter(
      this.parts.map((p) => ({ x: p.site.x, dy: p.site.dy as tf.Tensor3D, outRows: p.callRows.map(() => k++) })),
      this.outRows.length,
      local.a,
      local.b,
    );
    this.perRow = perRow;
    reads.read(dots, (values) => {
      local.e.forEach((e, i) => this.addEntry(this.entries.a[e], this.entries.b[e], values[i]));
    });
  }

  combine(weights: ArrayLike<number>): [tf.Variable, tf.Tensor][] {
    const perRow = this.perRow;
    if (perRow === null) throw new Error('MaterialisedWeight.combine before prepare');
    const w = this.parts[0].site.w;
    const grad = tf.tidy(() =>
      weightedRowSum(
        perRow,
        Float32Array.from(this.outRows, (r) => weights[r]),
      ).reshape(w.shape),
    );
    return [[w, grad]];
  }

  dispose(): void {
    this.perRow?.dispose();
    this.perRow = null;
  }
}

/** Site rows of one group, in part order: which part, which part row. */
function groupMembers<S extends Site>(
  parts: SitePart<S>[],
  group: readonly number[],
): { part: SitePart<S>; i: number; r: number }[] {
  const inGroup = new Set(group);
  const out: { part: SitePart<S>; i: number; r: number }[] = [];
  for (const part of parts) part.callRows.forEach((r, i) => inGroup.has(r) && out.push({ part, i, r }));
  return out;
}

/**
 * Per group, Σ_tu (x_r,t·x_s,u)(δ_r,t·δ_s,u) for its row pairs from (X·Xᵀ) ⊙ (D·Dᵀ) over the group's slots: for
 * layers with few slots and a wide output (the LM head: dout = vocabulary), where a materialised x_rᵀ·δ_r would be
 * din × V per row. Padded slots carry δ = 0 and add nothing.
 */
class GhostWeight implements Contribution {
  /** JS copies of each part's x and δ (read in the first round). */
  private xs = new Map<SitePart, Float32Array>();
  private ds = new Map<SitePart, Float32Array>();

  constructor(
    private readonly parts: SitePart<LinearSite>[],
    private readonly groups: readonly number[][],
    private readonly entries: Entries,
    private readonly addEntry: (r: number, s: number, v: number) => void,
  ) {}

  prepare(reads: ReadQueue): void {
    for (const p of this.parts) {
      reads.readKept(p.site.x, (v) => this.xs.set(p, v));
      reads.readKept(p.site.dy as tf.Tensor3D, (v) => this.ds.set(p, v));
    }
    // Second round, once the copies are here: one product per group.
    reads.afterFlush(() => {
      for (const g of this.groups) this.prepareGroup(g, reads);
    });
  }

  private prepareGroup(group: readonly number[], reads: ReadQueue): void {
    const members = groupMembers(this.parts, group);
    if (members.length === 0) return;
    const din = this.parts[0].site.x.shape[2];
    const dout = (this.parts[0].site.dy as tf.Tensor3D).shape[2];
    const offsets: number[] = [];
    let total = 0;
    for (const m of members) {
      offsets.push(total);
      total += m.part.site.x.shape[1];
    }
    // every value written below: the members' rows tile [0, total)
    const X = STAGE.x.take(total * din, false);
    const D = STAGE.d.take(total * dout, false);
    members.forEach((m, k) => {
      const t = m.part.site.x.shape[1];
      X.set(this.xs.get(m.part)!.subarray(m.i * t * din, (m.i + 1) * t * din), offsets[k] * din);
      D.set(this.ds.get(m.part)!.subarray(m.i * t * dout, (m.i + 1) * t * dout), offsets[k] * dout);
    });
    const prod = tf.tidy(() => {
      const x = tf.tensor2d(X, [total, din]);
      const d = tf.tensor2d(D, [total, dout]);
      return matmulNT<tf.Tensor2D>(x, x).mul(matmulNT<tf.Tensor2D>(d, d));
    });
    const index = new Map(members.map((m, k) => [m.r, k]));
    const local = localEntries(this.entries, index);
    reads.read(prod, (P) => {
      local.e.forEach((e, n) => {
        const ka = local.a[n];
        const kb = local.b[n];
        const ta = members[ka].part.site.x.shape[1];
        const tb = members[kb].part.site.x.shape[1];
        let s = 0;
        for (let i = 0; i < ta; i++) {
          const rowOff = (offsets[ka] + i) * total + offsets[kb];
          for (let j = 0; j < tb; j++) s += P[rowOff + j];
        }
        this.addEntry(this.entries.a[e], this.entries.b[e], s);
      });
    });
  }

  combine(weights: ArrayLike<number>): [tf.Variable, tf.Tensor][] {
    const grad = tf.tidy(() => {
      let acc: tf.Tensor | null = null;
      for (const p of this.parts) {
        const [n, t, din] = p.site.x.shape;
        const dy = p.site.dy as tf.Tensor3D;
        const w = tf.tensor3d(
          Float32Array.from(p.callRows, (r) => weights[r]),
          [n, 1, 1],
        );
        const g = matmulTN(p.site.x.reshape([n * t, din]), dy.mul(w).reshape([n * t, dy.shape[2]]));
        acc = acc === null ? g : acc.add(g);
      }
      return acc!;
    });
    return [[this.parts[0].site.w, grad]];
  }

  dispose(): void {
    this.xs.clear();
    this.ds.clear();
  }
}

/**
 * The adapter's first layer: x_r,t is a constant image feature vector F[g] (C wide), so
 * g_r·g_s = Σ_tu (F[g_rt]·F[g_su])(δ_rt·δ_su) = ⟨δ̃_r, K·δ̃_s⟩ with K = F·Fᵀ over the group's images (G² per image)
 * and δ̃_r the row's δ scattered to its grid positions. K and K·δ̃ are small products per group; the C-wide part is
 * one G²×G² Gram per image. combine: Σ_r w_r x_rᵀδ_r = Fᵀ·(Σ_r w_r δ̃_r) over the call's distinct images.
 */
class ImageKernelWeight implements Contribution {
  private ds = new Map<SitePart, Float32Array>();

  constructor(
    private readonly parts: SitePart<LinearSite>[],
    private readonly groups: readonly number[][],
    private readonly entries: Entries,
    private readonly addEntry: (r: number, s: number, v: number) => void,
  ) {}

  private get C(): number {
    return this.parts[0].site.w.shape[0] as number;
  }

  private get dout(): number {
    return (this.parts[0].site.dy as tf.Tensor3D).shape[2];
  }

  /** Image features and grid indices of part row i. */
  private rowImage(part: SitePart, i: number): { image: Float32Array; idx: number[] } {
    const batchRow = part.site.rows[i];
    const image = part.pass.images[batchRow];
    if (image === null) throw new Error('adapter site row without image features');
    return { image, idx: part.pass.imgIdx[batchRow] };
  }

  prepare(reads: ReadQueue): void {
    for (const p of this.parts) reads.readKept(p.site.dy as tf.Tensor3D, (v) => this.ds.set(p, v));
    reads.afterFlush(() => {
      for (const g of this.groups) this.prepareGroup(g, reads);
    });
  }

  /** The distinct images (by identity) stacked: F (images·G² × C), each image's block index, and G². */
  private stackImages(images: Float32Array[]): { F: Float32Array; slot: Map<Float32Array, number>; gg: number } {
    const C = this.C;
    const slot = new Map<Float32Array, number>();
    for (const im of images) if (!slot.has(im)) slot.set(im, slot.size);
    const gg = images[0].length / C;
    const F = STAGE.images.take(slot.size * gg * C, false);
    for (const [im, u] of slot) F.set(im, u * gg * C);
    return { F, slot, gg };
  }

  private prepareGroup(group: readonly number[], reads: ReadQueue): void {
    const members = groupMembers(this.parts, group);
    if (members.length === 0) return;
    const C = this.C;
    const dout = this.dout;
    const rowsInfo = members.map((m) => this.rowImage(m.part, m.i));
    const { F, slot, gg } = this.stackImages(rowsInfo.map((x) => x.image));
    const P = slot.size * gg;
    const m = members.length;
    // δ̃: P × (m·dout), row k's δ at its grid positions in column block k.
    const Dt = STAGE.deltas.take(P * m * dout);
    members.forEach((mem, k) => {
      const { image, idx } = rowsInfo[k];
      const base = slot.get(image)! * gg;
      const t = mem.part.site.x.shape[1];
      const d = this.ds.get(mem.part)!;
      idx.forEach((g, j) => {
        const src = (mem.i * t + j) * dout;
        Dt.set(d.subarray(src, src + dout), (base + g) * m * dout + k * dout);
      });
    });
    const Y = tf.tidy(() => {
      const f = tf.tensor2d(F, [P, C]);
      return tf.matMul(matmulNT<tf.Tensor2D>(f, f), tf.tensor2d(Dt, [P, m * dout]));
    });
    const index = new Map(members.map((mem, k) => [mem.r, k]));
    const local = localEntries(this.entries, index);
    reads.read(Y, (y) => {
      local.e.forEach((e, n) => {
        const ka = local.a[n];
        const kb = local.b[n];
        // ⟨δ̃_a, (K·δ̃)_b⟩: only row a's own grid positions are non-zero in δ̃_a.
        const { image, idx } = rowsInfo[ka];
        const base = slot.get(image)! * gg;
        const t = members[ka].part.site.x.shape[1];
        const d = this.ds.get(members[ka].part)!;
        let s = 0;
        idx.forEach((g, j) => {
          const src = (members[ka].i * t + j) * dout;
          const yOff = (base + g) * m * dout + kb * dout;
          for (let c = 0; c < dout; c++) s += d[src + c] * y[yOff + c];
        });
        this.addEntry(this.entries.a[e], this.entries.b[e], s);
      });
    });
  }

  combine(weights: ArrayLike<number>): [tf.Variable, tf.Tensor][] {
    const C = this.C;
    const dout = this.dout;
    const rows = this.parts.flatMap((part) => part.callRows.map((r, i) => ({ part, i, r, ...this.rowImage(part, i) })));
    const { F, slot, gg } = this.stackImages(rows.map((x) => x.image));
    const P = slot.size * gg;
    const WD = STAGE.weighted.take(P * dout);
    for (const row of rows) {
      const w = weights[row.r];
      if (w === 0) continue;
      const base = slot.get(row.image)! * gg;
      const t = row.part.site.x.shape[1];
      const d = this.ds.get(row.part)!;
      row.idx.forEach((g, j) => {
        const src = (row.i * t + j) * dout;
        const dst = (base + g) * dout;
        for (let c = 0; c < dout; c++) WD[dst + c] += w * d[src + c];
      });
    }
    const w = this.parts[0].site.w;
    const grad = tf.tidy(() => matmulTN(tf.tensor2d(F, [P, C]), tf.tensor2d(WD, [P, dout])));
    return [[w, grad]];
  }

  dispose(): void {
    this.ds.clear();
  }
}

/**
 * Whether the ghost form beats materialising x_rᵀδ_r for this weight: Σ_groups (slots of the group)²·(din + dout)
 * against Σ_rows slots·din·dout (plus the per-row storage the latter keeps until combine).
 */
function ghostIsCheaper(parts: SitePart<LinearSite>[], groups: readonly number[][]): boolean {
  const din = parts[0].site.x.shape[2];
  const dout = (parts[0].site.dy as tf.Tensor3D).shape[2];
  const slotsOf = new Map<number, number>();
  let materialised = 0;
  for (const p of parts) {
    const t = p.site.x.shape[1];
    for (const r of p.callRows) {
      slotsOf.set(r, t);
      materialised += t * din * dout;
    }
  }
  let ghost = 0;
  for (const g of groups) {
    let slots = 0;
    for (const r of g) slots += slotsOf.get(r) ?? 0;
    ghost += slots * slots * (din + dout);
  }
  return ghost < materialised;
}

export type SparseRow = Map<number, Float32Array>;

/** Per-row embedding gradients as id → vector maps (a row touches ≤ T of the V rows). */
function sparseRows(batch: BatchLayout, delta: Float32Array, d: number, which: 'tok' | 'pos'): SparseRow[] {
  return batch.rows.map((row, r) => {
    const m: SparseRow = new Map();
    const n = which === 'tok' ? row.tokIds.length : row.length;
    const width = which === 'tok' ? batch.tokLen : batch.T;
    for (let i = 0; i < n; i++) {
      const id = which === 'tok' ? row.tokIds[i] : row.positions[i];
      let acc = m.get(id);
      if (acc === undefined) {
        acc = new Float32Array(d);
        m.set(id, acc);
      }
      const off = (r * width + i) * d;
      for (let k = 0; k < d; k++) acc[k] += delta[off + k];
    }
    return m;
  });
}

function addSparseGram(gram: Float64Array, rows: SparseRow[], R: number, groups: readonly number[][]): void {
  if (rows.length === 0) return;
  for (const group of groups) {
    for (let gi = 0; gi < group.length; gi++)
      for (let gj = gi; gj < group.length; gj++) {
        const r = group[gi];
        const s = group[gj];
        let dot = 0;
        const [small, large] = rows[r].size <= rows[s].size ? [rows[r], rows[s]] : [rows[s], rows[r]];
        for (const [id, a] of small) {
          const b = large.get(id);
          if (b === undefined) continue;
          for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
        }
        gram[r * R + s] += dot;
        if (s !== r) gram[s * R + r] += dot;
      }
  }
}

/** Connected components of the rows under `pairs` (each row in exactly one group, in row order). */
export function pairGroups(R: number, pairs: ReadonlyArray<readonly [number, number]>): number[][] {
  const parent = Array.from({ length: R }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const [r, s] of pairs) {
    if (!(Number.isInteger(r) && Number.isInteger(s) && r >= 0 && s >= 0 && r < R && s < R))
      throw new RangeError(`perRowGradients: pair (${r}, ${s}) outside 0..${R - 1}`);
    parent[find(r)] = find(s);
  }
  const byRoot = new Map<number, number[]>();
  for (let r = 0; r < R; r++) {
    const root = find(r);
    const g = byRoot.get(root);
    if (g === undefined) byRoot.set(root, [r]);
    else g.push(r);
  }
  return [...byRoot.values()];
}

function denseFromSparse(rows: SparseRow[], weights: ArrayLike<number>, shape: number[]): tf.Tensor {
  const d = shape[1];
  const out = new Float32Array(shape[0] * d);
  rows.forEach((m, r) => {
    const w = weights[r];
    if (w === 0) return;
    for (const [id, v] of m) for (let k = 0; k < d; k++) out[id * d + k] += w * v[k];
  });
  return tf.tensor(out, shape);
}
