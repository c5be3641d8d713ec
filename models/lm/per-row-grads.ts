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
import type { ModelParams } from './params';
import { forwardRowLosses } from './forward';
import { matmulNT, matmulTN } from './ops';

/** One pass's captured activations and gradients (rows given by their index in the whole call). */
export interface PassCapture {
  /** Call-level row index of each of this pass's batch rows. */
  rows: number[];
  losses: Float32Array;
  answerTokens: Int32Array;
  sites: Site[];
  tokRows: SparseRow[];
  posRows: SparseRow[];
}

/** One batched forward/backward of Σ_r L_r over a pass, recording every trainable site's x and δ. */
export function capturePass(o: ForwardOptions, constInputs: ForwardInputs, rows: number[]): PassCapture {
  const { batch, params } = o;
  if (rows.length !== batch.R) throw new RangeError(`capturePass: ${rows.length} row ids for ${batch.R} rows`);
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
  return {
    rows,
    losses: rowLosses,
    answerTokens: batch.answerTokens.slice(),
    sites: capture.sites,
    tokRows: params.tokEmb.trainable ? sparseRows(batch, dTok, d, 'tok') : [],
    posRows: params.posEmb.trainable ? sparseRows(batch, dPos, d, 'pos') : [],
  };
}

/**
 * Gram matrix and combine() over the rows of several passes. `groups` partitions the call's rows 0..R-1; Gram
 * entries are computed within a group: whole blocks inside a pass, and across passes only the entries of
 * `crossPairs` (default: every cross-pass pair within a group). Other entries stay 0.
 */
export function assemblePerRowGradients(
  params: ModelParams,
  R: number,
  passes: PassCapture[],
  groups?: readonly number[][],
  crossPairs?: ReadonlyArray<readonly [number, number]>,
): PerRowGradients {
  const passOf = new Int32Array(R).fill(-1);
  const localOf = new Int32Array(R);
  passes.forEach((p, k) =>
    p.rows.forEach((r, i) => {
      if (passOf[r] !== -1) throw new RangeError(`row ${r} is in two passes`);
      passOf[r] = k;
      localOf[r] = i;
    }),
  );
  if (passOf.some((k) => k === -1)) throw new RangeError('every row must be in exactly one pass');
  const rowGroups = groups ?? [Array.from({ length: R }, (_, r) => r)];
  const gram = new Float64Array(R * R);

  const perRowOf = new Map<Site, tf.Tensor2D>();
  // Blocks within each pass.
  passes.forEach((pass, k) => {
    const passGroups = rowGroups
      .map((g) => g.filter((r) => passOf[r] === k).map((r) => localOf[r]))
      .filter((g) => g.length > 0);
    for (const site of pass.sites) {
      if (site.dy === null) continue;
      // Site-local indices of each group (a site may cover only some rows: the adapter sees image rows only).
      const local = new Map<number, number>(site.rows.map((r, i) => [r, i]));
      const siteGroups = passGroups
        .map((g) => g.filter((r) => local.has(r)).map((r) => local.get(r)!))
        .filter((g) => g.length > 0);
      if (siteGroups.length === 0) continue;
      let hasFull = false;
      let hasPerRow = false;
      const out = tf.tidy(() => {
        const r = siteGram(site, siteGroups);
        hasFull = r.full !== null;
        hasPerRow = r.perRow !== undefined;
        return [...(r.perRow !== undefined ? [r.perRow] : []), ...(r.full === null ? r.blocks : [r.full, ...r.blocks])];
      });
      // Materialised per-row gradients are kept: combine() then costs one n-row weighted sum, not xᵀ(w⊙δ).
      if (hasPerRow) perRowOf.set(site, out[0] as tf.Tensor2D);
      const res = hasPerRow ? out.slice(1) : out;
      const fullValues = hasFull ? res[0].dataSync() : null;
      const blockValues = (hasFull ? res.slice(1) : res).map((b) => b.dataSync());
      res.forEach((b) => b.dispose());
      const n = site.rows.length;
      siteGroups.forEach((g, gi) => {
        const m = g.length;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < m; j++) {
            let v = fullValues === null ? 0 : fullValues[g[i] * n + g[j]];
            if (blockValues.length > 0) v += blockValues[gi][i * m + j];
            gram[pass.rows[site.rows[g[i]]] * R + pass.rows[site.rows[g[j]]]] += v;
          }
        }
      });
    }
  });

  // Entries across passes.
  if (passes.length > 1) {
    const cross: [number, number][] = [];
    if (crossPairs !== undefined) {
      const seen = new Set<number>();
      for (const [a, b] of crossPairs) {
        const [r, s] = a < b ? [a, b] : [b, a];
        if (passOf[r] === passOf[s] || seen.has(r * R + s)) continue;
        seen.add(r * R + s);
        cross.push([r, s]);
      }
    } else {
      for (const g of rowGroups)
        for (let i = 0; i < g.length; i++)
          for (let j = i + 1; j < g.length; j++) {
            if (passOf[g[i]] !== passOf[g[j]]) cross.push([g[i], g[j]]);
          }
    }
    if (cross.length > 0) addCrossPassGram(gram, R, passes, passOf, localOf, cross);
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

  let disposed = false;
  return {
    losses,
    answerTokens,
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
      for (const pass of passes) {
        for (const site of pass.sites) {
          if (site.dy === null) continue;
          const w = tf.tensor3d(
            site.rows.map((r) => weights[pass.rows[r]]),
            [site.rows.length, 1, 1],
          );
          const perRow = perRowOf.get(site);
          const parts = tf.tidy(() => siteCombine(site, w, perRow));
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
      }
      if (params.tokEmb.trainable) add(params.tokEmb, denseFromSparse(tokRows, weights, params.tokEmb.shape));
      if (params.posEmb.trainable) add(params.posEmb, denseFromSparse(posRows, weights, params.posEmb.shape));
      return params.trainable.map((v) => byVar.get(v) ?? tf.zerosLike(v));
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      perRowOf.forEach((t) => t.dispose());
      passes.forEach(disposePassCapture);
    },
  };
}

