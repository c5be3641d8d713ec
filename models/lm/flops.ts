// Analytic forward FLOP counts of the keyphrase LM (models/lm/forward.ts), counting each multiply-add as 2 FLOPs.
// The call planner uses them to trade padding against per-call overhead; the benchmark reports them.
import type { LmConfig } from './contract';

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
