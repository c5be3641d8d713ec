// Analytic FLOP counts of the keyphrase LM (models/lm/forward.ts), counting each multiply-add as 2 FLOPs.
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from '../lm/contract';
import { forwardFlops, type RowShape } from '../lm/flops';
import { planCost, planPasses } from '../lm/call-plan';
import { buildRowLayout } from '../lm/layout';

export { forwardFlops, type ForwardFlops, type RowShape } from '../lm/flops';

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

export function batchForwardFlops(
  c: LmConfig,
  template: PromptTemplate,
  examples: readonly EncodedExample[],
  variants: readonly RowVariant[],
): BatchFlops {
  const rows = examples.map((e, i) => buildRowLayout(e, variants[i], template, c, { compact: true }));
  // As the model runs them: one padded batch per length pass of the call plan.
  const executed = planCost(c, rows, planPasses(c, rows));
  const useful = rows.reduce(
    (s, r) =>
      s + forwardFlops(c, { imageTokens: r.imgIdx.length, seqLen: r.length, answerTokens: r.answer.length }).total,
    0,
  );
  return { executed, useful, rows: rows.length };
}
