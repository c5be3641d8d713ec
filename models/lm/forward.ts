// The batched forward pass: adapter → prompt assembly → pre-norm causal transformer → answer losses.
// With a `Capture`, every trainable linear / LayerNorm records its input and (during backprop) its output
// gradient, which is all the per-row gradient path needs (see per-row-grads.ts).
import * as tf from '@tensorflow/tfjs';
import type { LmConfig } from './contract';
import type { BatchLayout } from './layout';
import type { LinearParams, ModelParams, NormParams } from './params';
import { StagingF32 } from '../tf/staging';
import { GELU_GRAD_KERNEL, GELU_KERNEL, nativeVectorReady } from '../tf/native-matmul';
import { dropout, gatherRows, matmul, matmulT, sparseCrossEntropy, swapLast } from './ops';

// Reused per-step arrays (models/tf/staging.ts): each is handed to a new tensor at once.
const IMAGE_FEATURES = new StagingF32();
const EMBEDDING_GRAD = new StagingF32();

/** A trainable linear use: y = x·W (+ b); per-row grad of W is x_rᵀ·dy_r. */
export interface LinearSite {
  kind: 'linear';
  w: tf.Variable;
  b: tf.Variable | null;
  /** n × t × din, kept. */
  x: tf.Tensor3D;
  /** n × t × dout, filled during backprop. */
  dy: tf.Tensor3D | null;
  /** Batch row of each of the n site rows. */
  rows: number[];
  /**
   * x is the batch's constant image features (the adapter's first layer): row i's slot j holds the features of
   * grid cell batch.rows[rows[i]].imgIdx[j] of its example's image, zero beyond (per-row-grads.ts uses this). Such
   * an x is the caller's input tensor and may be disposed after the pass: read only its shape.
   */
  xConst: boolean;
}

/** A trainable LayerNorm: y = xhat·g + b; per-row grads Σ_t dy⊙xhat and Σ_t dy. */
export interface NormSite {
  kind: 'norm';
  g: tf.Variable;
  b: tf.Variable;
  xhat: tf.Tensor3D;
  dy: tf.Tensor3D | null;
  rows: number[];
}

export type Site = LinearSite | NormSite;

export interface Capture {
  sites: Site[];
}

export interface ForwardInputs {
  /** R × tokLen × d: embeddings of each row's token list. */
  tokEmb: tf.Tensor3D;
  /** R × T × d: position embeddings of each slot. */
  posEmb: tf.Tensor3D;
  /** |imageRows| × imgLen × C, or null when no row has an image span (or `imgPre` is given instead). */
  imgFeat: tf.Tensor3D | null;
  /**
   * The adapter's first layer already applied (x·W1 + b1, |imageRows| × imgLen × H): the per-row path computes it
   * once per distinct image token of a call instead of once per row and pass. Only with a capture (W1's gradient
   * then comes from the fc1 site) and `imgAnchor`.
   */
  imgPre?: tf.Tensor3D;
  /**
   * Zeros added to the first adapter layer's output. The per-row path differentiates w.r.t. this instead of the
   * (large, constant) image features, so backprop reaches the adapter's sites without computing ∂L/∂features.
   */
  imgAnchor?: tf.Tensor;
}

export interface ForwardOptions {
  config: LmConfig;
  params: ModelParams;
  batch: BatchLayout;
  training: boolean;
  /** Seed of this call's dropout masks (deterministic per call). */
  dropoutSeed: number;
  capture: Capture | null;
  /**
   * No gradient will be taken (losses only, decoding): layers run as plain ops. Their custom-gradient forms cost
   * an extra engine call each, which small decoding steps notice.
   */
  inference?: boolean;
}

/** Per-layer attention keys/values (R × heads × T × dh) for incremental decoding. */
export interface KvCache {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

class Runner {
  private seedCounter = 0;
  /** When set, attention appends each layer's full keys/values here (for decoding). */
  kvOut: KvCache[] | null = null;
  constructor(private readonly o: ForwardOptions) {}

  private dropout(x: tf.Tensor, rate: number): tf.Tensor {
    if (!this.o.training || rate <= 0) return x;
    return dropout(x, this.o.dropoutSeed + ++this.seedCounter * 7717, rate);
  }

