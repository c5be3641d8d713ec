// TrainConfig's field rules (the type: models/run/train-config.ts), written once and read by both sides: the
// core's validation (models/train/config-resolve.ts validateConfig, which also checks the cross-field rules) and
// the New-run form (renderer/src/lib/config-form.ts). Dependency-free apart from the vocabulary, so the browser
// loads it too. Keys are dotted field paths; a nested object (section) has a rule of its own, and its fields
// follow it. A TrainConfig field without a rule does not compile (config-resolve.ts) and fails a test.
//
// Upper bounds: every number has one, so that a typo (epochs 1e9, lr 100, batchSize 999999) is refused at once
// instead of running for days or diverging at the first step. Each bound sits well above anything the paper or
// these presets use; the comment beside it says what it is measured against.
import { BUILTIN_ENCODERS, EVAL_MODES, MASK_KINDS, METHODS, STRIDE_RULES } from './vocabulary';

export type FieldKind = 'int' | 'number' | 'boolean' | 'text' | 'choice' | 'section';

export interface FieldRule {
  kind: FieldKind;
  /** Lowest value (int / number). */
  min?: number;
  /** The value must be above `min`, not equal to it (e.g. a learning rate: > 0). */
  minExclusive?: boolean;
  /** Highest value (int / number); every numeric field has one. */
  max?: number;
  /** The value must be below `max`, not equal to it (e.g. a dropout rate: < 1). */
  maxExclusive?: boolean;
  /** null is a value of this field ("no limit", "none", "off"). */
  nullable: boolean;
  /** The field may be absent (older configs were written without it). */
  optional?: boolean;
  /** kind 'choice': the allowed values. */
  choices?: readonly string[];
  /** kind 'text': common values the form offers; any other text is accepted too (e.g. encoder specs). */
  suggestions?: readonly string[];
  /** One line for the form and the docs. */
  help: string;
  /** Not a hyperparameter the form shows (the preset's identity, or set elsewhere in the form). */
  hidden: boolean;
}

const int = (min: number, max: number, help: string, more: Partial<FieldRule> = {}): FieldRule => ({
  kind: 'int',
  min,
  max,
  nullable: false,
  help,
  hidden: false,
  ...more,
});
const num = (min: number, max: number, help: string, more: Partial<FieldRule> = {}): FieldRule => ({
  kind: 'number',
  min,
  max,
  nullable: false,
  help,
  hidden: false,
  ...more,
});
/** A rate in [0, 1). */
const rate = (help: string): FieldRule => num(0, 1, help, { maxExclusive: true });
/** A positive number up to `max`. */
const positive = (max: number, help: string, more: Partial<FieldRule> = {}): FieldRule =>
  num(0, max, help, { minExclusive: true, ...more });
const bool = (help: string): FieldRule => ({ kind: 'boolean', nullable: false, help, hidden: false });
const choice = (choices: readonly string[], help: string, more: Partial<FieldRule> = {}): FieldRule => ({
  kind: 'choice',
  choices,
  nullable: false,
  help,
  hidden: false,
  ...more,
});
const text = (help: string, more: Partial<FieldRule> = {}): FieldRule => ({
  kind: 'text',
  nullable: false,
  help,
  hidden: false,
  ...more,
});
const section = (help: string, more: Partial<FieldRule> = {}): FieldRule => ({
  kind: 'section',
  nullable: false,
  help,
  hidden: false,
  ...more,
});
const hidden = { hidden: true } as const;

/** The largest seed: the contract's Seed and the RNG's 32-bit state. */
export const MAX_SEED = 2 ** 31 - 1;

