// The contract between the language-model core (models/lm/) and the training orchestration (models/train/).
// The model owns every tensor; the trainer sees plain arrays, variables and this interface.
import type * as tf from '@tensorflow/tfjs';
import type { DecodeStrategy, EvalMode, MaskKind } from '../../shared/vocabulary';

/**
 * EvalMode: which modalities a prompt carries; the absent modality is removed from the prompt (not masked).
 * MaskKind: how a masked row keeps tokens (SPEC §1):
 * - structured: keep the last token of each stride window (text) / bottom-right of each s×s block (image), nested as s doubles.
 * - random: the same number of kept tokens as `structured`, chosen at random from `seed` (not nested).
 * - pool: "feature compression": average-pool windows instead of masking; positions are not kept.
 * Both lists live in shared/vocabulary.ts.
 */
export type { EvalMode, MaskKind };

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
}

export interface LmConfig {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  dFF: number;
  /** Longest sequence (prompt + answer) the position table covers. */
  maxPositions: number;
  /** C: channels of one image token as the (frozen) encoder emits it. */
  imageFeatureDim: number;
  /** G: the encoder's feature map is a G×G grid, flattened row-major into G² image tokens. */
  imageGrid: number;
  /** Hidden width of the 2-layer GELU adapter (LLaVA's projector). */
  adapterHidden: number;
  /** Dropout on the LM's residual branches (0 = off). */
  dropout: number;
  /** null = every LM parameter trains; otherwise LM base weights are frozen and LoRA adapters train. */
  lora: LoraConfig | null;
  /**
   * true: every LM base weight is frozen even without LoRA, so only the adapter trains (the alignment stage of the
   * paper setting). Absent/false: as `lora` says.
   */
  freezeLm?: boolean;
}

/** Fixed token ids of the prompt template `[prefix][image][text][instruction][answer]`. */
export interface PromptTemplate {
  prefix: Int32Array;
  instruction: Int32Array;
  eos: number;
  pad: number;
}

/** One sample after tokenization and image encoding. */
export interface EncodedExample {
  /** Dense index 0..N-1 of the sample in its split: the key of the stride maps and the data order. */
  index: number;
  id: string;
  /** G*G*C encoder features, row-major (grid row, grid col, channel); null = the item has no image. */
  image: Float32Array | null;
  /** Post text ids, no special tokens. */
  text: Int32Array;
  /** Answer ids `kp1 , kp2 <eos>`; empty for pure decoding. */
  answer: Int32Array;
}

/** One row to run: the sample, which modalities the prompt carries, and how its spans are masked. */
export interface RowVariant {
  mode: EvalMode;
  /** 1 = no masking. */
  textStride: number;
  imageStride: number;
  kind: MaskKind;
  /** Seed for `random` masking. */
  seed: number;
}

export interface RowLosses {
  /** Mean cross-entropy over the row's answer tokens. */
  losses: Float32Array;
  /** Number of answer tokens (loss positions) of each row. */
  answerTokens: Int32Array;
}

/** Per-row gradients over ALL trainable parameters, from one batched backward pass. */
export interface PerRowGradients extends RowLosses {
  /** R×R row-major matrix of dot products g_r·g_s of the flattened per-row gradient vectors. */
  gram: Float64Array;
  /** Σ_r weights[r]·g_r, one tensor per trainable variable, in trainableVariables() order. Caller disposes. */
  combine(weights: ArrayLike<number>): tf.Tensor[];
  dispose(): void;
}

export interface DecodeOptions {
  strategy: DecodeStrategy;
  beamSize: number;
  /** Softmax temperature for beam-sample. */
  temperature: number;
  maxNewTokens: number;
  seed: number;
}

export interface KeyphraseLM {
  readonly config: LmConfig;
  readonly template: PromptTemplate;
  /** Variables the optimizer updates (adapter + LM, or adapter + LoRA). Stable order. */
  trainableVariables(): tf.Variable[];
  /** Every variable, trainable or not, by a stable name (for checkpoints). */
  namedVariables(): Map<string, tf.Variable>;
  /** Row losses and the gradient of Σ_r weights[r]·L_r (one batched backward). Caller disposes grads. */
  weightedGradients(
    examples: EncodedExample[],
    variants: RowVariant[],
    weights: ArrayLike<number>,
    training: boolean,
  ): { result: RowLosses; grads: tf.Tensor[] };
  /**
   * Row losses and per-row gradients (for AimKP's cosine filter). Without `pairs` the whole Gram matrix is
   * computed. With `pairs`, the rows are split into the connected components of the pairs and every entry within a
   * component is computed (the diagonal and the listed (r, s) / (s, r) entries included); every other entry is 0.
   * combine() is unaffected.
   */
  perRowGradients(
    examples: EncodedExample[],
    variants: RowVariant[],
    training: boolean,
    pairs?: ReadonlyArray<readonly [number, number]>,
  ): PerRowGradients;
  /** Row losses without gradients. */
  losses(examples: EncodedExample[], variants: RowVariant[]): RowLosses;
  /**
   * Restarts the dropout mask stream at `seed`: masks then depend on (seed, call index since the reseed) only.
   * The trainer reseeds before every step from (run seed, step), so a resumed run draws the same masks.
   */
  reseedDropout(seed: number): void;
  /** Decode answer ids (without EOS) for each example. */
  generate(examples: EncodedExample[], mode: EvalMode, options: DecodeOptions): Int32Array[];
  dispose(): void;
}
