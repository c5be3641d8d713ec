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
  /** Fixed cost per pass in forward FLOPs; Infinity = one pass (no split). */
  passOverheadFlops?: number;
}

interface RowSize {
  row: number;
  len: number;
  img: number;
  ans: number;
}

/** Forward FLOPs of running `rows` in one pass, every row padded to the pass's maxima. */
function passCost(c: LmConfig, rows: readonly RowSize[]): number {
  let len = 0;
  let img = 0;
  let ans = 0;
  let withImage = 0;
  for (const r of rows) {
    len = Math.max(len, r.len);
    img = Math.max(img, r.img);
    ans = Math.max(ans, r.ans);
    if (r.img > 0) withImage++;
  }
  const seq = forwardFlops(c, { imageTokens: 0, seqLen: len, answerTokens: ans }).total;
  const adapter = forwardFlops(c, { imageTokens: img, seqLen: 0, answerTokens: 0 }).adapter;
  return rows.length * seq + withImage * adapter;
}

/**
 * A partition of the rows 0..R-1 into passes (each pass's rows in ascending row order; passes ordered by length).
 * Rows are sorted by length and cut into contiguous runs by dynamic programming on the padded FLOPs plus the
 * per-pass overhead, so the plan is optimal among length-sorted splits.
 */
export function planPasses(c: LmConfig, rows: readonly RowLayout[], options: CallPlanOptions = {}): number[][] {
  const overhead = options.passOverheadFlops ?? DEFAULT_PASS_OVERHEAD_FLOPS;
  const all = rows.map((_, i) => i);
  if (rows.length <= 1 || !Number.isFinite(overhead)) return rows.length === 0 ? [] : [all];
  const sizes: RowSize[] = rows
    .map((r, i) => ({ row: i, len: r.length, img: r.imgIdx.length, ans: r.answer.length }))
    .sort((a, b) => a.len - b.len || a.img - b.img || a.ans - b.ans || a.row - b.row);
  const n = sizes.length;
  // best[j]: cheapest plan of the first j sorted rows; cut[j]: where its last pass starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    for (let i = 0; i < j; i++) {
      const cost = best[i] + overhead + passCost(c, sizes.slice(i, j));
      if (cost < best[j]) {
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
        p.map((i) => ({ row: i, len: rows[i].length, img: rows[i].imgIdx.length, ans: rows[i].answer.length })),
      ),
    0,
  );
}