/** Frees the tensors a pass capture keeps (each site's input and output gradient). */
export function disposePassCapture(pass: PassCapture): void {
  for (const site of pass.sites) {
    site.dy?.dispose();
    if (site.kind === 'linear') site.x.dispose();
    else site.xhat.dispose();
  }
}

/** The trainable variable a site's gradient belongs to (one site per variable per pass). */
function siteKey(site: Site): tf.Variable {
  return site.kind === 'linear' ? site.w : site.g;
}

/**
 * g_r·g_s for rows in different passes, site by site. Weight gradients use the ghost form on the two rows'
 * (x, δ) — Σ_tu (x_rt·x_su)(δ_rt·δ_su) — or their materialised x_rᵀδ_r when that is cheaper (LoRA-sized
 * sites); biases and norms dot their per-row sums. Padded slots carry δ = 0, so they add nothing.
 */
function addCrossPassGram(
  gram: Float64Array,
  R: number,
  passes: PassCapture[],
  passOf: Int32Array,
  localOf: Int32Array,
  cross: [number, number][],
): void {
  const sitesByPass = passes.map((p) => new Map(p.sites.filter((s) => s.dy !== null).map((s) => [siteKey(s), s])));
  const siteRow = passes.map((p) => p.sites.map((s) => new Map(s.rows.map((r, i) => [r, i]))));
  const siteIndex = passes.map((p) => new Map(p.sites.map((s, i) => [s, i])));
  for (const key of collectKeys(sitesByPass)) {
    const parts: { r: number; s: number; t: tf.Tensor }[] = [];
    tf.tidy(() => {
      const reduced = new Map<
        Site,
        { sumDy: tf.Tensor2D; normW: tf.Tensor2D | null; x2: tf.Tensor2D | null; d2: tf.Tensor2D }
      >();
      const prep = (site: Site) => {
        let v = reduced.get(site);
        if (v === undefined) {
          const dy = site.dy!;
          const [n, t, dout] = dy.shape;
          v = {
            sumDy: dy.sum(1) as tf.Tensor2D,
            normW: site.kind === 'norm' ? (dy.mul(site.xhat).sum(1) as tf.Tensor2D) : null,
            x2: site.kind === 'linear' ? (site.x.reshape([n * t, site.x.shape[2]]) as tf.Tensor2D) : null,
            d2: dy.reshape([n * t, dout]) as tf.Tensor2D,
          };
          reduced.set(site, v);
        }
        return v;
      };
      for (const [r, s] of cross) {
        const pr = passOf[r];
        const ps = passOf[s];
        const a = sitesByPass[pr].get(key);
        const b = sitesByPass[ps].get(key);
        if (a === undefined || b === undefined) continue;
        const ia = siteRow[pr][siteIndex[pr].get(a)!].get(localOf[r]);
        const ib = siteRow[ps][siteIndex[ps].get(b)!].get(localOf[s]);
        if (ia === undefined || ib === undefined) continue;
        const va = prep(a);
        const vb = prep(b);
        const row = (m: tf.Tensor2D, i: number): tf.Tensor2D => m.slice([i, 0], [1, m.shape[1]]);
        let dot: tf.Tensor;
        if (a.kind === 'norm') {
          dot = row(va.normW!, ia)
            .mul(row(vb.normW!, ib))
            .sum()
            .add(row(va.sumDy, ia).mul(row(vb.sumDy, ib)).sum());
        } else {
          const la = a as LinearSite;
          const ta = la.x.shape[1];
          const tb = (b as LinearSite).x.shape[1];
          const din = la.x.shape[2];
          const dout = la.dy!.shape[2];
          const Xa = va.x2!.slice([ia * ta, 0], [ta, din]);
          const Xb = vb.x2!.slice([ib * tb, 0], [tb, din]);
          const Da = va.d2.slice([ia * ta, 0], [ta, dout]);
          const Db = vb.d2.slice([ib * tb, 0], [tb, dout]);
          if ((ta + tb) * din * dout < ta * tb * (din + dout)) {
            dot = matmulTN(Xa, Da).mul(matmulTN(Xb, Db)).sum();
          } else {
            dot = matmulNT(Xa, Xb).mul(matmulNT(Da, Db)).sum();
          }
          if (la.b !== null) dot = dot.add(row(va.sumDy, ia).mul(row(vb.sumDy, ib)).sum());
        }
        parts.push({ r, s, t: tf.keep(dot) });
      }
    });
    if (parts.length === 0) continue;
    const stacked = tf.stack(parts.map((p) => p.t));
    const values = stacked.dataSync();
    stacked.dispose();
    parts.forEach((p, i) => {
      p.t.dispose();
      gram[p.r * R + p.s] += values[i];
      gram[p.s * R + p.r] += values[i];
    });
  }
}

