// Named training presets, in two settings (docs/training.md):
// - FROM SCRATCH (`baseline`, `aimkp`, specialists, every ablation; also reachable as `scratch-<name>`): the small LM
//   trains from random initialisation with every weight trainable;
// - PAPER SETTING (`paper-*`): LoRA on every LM linear layer + the adapter on a pretrained and aligned base
//   (`aimkp pretrain`, `aimkp align`, then --init-from BASE); embeddings, LayerNorms and the output layer frozen,
//   adapter LR 10× below the LoRA LR as in the paper (2e-4 / 2e-5).
// Each preset is a complete TrainConfig; --config FILE (JSON) overrides fields, CLI flags override that.
import type { AimkpSettings, TrainConfig } from '../run/train-config';

/** Shared defaults, sized for a CPU (wasm) run on a few thousand items; the paper's values are in docs/training.md. */
const COMMON: Omit<TrainConfig, 'preset' | 'description' | 'paper' | 'method' | 'mode' | 'epochs' | 'aimkp'> = {
  batchSize: 16,
  samplesPerCall: 16,
  // The paper fine-tunes a pretrained LM with LoRA at 2e-4 and the adapter at 2e-5; here the small LM
  // trains from scratch, which needs a larger rate for both groups.
  lr: 1e-3,
  adapterLr: 1e-3,
  weightDecay: 0,
  warmupRatio: 0.03,
  clipNorm: 1,
  adapterPattern: '^adapter',
  seed: 1,
  model: { dModel: 128, nLayers: 2, nHeads: 4, dFF: 256, adapterHidden: 256, dropout: 0, lora: null, freezeLm: false },
  initFrom: null,
  encoder: 'mobilenet-v2',
  maxTextTokens: 48,
  maxAnswerTokens: 24,
  minWordCount: 1,
  maxVocab: 8000,
  maxTrain: null,
  maxValid: 300,
  checkpointEvery: 50,
  validBatch: 32,
};

/** AimKP as released: warm-up epoch, progressive (doubling) strides, structured masks, tau_t 0.1, tau_v 0.4. */
const AIMKP: AimkpSettings = {
  maskText: true,
  maskImage: true,
  filter: true,
  tauText: 0.1,
  tauImage: 0.4,
  stride: { rule: 'progressive', fixedStride: 2, warmup: true },
  maskKind: 'structured',
};

const SCRATCH = '[from scratch] ';

function standard(preset: string, description: string, paper: string, mode: TrainConfig['mode']): TrainConfig {
  return {
    ...COMMON,
    model: { ...COMMON.model },
    preset,
    description: SCRATCH + description,
    paper,
    method: 'standard',
    mode,
    epochs: 6,
    aimkp: null,
  };
}

function aimkp(preset: string, description: string, paper: string, change: Partial<AimkpSettings> = {}): TrainConfig {
  const settings: AimkpSettings = { ...AIMKP, ...change, stride: { ...AIMKP.stride, ...change.stride } };
  return {
    ...COMMON,
    model: { ...COMMON.model },
    preset,
    description: SCRATCH + description,
    paper,
    method: 'aimkp',
    mode: 'multimodal',
    epochs: 4,
    aimkp: settings,
  };
}

/**
 * The paper's fine-tuning on a pretrained + aligned base (pass --init-from BASE): LoRA (r 16, alpha 32 — the
 * paper's alpha/r = 2 — dropout 0.05) on every LM linear layer plus the adapter; LR 1e-3 for LoRA and 1e-4 for the
 * adapter (the paper's 10:1 ratio, both 5× the paper's 2e-4 / 2e-5 because this LM is tiny and trains few steps).
 */
function paper(base: TrainConfig, preset: string, description: string): TrainConfig {
  return {
    ...base,
    model: { ...base.model, lora: { rank: 16, alpha: 32, dropout: 0.05 }, freezeLm: false },
    preset,
    description: `[paper setting, needs a pretrained + aligned base run] ${description}`,
    lr: 1e-3,
    adapterLr: 1e-4,
  };
}

function tau(tauText: number, tauImage: number): TrainConfig {
  const name = `aimkp-tau-${tauText.toFixed(2).replace(/0$/, '')}-${tauImage.toFixed(2).replace(/0$/, '')}`;
  return aimkp(
    name,
    `AimKP with thresholds tau_t = ${tauText}, tau_v = ${tauImage}`,
    'Table 6 (threshold sweep, App. B.2)',
    { tauText, tauImage },
  );
}