  private trainable(v: tf.Variable): boolean {
    return this.o.capture !== null && v.trainable;
  }

  /**
   * y = x·W (+ b) (+ anchor) as ONE custom-gradient op with its backward written out: composed from tf ops it was
   * ~7 forward and ~8 backward kernels per use, each saving copies of its inputs on the tape. Gradients flow to
   * exactly the inputs that need them: x unless it is the constant image features; W and b only when the optimiser
   * takes them from tf (no capture; with a capture the per-row path derives them from the site's x and δ); the
   * anchor (zeros the per-row path differentiates instead of the image features) when given. With a capture, the
   * site records x and, in the backward, δ = ∂L/∂y.
   */
  private matmulSite(
    x: tf.Tensor3D,
    w: tf.Variable,
    b: tf.Variable | null,
    rows: number[],
    anchor?: tf.Tensor,
    xConst = false,
  ): tf.Tensor3D {
    const [n, t, din] = x.shape;
    const dout = w.shape[1] as number;
    const wantW = w.trainable && this.o.capture === null;
    const wantB = b !== null && b.trainable && this.o.capture === null;
    let site: LinearSite | null = null;
    if (this.trainable(w)) {
      // x itself is kept (tensors are immutable; a clone is a copy on wasm). The constant image features are the
      // caller's tensor and are not needed after the pass (only their shape is read): not kept.
      site = { kind: 'linear', w, b, x: xConst ? x : tf.keep(x), dy: null, rows, xConst };
      this.o.capture!.sites.push(site);
    }
    const roles: ('x' | 'w' | 'b' | 'anchor')[] = [];
    const inputs: tf.Tensor[] = [];
    const input = (role: (typeof roles)[number], t: tf.Tensor): void => {
      roles.push(role);
      inputs.push(t);
    };
    if (!xConst) input('x', x);
    if (wantW) input('w', w);
    if (wantB) input('b', b!);
    if (anchor !== undefined) input('anchor', anchor);
    const forward = (xv: tf.Tensor, wv: tf.Tensor, bv: tf.Tensor | null, av: tf.Tensor | undefined): tf.Tensor3D => {
      let y = tf.matMul(xv.reshape([n * t, din]), wv);
      if (bv !== null) y = y.add(bv);
      if (av !== undefined) y = y.add(av);
      return y.reshape([n, t, dout]);
    };
    if (inputs.length === 0 || this.o.inference === true) return forward(x, w, b, anchor);
    const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
      const get = (role: (typeof roles)[number], fallback: tf.Tensor | null): tf.Tensor | null => {
        const i = roles.indexOf(role);
        return i < 0 ? fallback : (args[i] as tf.Tensor);
      };
      const xv = get('x', x)!;
      const wv = get('w', w)!;
      // Tensors the backward needs go through `save` (tf disposes the forward's intermediates before backprop); a
      // saved tensor is cloned, which on wasm copies it. W is a variable, never an intermediate, and the optimizer
      // changes it only after the backward: it is read directly (1,480 weight copies per masked paper-setting step).
      (args[roles.length] as unknown as (ts: tf.Tensor[]) => void)(wantW ? [xv] : []);
      return {
        value: forward(xv, wv, get('b', b), get('anchor', anchor ?? null) ?? undefined),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          if (site !== null) site.dy = tf.keep(dy.clone()) as tf.Tensor3D;
          const dy2 = dy.reshape([n * t, dout]);
          return roles.map((role) => {
            if (role === 'x') return matmulT(dy2, wv, false, true).reshape([n, t, din]);
            if (role === 'w') return matmulT(saved[0].reshape([n * t, din]), dy2, true, false);
            const sum = dy2.sum(0);
            return role === 'b' ? sum : sum.reshape(anchor!.shape);
          });
        },
      };
    };
    return tf.customGrad(fn)(...inputs) as tf.Tensor3D;
  }

  /**
   * The adapter's first layer from `z` = x·W1 + b1 computed by the caller: records the fc1 site (x = the constant
   * image features, read from the examples by per-row-grads.ts) and its δ through the anchor.
   */
  private preActivated(z: tf.Tensor3D, p: LinearParams, rows: number[], anchor: tf.Tensor | undefined): tf.Tensor3D {
    if (this.o.capture === null || anchor === undefined)
      throw new Error('pre-activated image tokens need a capture and an anchor (the per-row path)');
    let site: LinearSite | null = null;
    if (this.trainable(p.w)) {
      site = { kind: 'linear', w: p.w, b: p.b, x: z, dy: null, rows, xConst: true };
      this.o.capture.sites.push(site);
    }
    const fn: Parameters<typeof tf.customGrad>[0] = (...args) => ({
      value: z.add(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => {
        if (site !== null) site.dy = tf.keep(dy.clone()) as tf.Tensor3D;
        return dy.sum([0, 1]).reshape(anchor.shape);
      },
    });
    return tf.customGrad(fn)(anchor) as tf.Tensor3D;
  }

  linear(x: tf.Tensor3D, p: LinearParams, rows: number[], anchor?: tf.Tensor, xConst = false): tf.Tensor3D {
    let y = this.matmulSite(x, p.w, p.b, rows, anchor, xConst);
    if (p.lora !== null) {
      const lora = this.o.config.lora!;
      const xd = this.dropout(x, lora.dropout) as tf.Tensor3D;
      const u = this.matmulSite(xd, p.lora.a, null, rows);
      const v = this.matmulSite(u.mul(p.lora.scale) as tf.Tensor3D, p.lora.b, null, rows);
      y = y.add(v);
    }
    return y;
  }

  /**
   * LayerNorm over the last axis, y = xhat·g + b, as one custom-gradient op with the analytic backward
   * dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat⊙xhat)), dxhat = dy·g (~8 kernels where autodiff of the
   * composed forward ran ~25). g and b get tf gradients only without a capture (with one, the site gives them).
   */
  layerNorm(x: tf.Tensor3D, p: NormParams, rows: number[]): tf.Tensor3D {
    let site: NormSite | null = null;
    if (this.trainable(p.g)) {
      site = { kind: 'norm', g: p.g, b: p.b, xhat: null as unknown as tf.Tensor3D, dy: null, rows };
      this.o.capture!.sites.push(site);
    }
    const wantParams = p.g.trainable && this.o.capture === null;
    if (this.o.inference === true) {
      const mean = x.mean(-1, true);
      const xc = x.sub(mean);
      return xc
        .mul(tf.rsqrt(xc.square().mean(-1, true).add(1e-5)))
        .mul(p.g)
        .add(p.b) as tf.Tensor3D;
    }
    const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
      const xv = args[0] as tf.Tensor3D;
      const g = wantParams ? (args[1] as tf.Tensor) : p.g;
      const b = wantParams ? (args[2] as tf.Tensor) : p.b;
      const mean = xv.mean(-1, true);
      const xc = xv.sub(mean);
      const rstd = tf.rsqrt(xc.square().mean(-1, true).add(1e-5));
      const xhat = xc.mul(rstd) as tf.Tensor3D;
      if (site !== null) site.xhat = tf.keep(xhat.clone());
      (args[wantParams ? 3 : 1] as unknown as (ts: tf.Tensor[]) => void)([xhat, rstd, g]);
      return {
        value: xhat.mul(g).add(b),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          if (site !== null) site.dy = tf.keep(dy.clone()) as tf.Tensor3D;
          const [xh, rs, gv] = saved;
          const dxhat = dy.mul(gv);
          const dx = rs.mul(dxhat.sub(dxhat.mean(-1, true)).sub(xh.mul(dxhat.mul(xh).mean(-1, true))));
          if (!wantParams) return dx;
          return [dx, dy.mul(xh).sum([0, 1]), dy.sum([0, 1])];
        },
      };
    };
    return tf.customGrad(fn)(...(wantParams ? [x, p.g, p.b] : [x])) as tf.Tensor3D;
  }

  /** Hidden states after the final LayerNorm, R × T × d. */
  hidden(inputs: ForwardInputs): tf.Tensor3D {
    const { params, batch } = this.o;
    const allRows = batch.rows.map((_, i) => i);
    let imgOut: tf.Tensor3D | null = null;
    const pre =
      inputs.imgPre !== undefined
        ? this.preActivated(inputs.imgPre, params.fc1, batch.imageRows, inputs.imgAnchor)
        : inputs.imgFeat !== null
          ? this.linear(inputs.imgFeat, params.fc1, batch.imageRows, inputs.imgAnchor, true)
          : null;
    if (pre !== null) imgOut = this.linear(gelu(pre, this.o.inference) as tf.Tensor3D, params.fc2, batch.imageRows);
    const pooled = batch.rows.some((row) => row.segments.some((s) => s.kind === 'tokPool' || s.kind === 'imgPool'));
    const h0 = pooled ? this.assemblePooled(inputs.tokEmb, imgOut) : this.assemble(inputs.tokEmb, imgOut);
    const h = h0.add(inputs.posEmb) as tf.Tensor3D;
    const bias = tf.tensor4d(batch.attnBias, [batch.R, 1, batch.T, batch.T]);
    return this.blocks(h, bias, allRows, null);
  }

  /**
   * Each row's slot sequence (R × T × d) from its token embeddings and its image tokens, as ONE gather over both
   * sources (pad slots: zeros). Per-row slices were ~6 kernels per row, and on wasm every Slice copies its whole
   * input out of the heap first.
   */
  private assemble(tokEmb: tf.Tensor3D, imgOut: tf.Tensor3D | null): tf.Tensor3D {
    const { batch, config } = this.o;
    const d = config.dModel;
    const { R, T } = batch;
    const tokLen = tokEmb.shape[1];
    const nTok = R * tokLen;
    const imgLen = imgOut === null ? 0 : imgOut.shape[1];
    const imgPos = new Map(batch.imageRows.map((r, i) => [r, i]));
    const idx = new Int32Array(R * T).fill(-1);
    batch.rows.forEach((row, r) => {
      let slot = 0;
      for (const s of row.segments) {
        const base = s.kind === 'tok' ? r * tokLen : nTok + imgPos.get(r)! * imgLen;
        for (let k = 0; k < s.len; k++) idx[r * T + slot++] = base + s.start + k;
      }
      if (slot !== row.length) throw new Error(`row ${r}: segments cover ${slot} of ${row.length} slots`);
    });
    const toks = tokEmb.reshape([nTok, d]) as tf.Tensor2D;
    const source =
      imgOut === null ? toks : (tf.concat([toks, imgOut.reshape([imgOut.shape[0] * imgLen, d])], 0) as tf.Tensor2D);
    return injectiveGather(source, idx).reshape([R, T, d]);
  }

  /** The same for rows with pooled spans (feature compression): per-row pieces, pooled by a small matmul. */
  private assemblePooled(tokEmb: tf.Tensor3D, imgOut: tf.Tensor3D | null): tf.Tensor3D {
    const { batch, config } = this.o;
    const d = config.dModel;
    const imgPerRow = new Map<number, tf.Tensor2D>();
    if (imgOut !== null) {
      // Slices, not tf.unstack: Unpack's gradient fails when some outputs get no gradient.
      const len = imgOut.shape[1];
      batch.imageRows.forEach((r, i) => imgPerRow.set(r, imgOut.slice([i, 0, 0], [1, len, d]).reshape([len, d])));
    }
    const tokLen = tokEmb.shape[1];
    const tokPerRow = batch.rows.map(
      (_, r) => tokEmb.slice([r, 0, 0], [1, tokLen, d]).reshape([tokLen, d]) as tf.Tensor2D,
    );
    const rowTensors = batch.rows.map((row, r) => {
      const pieces: tf.Tensor2D[] = [];
      for (const s of row.segments) {
        if (s.len === 0) continue;
        const source = s.kind === 'tok' || s.kind === 'tokPool' ? tokPerRow[r] : imgPerRow.get(r)!;
        const span = source.slice([s.start, 0], [s.len, d]);
        if (s.kind === 'tokPool' || s.kind === 'imgPool') {
          pieces.push(matmul(poolMatrix(s.groups, s.len), span, 'b'));
        } else {
          pieces.push(span);
        }
      }
      if (row.length < batch.T) pieces.push(tf.zeros([batch.T - row.length, d]));
      return pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
    });
    return tf.stack(rowTensors) as tf.Tensor3D;
  }

  /** The transformer blocks and final LayerNorm; `past` = cached keys/values of earlier slots (decoding). */
  blocks(h: tf.Tensor3D, bias: tf.Tensor4D, allRows: number[], past: KvCache[] | null): tf.Tensor3D {
    const { config, params } = this.o;
    params.blocks.forEach((block, i) => {
      const layer = (x: tf.Tensor3D): tf.Tensor3D => {
        const a = this.attention(
          this.layerNorm(x, block.ln1, allRows),
          block,
          bias,
          allRows,
          past === null ? null : past[i],
        );
        const y = x.add(this.dropout(a, config.dropout)) as tf.Tensor3D;
        const m = this.linear(
          gelu(this.linear(this.layerNorm(y, block.ln2, allRows), block.up, allRows), this.o.inference) as tf.Tensor3D,
          block.down,
          allRows,
        );
        return y.add(this.dropout(m, config.dropout)) as tf.Tensor3D;
      };
      // Without a gradient tape nothing needs a layer's intermediates once it has run: free them per layer. (In
      // one scope, a decoding prompt of 32 rows × 340 slots held every layer's attention at once and exhausted the
      // wasm heap.) The key/value cache is kept (tf.keep) and survives the scope.
      const x = h;
      h = this.o.inference === true ? tf.tidy(() => layer(x)) : layer(x);
    });
    return this.layerNorm(h, params.lnF, allRows);
  }

  private attention(
    x: tf.Tensor3D,
    block: ModelParams['blocks'][number],
    bias: tf.Tensor4D,
    rows: number[],
    past: KvCache | null,
  ): tf.Tensor3D {
    const { nHeads, dModel } = this.o.config;
    const [R, T] = x.shape;
    const dh = dModel / nHeads;
    const heads = (t: tf.Tensor3D): tf.Tensor4D => t.reshape([R, T, nHeads, dh]).transpose([0, 2, 1, 3]);
    const q = heads(this.linear(x, block.q, rows));
    let k = heads(this.linear(x, block.k, rows));
    let v = heads(this.linear(x, block.v, rows));
    if (past !== null) {
      k = tf.concat([past.k, k], 2);
      v = tf.concat([past.v, v], 2);
    }
    if (this.kvOut !== null) this.kvOut.push({ k: tf.keep(k), v: tf.keep(v) });
    const scores = matmul<tf.Tensor4D>(q, swapLast(k))
      .mul(1 / Math.sqrt(dh))
      .add(bias);
    const att = matmul<tf.Tensor4D>(tf.softmax(scores), v); // R × h × T × dh
    const merged = att.transpose([0, 2, 1, 3]).reshape([R, T, dModel]) as tf.Tensor3D;
    return this.linear(merged, block.o, rows);
  }

  /** Logits at the answer-predicting slots, R × A × V (padded answer positions: logits of a zero state). */
  answerLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    const { batch, params, config } = this.o;
    const { R, A, T } = batch;
    const idx = new Int32Array(R * A).fill(-1);
    batch.rows.forEach((row, r) => {
      for (let a = 0; a < row.answer.length; a++) idx[r * A + a] = r * T + row.answerStart + a - 1;
    });
    const picked = injectiveGather(hidden.reshape([R * T, config.dModel]) as tf.Tensor2D, idx);
    return this.linear(
      picked.reshape([R, A, config.dModel]),
      params.head,
      batch.rows.map((_, i) => i),
    );
  }

  /** Mean cross-entropy over each row's answer tokens, shape R. */
  rowLosses(inputs: ForwardInputs): tf.Tensor1D {
    const { batch } = this.o;
    const logits = this.answerLogits(this.hidden(inputs));
    const nll = sparseCrossEntropy(logits, batch.targets);
    return nll.mul(tf.tensor2d(batch.lossWeight, [batch.R, batch.A])).sum(-1) as tf.Tensor1D;
  }
}

