// Splits the rows of one batched call into length-homogeneous passes. A batched tensor pads every row to the
// longest row (and image span, and answer) of its call, so mixing an original row with its image-masked copy
// (40 of 49 image tokens dropped) wastes most of the short row's compute. Rows never interact, so running them in
// several passes and summing gives the same losses and gradients; each pass costs a fixed overhead (kernel
// launches, per-site bookkeeping), which the plan trades against the padding it removes.
import type { LmConfig } from './contract';
import { forwardFlops } from './flops';
import type { RowLayout } from './layout';

/**
 * Fixed cost of one extra pass, in forward FLOPs. Measured on the wasm backend (docs/benchmarks.md): a pass of
 * the presets' model runs a few hundred kernels at ~20–40 µs each on top of its FLOPs; at ~5 GFLOP/s that is
 * about 30 MFLOP of forward work (the backward's share included).
 */
export const DEFAULT_PASS_OVERHEAD_FLOPS = 30e6;

export interface CallPlanOptions {
  /** Fixed cost per pass in forward FLOPs; Infinity = one pass (no split, unless the memory cap splits). */
  passOverheadFlops?: number;
  /** The most bytes one pass may hold at its peak (passBytes); default DEFAULT_PASS_BYTES. A row over it runs alone. */
  passBytesBudget?: number;
}

/**
 * Per-pass memory cap. The wasm heap ends at 4 GiB (wasm32), and what one training pass holds grows with its rows:
 * 16 rows of the large base at 278 slots took 3.3 GiB, 24 ran out ("memory access out of bounds" inside malloc).
 * 1.5 GiB leaves room for the model, its optimizer state, the per-row captures the filter keeps across a call's
 * passes (≈ 1 GiB for a masked step of 16 samples) and allocator slack: the worst masked step measured (16 samples
 * of 340 slots) peaked at 2.3 GiB of heap. Native backends have more room.
 */
export const DEFAULT_PASS_BYTES = { wasm: 1.5 * 2 ** 30, other: 8 * 2 ** 30 } as const;

/**
 * Peak bytes of one training pass of `rows` rows padded to `slots` slots, `imageTokens` image tokens and
 * `answerTokens` answer tokens, estimated. tf's gradient tape keeps every forward intermediate until the backward
 * has run, so per row a pass holds, in floats: per layer ≈ 72 per slot and model dimension, 8 per slot and FFN unit
 * and 8 per head and (slot × slot) attention entry; ≈ 12 per image token and feature / adapter / model width; ≈ 5 per
 * answer token and vocabulary entry. Fitted on wasm (2026-12-05) to the heap growth of one pass of the large base
 * with d, dFF, heads and layers varied one at a time; since Identity stopped copying saved tensors it is at or up
 * to 9 % above every measured pass (`npm run bench:memory`; docs/model.md "Pass memory").
 */
export function passBytes(c: LmConfig, rows: number, slots: number, imageTokens: number, answerTokens: number): number {
  const perLayer = slots * (72 * c.dModel + 8 * c.dFF) + 8 * c.nHeads * slots * slots;
  const image = imageTokens * 12 * (c.imageFeatureDim + c.adapterHidden + c.dModel);
  const answer = answerTokens * 5 * c.vocabSize;
  return 4 * rows * (c.nLayers * perLayer + image + answer);
}

interface RowSize {
  row: number;
  len: number;
  img: number;
  ans: number;
}

/** A pass's padded sizes: every row padded to its longest row, image span and answer; rows with an image. */
interface Padded {
  len: number;
  img: number;
  ans: number;
  withImage: number;
}

function paddedSizes(rows: readonly RowSize[]): Padded {
  const p: Padded = { len: 0, img: 0, ans: 0, withImage: 0 };
  for (const r of rows) widen(p, r);
  return p;
}

/** Adds a row to a pass's padded sizes. */
function widen(p: Padded, r: RowSize): void {
  p.len = Math.max(p.len, r.len);
  p.img = Math.max(p.img, r.img);
  p.ans = Math.max(p.ans, r.ans);
  if (r.img > 0) p.withImage++;
}

/** Forward FLOPs of running `n` rows in one pass, every row padded to `p`. */
function passCost(c: LmConfig, n: number, p: Padded): number {
  const seq = forwardFlops(c, { imageTokens: 0, seqLen: p.len, answerTokens: p.ans }).total;
  const adapter = forwardFlops(c, { imageTokens: p.img, seqLen: 0, answerTokens: 0 }).adapter;
  return n * seq + p.withImage * adapter;
}

/**
 * A partition of the rows 0..R-1 into passes (each pass's rows in ascending row order; passes ordered by length).
 * Rows are sorted by length and cut into contiguous runs by dynamic programming on the padded FLOPs plus the
 * per-pass overhead, so the plan is optimal among length-sorted splits whose passes stay within the memory cap
 * (a single row over the cap still runs, alone).
 */
export function planPasses(c: LmConfig, rows: readonly RowLayout[], options: CallPlanOptions = {}): number[][] {
  const overhead = options.passOverheadFlops ?? DEFAULT_PASS_OVERHEAD_FLOPS;
  const budget = options.passBytesBudget ?? DEFAULT_PASS_BYTES.wasm;
  const all = rows.map((_, i) => i);
  if (rows.length === 0) return [];
  const sizes: RowSize[] = rows
    .map((r, i) => ({ row: i, len: r.length, img: r.imgIdx.length, ans: r.answer.length }))
    .sort((a, b) => a.len - b.len || a.img - b.img || a.ans - b.ans || a.row - b.row);
  const whole = paddedSizes(sizes);
  if (
    rows.length === 1 ||
    (!Number.isFinite(overhead) && passBytes(c, rows.length, whole.len, whole.img, whole.ans) <= budget)
  )
    return [all];
  const n = sizes.length;
  // best[j]: cheapest plan of the first j sorted rows; cut[j]: where its last pass starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    // The run sizes[i..j-1], grown one row to the left at a time.
    const p: Padded = { len: 0, img: 0, ans: 0, withImage: 0 };
    for (let i = j - 1; i >= 0; i--) {
      widen(p, sizes[i]);
      // Longer runs only hold more: once over the cap, no earlier start fits either.
      if (j - i > 1 && passBytes(c, j - i, p.len, p.img, p.ans) > budget) break;
      // With an infinite overhead (one pass asked for), passes cost only their count: as few as the cap allows.
      const cost = best[i] + (Number.isFinite(overhead) ? overhead + passCost(c, j - i, p) : 1);
      // `<=` from the right keeps the tie rule of a left-to-right scan with `<`: the earliest start wins.
      if (cost <= best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const passes: number[][] = [];
  for (let j = n; j > 0; j = cut[j])
    passes.unshift(
      sizes
        .slice(cut[j], j)
        .map((s) => s.row)
        .sort((a, b) => a - b),
    );
  return passes;
}

/** Padded forward FLOPs of a plan (what the tensors execute). */
export function planCost(c: LmConfig, rows: readonly RowLayout[], passes: readonly number[][]): number {
  return passes.reduce(
    (s, p) =>
      s +
      passCost(
        c,
        p.length,
        paddedSizes(
          p.map((i) => ({ row: i, len: rows[i].length, img: rows[i].imgIdx.length, ans: rows[i].answer.length })),
        ),
      ),
    0,
  );
}