export const TRAIN_CONFIG_RULES = {
  preset: text('the preset this config started from', hidden),
  description: text('what the preset trains', hidden),
  paper: text('where the paper reports this setting', hidden),
  method: choice(METHODS, 'standard fine-tuning, or AimKP masking + gradient filter', hidden),
  mode: choice(EVAL_MODES, 'modalities of the training prompts (text / image = the specialists)', hidden),
  // The paper trains 4 (AimKP) or 6 (baseline) epochs.
  epochs: int(1, 1000, 'passes over the training split'),
  // The paper's batch is 64; 4096 is 64× that and more than most training splits here.
  batchSize: int(1, 4096, 'samples per optimizer step'),
  samplesPerCall: int(1, 4096, 'samples per forward/backward call (memory)'),
  // Adam moves every weight by about lr per step: above 1 it diverges at once (paper: 2e-4 / 2e-5).
  lr: positive(1, 'learning rate of the LM (and LoRA)'),
  adapterLr: positive(1, 'learning rate of the image adapter'),
  // Decoupled decay scales weights by 1 − lr·wd: with lr ≤ 1 and wd ≤ 1 that stays ≥ 0 (paper: 0).
  weightDecay: num(0, 1, 'decoupled weight decay (AdamW)'),
  warmupRatio: rate('share of the steps spent warming the learning rate up'),
  // Gradient norms of these models are O(1–100); a clip above 1000 never acts (null turns clipping off).
  clipNorm: positive(1000, 'clip the global gradient norm to this (empty = off)', { nullable: true }),
  adapterPattern: text('variables whose name matches this regular expression form the adapter group', hidden),
  seed: int(0, MAX_SEED, 'seed of the initialisation, data order and masks', hidden),
  aimkp: section('AimKP settings (null for standard fine-tuning)', { nullable: true }),
  'aimkp.maskText': bool('build text-masked rows'),
  'aimkp.maskImage': bool('build image-masked rows'),
  'aimkp.filter': bool('gradient filter on (off = accept every masked row)'),
  'aimkp.tauText': num(-1, 1, 'accept a text-masked row when cos > tau_t'),
  'aimkp.tauImage': num(-1, 1, 'accept an image-masked row when cos > tau_v'),
  'aimkp.stride': section('how the per-sample strides move'),
  'aimkp.stride.rule': choice(STRIDE_RULES, 'progressive (doubling, the paper), fixed, or linear'),
  // A stride past the span keeps only its last token: no span is longer than maxTextTokens (≤ 1024).
  'aimkp.stride.fixedStride': int(2, 1024, 'the stride of rule "fixed"'),
  'aimkp.stride.warmup': bool('an unmasked first epoch (strides start at 1)'),
  'aimkp.maskKind': choice(MASK_KINDS, 'structured (the paper), random at the same ratio, or pooling'),
  model: section('the LM: vocabulary, image grid and positions come from the tokenizer, encoder and limits'),
  // The paper's LM (Vicuna-7B) has width 4096, 32 layers of 32 heads and a feed-forward width of 11008.
  'model.dModel': int(1, 4096, 'width of the LM'),
  'model.nLayers': int(1, 64, 'transformer layers'),
  'model.nHeads': int(1, 128, 'attention heads (must divide model.dModel)'),
  'model.dFF': int(1, 16384, 'feed-forward width'),
  // LLaVA's adapter maps into the LM's 4096 wide input.
  'model.adapterHidden': int(1, 16384, 'hidden width of the image adapter'),
  'model.dropout': rate('dropout of the LM'),
  'model.lora': section('LoRA on every LM linear layer (null = train the LM weights themselves)', {
    nullable: true,
    hidden: true,
  }),
  // The paper's LoRA: r 128, alpha 256, dropout 0.05.
  'model.lora.rank': int(1, 1024, 'LoRA rank', hidden),
  'model.lora.alpha': positive(4096, 'LoRA scale numerator (scale = alpha / rank)', hidden),
  'model.lora.dropout': { ...rate('dropout on the LoRA input'), ...hidden },
  'model.freezeLm': { ...bool('freeze every LM weight: only the adapter trains (alignment)'), optional: true },
  // Set elsewhere in the form: New run picks a base run by id ("Initialise from"), the server resolves its folder.
  initFrom: text('warm start from this run (its best/ weights); the paper presets need one', {
    nullable: true,
    hidden: true,
  }),
  encoder: text("image encoder spec (mobilenet-v2-s16: a 16×16 grid, the paper's mask ratios)", {
    suggestions: [...BUILTIN_ENCODERS, 'patch:7:16', 'patch:7:4'],
  }),
  // Posts of the paper's data are under 100 tokens; the LM's position table holds text + image + answer.
  maxTextTokens: int(1, 1024, 'post text is cut to this many tokens'),
  // Answers include <eos> (≥ 2); the paper decodes at most 40 new tokens.
  maxAnswerTokens: int(2, 256, 'answers are cut to this many tokens (<eos> included)'),
  // No word of these corpora (≈ 50k posts) occurs 100k times: above that every word would be <unk>.
  minWordCount: int(1, 100_000, 'words seen fewer times in the train split become <unk>'),
  // The embedding table is maxVocab × model.dModel floats; 200k is 6× Vicuna's 32k vocabulary.
  maxVocab: int(16, 200_000, 'vocabulary cap (empty = none)', { nullable: true }),
  // More items than any data set here (CMKP ≈ 50k posts).
  maxTrain: int(1, 10_000_000, 'use only the first N training items (empty = all)', { nullable: true }),
  maxValid: int(0, 10_000_000, 'validate on at most N items (empty = all, 0 = no validation)', { nullable: true }),
  checkpointEvery: int(0, 1_000_000, 'save checkpoints/last every N steps (0 = at epoch ends only)'),
  validBatch: int(1, 4096, 'samples per decoding call during validation'),
} as const satisfies Record<string, FieldRule>;

export type TrainConfigRulePath = keyof typeof TRAIN_CONFIG_RULES;

/** The rule of a dotted field path, or undefined for a path TrainConfig does not have. */
export function ruleOf(path: string): FieldRule | undefined {
  return Object.hasOwn(TRAIN_CONFIG_RULES, path) ? TRAIN_CONFIG_RULES[path as TrainConfigRulePath] : undefined;
}

/** The range of a numeric rule as written in messages: "[1, 1000]", "(0, 1]", "[0, 1)". */
export function rangeText(rule: FieldRule): string {
  return `${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}${rule.maxExclusive ? ')' : ']'}`;
}

/**
 * Why a number breaks the bounds of `rule`, in the form's words ("at least 1", "at most 1000", "above 0",
 * "below 1"), or null when it is within them. The core's message names the same bound (rangeText).
 */
export function boundProblem(
  rule: Pick<FieldRule, 'min' | 'minExclusive' | 'max' | 'maxExclusive'>,
  n: number,
): string | null {
  if (rule.min !== undefined && (rule.minExclusive ? !(n > rule.min) : !(n >= rule.min)))
    return rule.minExclusive ? `above ${rule.min}` : `at least ${rule.min}`;
  if (rule.max !== undefined && (rule.maxExclusive ? !(n < rule.max) : !(n <= rule.max)))
    return rule.maxExclusive ? `below ${rule.max}` : `at most ${rule.max}`;
  return null;
}
