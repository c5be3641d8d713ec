// Per-row gradients for AimKP's cosine filter from ONE batched forward/backward of Σ_r L_r.
//
// Rows never interact (no batch statistics; attention is within a row), so ∂(Σ_s L_s)/∂y_r = ∂L_r/∂y_r for every
// activation y_r of row r. For a linear use y = x·W + b the per-row weight gradient is therefore x_rᵀ·δ_r with
// δ = ∂(ΣL)/∂y (bias: Σ_t δ_r,t); LayerNorm gains Σ_t δ⊙xhat; embeddings scatter δ at the embedding input by
// token / position id. forward.ts records x and δ (via a customGrad probe) for every trainable site; this module
// turns them into the R×R Gram matrix and into Σ_r w_r·g_r on demand.
import * as tf from '@tensorflow/tfjs';
import type { PerRowGradients } from './contract';
import type { BatchLayout } from './layout';
import type { ForwardInputs, ForwardOptions, LinearSite, NormSite, Site } from './forward';
import { forwardRowLosses } from './forward';
import { matmulNT, matmulTN } from './ops';

/**
 * `groups`: a partition of the rows 0..R-1; only Gram entries within a group are computed (the rest stay 0).
 * One group of all rows = the full Gram matrix.
 */
export function perRowGradientsFast(o: ForwardOptions, constInputs: ForwardInputs, groups?: readonly number[][]): PerRowGradients {
  const { batch, params } = o;
  const R = batch.R;
  const capture = { sites: [] as Site[] };
  const opts: ForwardOptions = { ...o, capture };
  let losses: tf.Tensor1D | null = null;
  const imgFeat = constInputs.imgFeat;
  const xs: tf.Tensor[] = [constInputs.tokEmb, constInputs.posEmb];
  if (imgFeat !== null) xs.push(tf.zeros([1, 1, o.config.adapterHidden]));
  const { value, grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) => {
    const l = forwardRowLosses(opts, {
      tokEmb: inputs[0] as tf.Tensor3D,
      posEmb: inputs[1] as tf.Tensor3D,
      imgFeat,
      imgAnchor: inputs.length > 2 ? inputs[2] : undefined,
    });
    losses = tf.keep(l);
    return l.sum();
  })(xs);
  if (xs.length > 2) xs[2].dispose();
  value.dispose();
  const rowLosses = (losses as unknown as tf.Tensor1D).dataSync().slice() as Float32Array;
  (losses as unknown as tf.Tensor1D).dispose();
  const dTok = grads[0].dataSync() as Float32Array;
  const dPos = grads[1].dataSync() as Float32Array;
  grads.forEach((g) => g.dispose());

  const d = o.config.dModel;
  const embTrainable = params.tokEmb.trainable;
  const tokRows = embTrainable ? sparseRows(batch, dTok, d, 'tok') : [];
  const posRows = params.posEmb.trainable ? sparseRows(batch, dPos, d, 'pos') : [];

  const rowGroups = groups ?? [batch.rows.map((_, r) => r)];
  const gram = new Float64Array(R * R);
  for (const site of capture.sites) {
    if (site.dy === null) continue;
    // Site-local indices of each group (a site may cover only some rows: the adapter sees image rows only).
    const local = new Map<number, number>(site.rows.map((r, i) => [r, i]));
    const siteGroups = rowGroups.map((g) => g.filter((r) => local.has(r)).map((r) => local.get(r)!)).filter((g) => g.length > 0);
    let hasFull = false;
    const res = tf.tidy(() => {
      const r = siteGram(site, siteGroups);
      hasFull = r.full !== null;
      return r.full === null ? r.blocks : [r.full, ...r.blocks];
    });
    const fullValues = hasFull ? res[0].dataSync() : null;
    const blockValues = (hasFull ? res.slice(1) : res).map((b) => b.dataSync());
    res.forEach((b) => b.dispose());
    const n = site.rows.length;
    siteGroups.forEach((g, k) => {
      const m = g.length;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          let v = fullValues === null ? 0 : fullValues[g[i] * n + g[j]];
          if (blockValues.length > 0) v += blockValues[k][i * m + j];
          gram[site.rows[g[i]] * R + site.rows[g[j]]] += v;
        }
      }
    });
  }
  addSparseGram(gram, tokRows, R, rowGroups);
  addSparseGram(gram, posRows, R, rowGroups);

  let disposed = false;
  return {
    losses: rowLosses,
    answerTokens: batch.answerTokens.slice(),
    gram,
    combine(weights: ArrayLike<number>): tf.Tensor[] {
      if (disposed) throw new Error('PerRowGradients.combine after dispose');
      if (weights.length !== R) throw new RangeError(`combine: ${weights.length} weights for ${R} rows`);
      const byVar = new Map<tf.Variable, tf.Tensor>();
      const add = (v: tf.Variable, t: tf.Tensor): void => {
        const prev = byVar.get(v);
        if (prev === undefined) byVar.set(v, t);
        else {
          byVar.set(v, prev.add(t));
          prev.dispose();
          t.dispose();
        }
      };
      for (const site of capture.sites) {
        if (site.dy === null) continue;
        const w = tf.tensor3d(site.rows.map((r) => weights[r]), [site.rows.length, 1, 1]);
        const parts = tf.tidy(() => siteCombine(site, w));
        w.dispose();
        if (site.kind === 'linear') {
          add(site.w, parts[0]);
          if (site.b !== null) add(site.b, parts[1]);
          else parts[1].dispose();
        } else {
          add(site.g, parts[0]);
          add(site.b, parts[1]);
        }
      }
      if (embTrainable) add(params.tokEmb, denseFromSparse(tokRows, weights, params.tokEmb.shape));
      if (params.posEmb.trainable) add(params.posEmb, denseFromSparse(posRows, weights, params.posEmb.shape));
      return params.trainable.map((v) => byVar.get(v) ?? tf.zerosLike(v));
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      for (const site of capture.sites) {
        site.dy?.dispose();
        if (site.kind === 'linear') site.x.dispose();
        else site.xhat.dispose();
      }
    },
  };
}

