// Analytic FLOP counts of the keyphrase LM (models/lm/forward.ts), counting each multiply-add as 2 FLOPs.
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from '../lm/contract';
import { buildBatchLayout, buildRowLayout } from '../lm/layout';

/** The token counts of one row as the LM lays it out. */
export interface RowShape {
  /** Image tokens through the adapter (G² when present, 0 without image). */
  imageTokens: number;
  /** Slots of the sequence the transformer runs over (prompt + image + text + answer). */
  seqLen: number;
  /** Answer tokens (positions where the LM head runs). */
  answerTokens: number;
}

export interface ForwardFlops {
  adapter: number;
  /** QKV/O projections and the MLP of every block. */
  dense: number;
  /** QKᵀ and attention·V (the full T×T product, as computed). */
  attention: number;
  /** Answer-slot selection and the vocabulary projection. */
  head: number;
  total: number;
}

/** Forward FLOPs of one row. Norms, softmax, GELU and adds are O(T·d) and left out. */
export function forwardFlops(c: LmConfig, row: RowShape): ForwardFlops {
  const d = c.dModel;
  const T = row.seqLen;
  const r = c.lora?.rank ?? 0;
  // Every linear layer with LoRA adds x·A (d×r) and (·)·B (r×dout).
  const loraPerToken = c.lora === null ? 0 : 2 * (4 * (d * r + r * d) + (d * r + r * c.dFF) + (c.dFF * r + r * d));
  const adapter = 2 * row.imageTokens * (c.imageFeatureDim * c.adapterHidden + c.adapterHidden * d);
  const dense = c.nLayers * T * (2 * (4 * d * d + 2 * d * c.dFF) + loraPerToken);
  const attention = c.nLayers * 2 * 2 * T * T * d;
  const head = 2 * row.answerTokens * T * d + 2 * row.answerTokens * d * c.vocabSize;
  return { adapter, dense, attention, head, total: adapter + dense + attention + head };
}

/** A training step's FLOPs for a row: forward + backward ≈ 3 × forward (backward ≈ 2 × forward). */
export function trainFlops(c: LmConfig, row: RowShape): number {
  return 3 * forwardFlops(c, row).total;
}

/** Forward FLOPs of one batched call as the LM executes it (padded) and as its rows need them (unpadded). */
export interface BatchFlops {
  /** Rows padded to the batch's longest row / image span / answer, as the tensors are shaped. */
  executed: number;
  /** Each row at its own length (masked tokens dropped). */
  useful: number;
  rows: number;
}

export function batchForwardFlops(c: LmConfig, template: PromptTemplate, examples: readonly EncodedExample[], variants: readonly RowVariant[]): BatchFlops {
  const rows = examples.map((e, i) => buildRowLayout(e, variants[i], template, c, { compact: true }));
  const b = buildBatchLayout(rows, template.pad);
  const executedAdapter = forwardFlops(c, { imageTokens: b.imgLen, seqLen: 0, answerTokens: 0 }).adapter * b.imageRows.length;
  const perRowPadded = forwardFlops(c, { imageTokens: 0, seqLen: b.T, answerTokens: b.A });
  const executed = executedAdapter + b.R * perRowPadded.total;
  const useful = rows.reduce((s, r) => s + forwardFlops(c, { imageTokens: r.imgIdx.length, seqLen: r.length, answerTokens: r.answer.length }).total, 0);
  return { executed, useful, rows: b.R };
}