/** Per-row losses (R) from a batched forward. Differentiable w.r.t. variables and `inputs`. */
export function forwardRowLosses(o: ForwardOptions, inputs: ForwardInputs): tf.Tensor1D {
  return new Runner(o).rowLosses(inputs);
}

/** Final hidden states at every slot (R × T × d). */
export function forwardHidden(o: ForwardOptions, inputs: ForwardInputs): tf.Tensor3D {
  return new Runner(o).hidden(inputs);
}

/** Logits at every slot (R × T × V) — for decoding (select the last slot before calling if T is large). */
export function forwardLastLogits(o: ForwardOptions, inputs: ForwardInputs, lastSlots: number[]): tf.Tensor2D {
  const runner = new Runner({ ...o, inference: true });
  const h = runner.hidden(inputs);
  const { batch, params } = o;
  const sel = new Float32Array(batch.R * batch.T);
  lastSlots.forEach((s, r) => (sel[r * batch.T + s] = 1));
  const last = tf.matMul(tf.tensor3d(sel, [batch.R, 1, batch.T]), h).reshape([batch.R, o.config.dModel]);
  return tf.matMul(last, params.head.w) as tf.Tensor2D;
}

/** Embedding lookups for a batch (differentiable w.r.t. trainable embedding tables). */
export function gatherInputs(
  params: ModelParams,
  config: LmConfig,
  batch: BatchLayout,
  examples: { image: Float32Array | null }[],
  withImages = true,
): ForwardInputs {
  const tokEmb = embeddingLookup(params.tokEmb, batch.tokIds).reshape([
    batch.R,
    batch.tokLen,
    config.dModel,
  ]) as tf.Tensor3D;
  const posEmb = embeddingLookup(params.posEmb, batch.posIds).reshape([batch.R, batch.T, config.dModel]) as tf.Tensor3D;
  return { tokEmb, posEmb, imgFeat: withImages ? imageFeatures(config, batch, examples) : null };
}