/**
 * One site's Gram contribution for the rows of each group (site-local indices): a g×g block per group.
 * Chooses materialised per-row grads or the "ghost" form (Σ_ab (x_a·x_b)(δ_a·δ_b), no din×dout product per row)
 * by cost. wasm notes (measured): a full n×n matmul of n×k operands is far cheaper than gathering the needed
 * rows (wasm's Gather is slow), and every new matmul shape pays an operator set-up, so slices keep fixed shapes.
 */
function siteGram(site: Site, groups: number[][]): { full: tf.Tensor2D | null; blocks: tf.Tensor2D[] } {
  const dy = site.dy!;
  const [n, t, dout] = dy.shape;
  const sumDy = dy.sum(1) as tf.Tensor2D; // n × dout: bias / norm-bias per-row grads
  let full: tf.Tensor2D | null = site.kind === 'linear' && site.b === null ? null : matmulNT<tf.Tensor2D>(sumDy, sumDy);
  const addFull = (a: tf.Tensor2D): tf.Tensor2D => {
    const g = matmulNT<tf.Tensor2D>(a, a);
    return full === null ? g : full.add(g);
  };
  if (site.kind === 'norm') return { full: addFull(dy.mul(site.xhat).sum(1) as tf.Tensor2D), blocks: [] };
  const x = site.x;
  const din = x.shape[2];
  const materialised = n * t * din * dout + n * n * din * dout;
  const ghost = groups.reduce((s, g) => s + (g.length * t) ** 2, 0) * (din + dout);
  const x2 = x.reshape([n * t, din]) as tf.Tensor2D;
  const d2 = dy.reshape([n * t, dout]) as tf.Tensor2D;
  if (materialised <= ghost) {
    let perRow: tf.Tensor2D;
    if (din * dout <= 8192) {
      // Small (LoRA-sized) products: one batched matmul beats many tiny ops.
      perRow = matmulTN<tf.Tensor3D>(x, dy).reshape([n, din * dout]);
    } else {
      // One 2D product per row: wasm's batched matmul is ~15× slower than a loop of 2D ones at these shapes
      // (2D slices of the flattened tensors: 2× faster than tf.split + reshape).
      perRow = tf.stack(Array.from({ length: n }, (_, r) => matmulTN(x2.slice([r * t, 0], [t, din]), d2.slice([r * t, 0], [t, dout])).reshape([din * dout]))) as tf.Tensor2D;
    }
    full = addFull(perRow);
    return { full, blocks: [] };
  }
  // Ghost form per group: P = (X·Xᵀ) ⊙ (D·Dᵀ) over the group's positions, then block sums over t×t tiles.
  const rowsOf = (a: tf.Tensor2D, g: number[], width: number): tf.Tensor2D => {
    const contiguous = g.every((r, i) => r === g[0] + i);
    if (contiguous) return a.slice([g[0] * t, 0], [g.length * t, width]);
    return tf.concat(g.map((r) => a.slice([r * t, 0], [t, width])), 0) as tf.Tensor2D;
  };
  const blocks = groups.map((g) => {
    const m = g.length;
    const X = rowsOf(x2, g, din);
    const D = rowsOf(d2, g, dout);
    return matmulNT<tf.Tensor2D>(X, X).mul(matmulNT<tf.Tensor2D>(D, D)).reshape([m, t, m, t]).sum([1, 3]) as tf.Tensor2D;
  });
  return { full, blocks };
}

/** [weight grad, bias grad] of Σ_r w_r g_r for one site. */
function siteCombine(site: Site, w: tf.Tensor3D): [tf.Tensor, tf.Tensor] {
  const dy = site.dy!.mul(w) as tf.Tensor3D;
  const [n, t, dout] = dy.shape;
  const bias = dy.sum([0, 1]);
  if (site.kind === 'norm') return [dy.mul((site as NormSite).xhat).sum([0, 1]), bias];
  const x = (site as LinearSite).x;
  const din = x.shape[2];
  return [matmulTN(x.reshape([n * t, din]), dy.reshape([n * t, dout])), bias];
}

type SparseRow = Map<number, Float32Array>;

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
    for (let gi = 0; gi < group.length; gi++) for (let gj = gi; gj < group.length; gj++) {
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
    if (!(Number.isInteger(r) && Number.isInteger(s) && r >= 0 && s >= 0 && r < R && s < R)) throw new RangeError(`perRowGradients: pair (${r}, ${s}) outside 0..${R - 1}`);
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