const FROM_SCRATCH: TrainConfig[] = [
  standard('baseline', 'standard fine-tuning on image + text (6 epochs)', 'Table 1 (LLaVA), Table 4', 'multimodal'),
  standard(
    'text-specialist',
    'standard fine-tuning with text-only prompts (image removed), evaluated text-only',
    'Fig. 2 (specialists)',
    'text',
  ),
  standard(
    'image-specialist',
    'standard fine-tuning with image-only prompts (text removed), evaluated image-only',
    'Fig. 2 (specialists)',
    'image',
  ),
  aimkp(
    'aimkp',
    'AimKP: warm-up epoch, progressive structured masking of both modalities, gradient filter (tau_t 0.1, tau_v 0.4), 4 epochs',
    'Table 1 (LLaVA-AimKP), Table 4',
  ),
  aimkp('aimkp-no-text-mask', 'AimKP without text-masked rows (image masking only)', 'Table 2 "w/o masking on text"', {
    maskText: false,
  }),
  aimkp(
    'aimkp-no-image-mask',
    'AimKP without image-masked rows (text masking only)',
    'Table 2 "w/o masking on image"',
    { maskImage: false },
  ),
  aimkp(
    'aimkp-no-filter',
    'AimKP accepting every masked row (no gradient filter; strides always double)',
    'Table 2 "w/o gradient-based filtering"',
    { filter: false },
  ),
  aimkp(
    'aimkp-fixed-2',
    'AimKP with a fixed stride 2 after the warm-up epoch (filter still decides which rows count)',
    'Table 2 "fixed masking (s=2)"',
    { stride: { rule: 'fixed', fixedStride: 2, warmup: true } },
  ),
  aimkp(
    'aimkp-fixed-4',
    'AimKP with a fixed stride 4 after the warm-up epoch (filter still decides which rows count)',
    'Table 2 "fixed masking (s=4)"',
    { stride: { rule: 'fixed', fixedStride: 4, warmup: true } },
  ),
  aimkp(
    'aimkp-random-mask',
    'AimKP with random (non-nested) masks keeping as many tokens as the structured mask',
    'Table 5 "Random masking"',
    { maskKind: 'random' },
  ),
  aimkp(
    'aimkp-linear',
    'AimKP with linearly increasing strides (2, 3, 4, …; +1 on accept, −1 and frozen on reject)',
    'Table 5 "Linear increase"',
    { stride: { rule: 'linear', fixedStride: 2, warmup: true } },
  ),
  aimkp(
    'aimkp-pool',
    'AimKP with feature compression (average pooling of each window) instead of masking',
    'Table 5 "Feature compression"',
    { maskKind: 'pool' },
  ),
  aimkp('aimkp-no-warmup', 'AimKP masking from the first epoch (strides start at 2)', 'Table 5 "W/o warm up"', {
    stride: { rule: 'progressive', fixedStride: 2, warmup: false },
  }),
  tau(0.0, 0.1),
  tau(0.05, 0.15),
  tau(0.1, 0.3),
  tau(0.1, 0.5),
];

const scratch = (name: string): TrainConfig => FROM_SCRATCH.find((c) => c.preset === name)!;

const PAPER_SETTING: TrainConfig[] = [
  paper(scratch('baseline'), 'paper-baseline', 'standard fine-tuning of LoRA + adapter on image + text (6 epochs)'),
  paper(
    scratch('aimkp'),
    'paper-aimkp',
    'AimKP with LoRA + adapter: warm-up epoch, progressive structured masking, gradient filter over LoRA + adapter gradients (tau_t 0.1, tau_v 0.4), 4 epochs',
  ),
  paper(scratch('aimkp-no-filter'), 'paper-aimkp-no-filter', 'AimKP with LoRA + adapter, every masked row accepted'),
];

const LIST: TrainConfig[] = [...FROM_SCRATCH, ...PAPER_SETTING];

/** Presets that fine-tune a pretrained + aligned base: a new run of one without initFrom is refused. */
export const NEEDS_BASE: ReadonlySet<string> = new Set(PAPER_SETTING.map((c) => c.preset));

/**
 * The presets of the runs that are a base for initFrom (`aimkp align`, the second stage, first; `aimkp pretrain`,
 * the first, is a base too: its adapter is untrained). The ids align.ts and pretrain.ts write into config.json.
 */
export const BASE_PRESETS: readonly string[] = ['align', 'lm-pretrain'];

export const PRESETS: ReadonlyMap<string, TrainConfig> = new Map(LIST.map((c) => [c.preset, c]));
export const PRESET_NAMES: readonly string[] = LIST.map((c) => c.preset);

/**
 * `scratch-<name>` names every from-scratch preset by its setting; the short names (`baseline`, `aimkp`, …) stay
 * the stored ids, so runs and docs made before the paper setting existed still resolve.
 */
export const PRESET_ALIASES: ReadonlyMap<string, string> = new Map(
  FROM_SCRATCH.map((c) => [`scratch-${c.preset}`, c.preset]),
);

/** Which setting a preset (or alias) belongs to. */
export function presetSetting(name: string): 'from-scratch' | 'paper' | undefined {
  const id = PRESET_ALIASES.get(name) ?? name;
  if (PAPER_SETTING.some((c) => c.preset === id)) return 'paper';
  return FROM_SCRATCH.some((c) => c.preset === id) ? 'from-scratch' : undefined;
}

/** A deep copy of the preset (an alias gives its target, under the target's id), or undefined. */
export function getPreset(name: string): TrainConfig | undefined {
  const p = PRESETS.get(PRESET_ALIASES.get(name) ?? name);
  return p === undefined ? undefined : (JSON.parse(JSON.stringify(p)) as TrainConfig);
}