/**
 * tf.gather with a scatter-add gradient done in JS. tf.gather's own gradient is UnsortedSegmentSum, which wasm
 * lacks and whose cpu implementation loops over all V segments (seconds per step for an 8k vocabulary).
 */
function embeddingLookup(table: tf.Variable, ids: Int32Array): tf.Tensor2D {
  if (!table.trainable) return gatherRows(table as tf.Tensor2D, ids);
  const [V, d] = table.shape as [number, number];
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => ({
    value: gatherRows(args[0] as tf.Tensor2D, ids),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync();
      const out = EMBEDDING_GRAD.take(V * d);
      for (let i = 0; i < ids.length; i++) {
        const src = i * d;
        const dst = ids[i] * d;
        for (let k = 0; k < d; k++) out[dst + k] += g[src + k];
      }
      return tf.tensor2d(out, [V, d]);
    },
  });
  return tf.customGrad(fn)(table) as tf.Tensor2D;
}

/** Gathers each image row's listed grid features (constants: the encoder is frozen), zero-padded. */
export function imageFeatures(
  config: LmConfig,
  batch: BatchLayout,
  examples: { image: Float32Array | null }[],
): tf.Tensor3D | null {
  if (batch.imageRows.length === 0) return null;
  const C = config.imageFeatureDim;
  const out = IMAGE_FEATURES.take(batch.imageRows.length * batch.imgLen * C);
  batch.imageRows.forEach((r, i) => {
    const feats = examples[r].image!;
    batch.rows[r].imgIdx.forEach((g, j) => out.set(feats.subarray(g * C, (g + 1) * C), (i * batch.imgLen + j) * C));
  });
  return tf.tensor3d(out, [batch.imageRows.length, batch.imgLen, C]);
}