/** Every site variable that appears in any pass. */
function collectKeys(byPass: Map<tf.Variable, Site>[]): Set<tf.Variable> {
  const keys = new Set<tf.Variable>();
  for (const m of byPass) for (const k of m.keys()) keys.add(k);
  return keys;
}

/**
 * One site's Gram contribution for the rows of each group (site-local indices): a g×g block per group.
 * Chooses materialised per-row grads or the "ghost" form (Σ_ab (x_a·x_b)(δ_a·δ_b), no din×dout product per row)
 * by cost. wasm notes (measured): a full n×n matmul of n×k operands is far cheaper than gathering the needed
 * rows (wasm's Gather is slow), and every new matmul shape pays an operator set-up, so slices keep fixed shapes.
 */
function siteGram(
  site: Site,
  groups: number[][],
): { full: tf.Tensor2D | null; blocks: tf.Tensor2D[]; perRow?: tf.Tensor2D } {
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
      perRow = tf.stack(
        Array.from({ length: n }, (_, r) =>
          matmulTN(x2.slice([r * t, 0], [t, din]), d2.slice([r * t, 0], [t, dout])).reshape([din * dout]),
        ),
      ) as tf.Tensor2D;
    }
    full = addFull(perRow);
    return { full, blocks: [], perRow };
  }
  // Ghost form per group: P = (X·Xᵀ) ⊙ (D·Dᵀ) over the group's positions, then block sums over t×t tiles.
  const rowsOf = (a: tf.Tensor2D, g: number[], width: number): tf.Tensor2D => {
    const contiguous = g.every((r, i) => r === g[0] + i);
    if (contiguous) return a.slice([g[0] * t, 0], [g.length * t, width]);
    return tf.concat(
      g.map((r) => a.slice([r * t, 0], [t, width])),
      0,
    ) as tf.Tensor2D;
  };
  const blocks = groups.map((g) => {
    const m = g.length;
    const X = rowsOf(x2, g, din);
    const D = rowsOf(d2, g, dout);
    return matmulNT<tf.Tensor2D>(X, X)
      .mul(matmulNT<tf.Tensor2D>(D, D))
      .reshape([m, t, m, t])
      .sum([1, 3]) as tf.Tensor2D;
  });
  return { full, blocks };
}

/** [weight grad, bias grad] of Σ_r w_r g_r for one site; `perRow` (n × din·dout): its materialised x_rᵀδ_r. */
function siteCombine(site: Site, w: tf.Tensor3D, perRow?: tf.Tensor2D): [tf.Tensor, tf.Tensor] {
  const [n, t, dout] = site.dy!.shape;
  if (site.kind === 'linear' && perRow !== undefined) {
    const din = site.x.shape[2];
    const weight = tf.matMul(w.reshape([1, n]), perRow).reshape([din, dout]);
    const bias = site.b === null ? tf.zeros([dout]) : (site.dy!.sum(1) as tf.Tensor2D).mul(w.reshape([n, 1])).sum(0);
    return [weight, bias];
  }
  const dy = site.dy!.mul(w) as tf.Tensor3D;
  const bias = dy.sum([0, 1]);
  if (site.kind === 'norm') return [dy.mul((site as NormSite).xhat).sum([0, 1]), bias];
  const x = (site as LinearSite).x;
  const din = x.shape[2];
  return [matmulTN(x.reshape([n * t, din]), dy.reshape([n * t, dout])), bias];
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
