// The resolved training configuration: a preset plus --config overrides plus CLI flags. Saved as the body of a
// run's config.json, so it is part of the run-folder format (models/run/); the trainer (models/train/) fills it
// and gives it meaning, evaluation and the doctor read it. Types only. The rules of each field (kind, range,
// choices) are in shared/train-config-rules.ts.
import type { EvalMode, MaskKind, Method, StrideRule } from '../../shared/vocabulary';
import type { LoraConfig } from '../lm/contract';

/** 'standard': plain fine-tuning (one row per sample). 'aimkp': progressive masking + gradient filter. */
export type TrainMethod = Method;

/** How the per-sample strides move (models/train/stride-state.ts applies the rule). */
export interface StrideOptions {
  /**
   * progressive: AimKP as released (1 → 2; cos > tau → 2s; otherwise max(s/2, 2), frozen); linear: the paper's
   * Table 5 ablation (accepted → s+1; rejected → max(s−1, 2), frozen); fixed: 1 → fixedStride for ever (Table 2).
   */
  rule: StrideRule;
  /** The stride of `fixed` (2 or 4 in the paper). */
  fixedStride: number;
  /** true: every sample starts at 1 (an unmasked warm-up epoch). false ("no warm-up"): starts at the first masked stride. */
  warmup: boolean;
}

export interface AimkpSettings {
  /** Build text-masked rows (false = ablation "w/o masking on text"). */
  maskText: boolean;
  /** Build image-masked rows (false = ablation "w/o masking on image"). */
  maskImage: boolean;
  /** Gradient filter on; false = accept every masked row (ablation "w/o gradient-based filtering"). */
  filter: boolean;
  /** A text-masked row is kept when cos(g_orig, g_text) > tauText. */
  tauText: number;
  /** An image-masked row is kept when cos(g_orig, g_image) > tauImage. */
  tauImage: number;
  stride: StrideOptions;
  /** How masked rows drop tokens: structured (AimKP), random (same ratio), pool (feature compression). */
  maskKind: MaskKind;
}

/** The LM's size; vocabSize, image grid/channels and maxPositions come from the tokenizer, encoder and limits. */
export interface ModelSettings {
  dModel: number;
  nLayers: number;
  nHeads: number;
  dFF: number;
  adapterHidden: number;
  dropout: number;
  lora: LoraConfig | null;
  /** Freeze every LM weight (no LoRA): only the adapter trains — the alignment stage (`aimkp align`). */
  freezeLm?: boolean;
}

export interface TrainConfig {
  preset: string;
  description: string;
  /** Where the paper reports this setting. */
  paper: string;
  method: TrainMethod;
  /** Modalities of the training (and validation) prompts; 'text' / 'image' = the specialists. */
  mode: EvalMode;
  epochs: number;
  /** Samples per optimizer step (paper: 64). */
  batchSize: number;
  /** Samples per perRowGradients / weightedGradients call (≤ batchSize; an AimKP sample is up to 3 rows). */
  samplesPerCall: number;
  /** LM (or LoRA) learning rate. */
  lr: number;
  adapterLr: number;
  weightDecay: number;
  warmupRatio: number;
  /** Global gradient-norm clip; null = off. */
  clipNorm: number | null;
  /** Trainable variables whose name matches this regular expression form the adapter group. */
  adapterPattern: string;
  seed: number;
  aimkp: AimkpSettings | null;
  model: ModelSettings;
  /**
   * Warm start: a run folder whose best/ weights initialise the model (same tokenizer, encoder and LM
   * shape; variables it lacks, e.g. LoRA matrices, keep their fresh initialisation). null = from scratch.
   */
  initFrom: string | null;
  /** Image encoder spec (models/vision/load-image-encoder.ts). */
  encoder: string;
  /** Post text is cut to this many tokens, answers to maxAnswerTokens (EOS included). */
  maxTextTokens: number;
  maxAnswerTokens: number;
  /** Tokenizer: words seen fewer times in the train split map to <unk>; vocabulary cap (null = none). */
  minWordCount: number;
  maxVocab: number | null;
  /** Use only the first N train items (after skipping bad ones); null = all. */
  maxTrain: number | null;
  /** Validate on at most N valid items (null = all); 0 = no validation. */
  maxValid: number | null;
  /** Save checkpoints/last every N optimizer steps (0 = only at the end of each epoch). */
  checkpointEvery: number;
  /** Samples per generate() call during validation. */
  validBatch: number;
}