/**
 * Rows of `x` (N × d) picked by `idx` (−1: a zero row), no source row picked twice — so the gradient is a gather
 * back by the inverse map. (tf.gather's own gradient is UnsortedSegmentSum, which wasm lacks and the cpu backend
 * runs slowly.)
 */
export function injectiveGather(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const N = x.shape[0];
  const inv = new Int32Array(N).fill(-1);
  idx.forEach((j, i) => {
    if (j < 0) return;
    if (!(j < N) || inv[j] !== -1)
      throw new RangeError(`injectiveGather: source row ${j} out of range or picked twice`);
    inv[j] = i;
  });
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => ({
    value: gatherRows(args[0] as tf.Tensor2D, idx),
    gradFunc: (dy: tf.Tensor) => gatherRows(dy as tf.Tensor2D, inv),
  });
  return tf.customGrad(fn)(x) as tf.Tensor2D;
}

function poolMatrix(groups: number[][], len: number): tf.Tensor2D {
  const m = new Float32Array(groups.length * len);
  groups.forEach((g, i) => g.forEach((j) => (m[i * len + j] = 1 / g.length)));
  return tf.tensor2d(m, [groups.length, len]);
}

/**
 * GELU, tanh approximation (GPT-2 / LLaVA projector), with its derivative written out (one custom-gradient op). With
 * the native kernels (models/tf/native-matmul.ts) one pass forward and one backward with a vector tanh; wasm's Tanh
 * is the C library's, one value at a time (9 % of a paper-setting fine-tuning step).
 */
export function gelu(x: tf.Tensor, inference = false): tf.Tensor {
  if (nativeVectorReady()) return nativeGelu(x, inference);
  const c = Math.sqrt(2 / Math.PI);
  if (inference) return x.mul(0.5).mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(c)).add(1));
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
    const xv = args[0] as tf.Tensor;
    const th = tf.tanh(xv.add(xv.mul(xv).mul(xv).mul(0.044715)).mul(c));
    (args[1] as unknown as (ts: tf.Tensor[]) => void)([xv, th]);
    return {
      value: xv.mul(0.5).mul(th.add(1)),
      // d/dx = 0.5·(1 + th) + 0.5·x·(1 − th²)·c·(1 + 3·0.044715·x²)
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ths] = saved;
        const inner = xs
          .square()
          .mul(3 * 0.044715 * c)
          .add(c);
        const d = ths
          .add(1)
          .mul(0.5)
          .add(xs.mul(0.5).mul(tf.sub(1, ths.square())).mul(inner));
        return dy.mul(d);
      },
    };
  };
  return tf.customGrad(fn)(x);
}

function nativeGelu(x: tf.Tensor, inference: boolean): tf.Tensor {
  if (inference) return tf.engine().runKernel(GELU_KERNEL, { x }, {}) as tf.Tensor;
  // Only x is saved (saving copies on wasm); the backward kernel recomputes the tanh term from it.
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
    const xv = args[0] as tf.Tensor;
    (args[1] as unknown as (ts: tf.Tensor[]) => void)([xv]);
    return {
      value: tf.engine().runKernel(GELU_KERNEL, { x: xv }, {}) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(GELU_GRAD_KERNEL, { x: saved[0], dy }, {}) as tf.Tensor,
    };
  };
  return tf.customGrad(fn)(x);
}

/** Prompt pass for incremental decoding: next-token logits at `lastSlots` and every layer's keys/values (kept). */
export function forwardPromptCache(
  o: ForwardOptions,
  inputs: ForwardInputs,
  lastSlots: number[],
): { logits: tf.Tensor2D; cache: KvCache[] } {
  const runner = new Runner({ ...o, inference: true });
  runner.kvOut = [];
  const h = runner.hidden(inputs);
  const { batch, params } = o;
  const sel = new Float32Array(batch.R * batch.T);
  lastSlots.forEach((s, r) => (sel[r * batch.T + s] = 1));
  const last = tf.matMul(tf.tensor3d(sel, [batch.R, 1, batch.T]), h).reshape([batch.R, o.config.dModel]);
  return { logits: tf.matMul(last, params.head.w) as tf.Tensor2D, cache: runner.kvOut };
}

/**
 * One decoding step: `x` (H × 1 × d, token + position embeddings of each hypothesis's newest token) attends to
 * `past` (H × heads × Tpast × dh per layer) under `bias` (H × 1 × 1 × (Tpast + 1)). Returns logits and the
 * extended caches (kept).
 */
export function forwardStepCache(
  o: ForwardOptions,
  x: tf.Tensor3D,
  past: KvCache[],
  bias: tf.Tensor4D,
): { logits: tf.Tensor2D; cache: KvCache[] } {
  const runner = new Runner({ ...o, inference: true });
  runner.kvOut = [];
  const H = x.shape[0];
  const h = runner.blocks(
    x,
    bias,
    Array.from({ length: H }, (_, i) => i),
    past,
  );
  return { logits: tf.matMul(h.reshape([H, o.config.dModel]), o.params.head.w) as tf.Tensor2D, cache: runner.kvOut };
}
