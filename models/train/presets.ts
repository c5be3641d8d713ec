// Named training presets: the baseline, the specialists, AimKP and every ablation the paper reports.
// Each preset is a complete TrainConfig; --config FILE (JSON) overrides fields, CLI flags override that.
import type { AimkpSettings, TrainConfig } from './train-config';

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
  model: { dModel: 128, nLayers: 2, nHeads: 4, dFF: 256, adapterHidden: 256, dropout: 0, lora: null },
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

function standard(preset: string, description: string, paper: string, mode: TrainConfig['mode']): TrainConfig {
  return { ...COMMON, model: { ...COMMON.model }, preset, description, paper, method: 'standard', mode, epochs: 6, aimkp: null };
}

function aimkp(preset: string, description: string, paper: string, change: Partial<AimkpSettings> = {}): TrainConfig {
  const settings: AimkpSettings = { ...AIMKP, ...change, stride: { ...AIMKP.stride, ...change.stride } };
  return { ...COMMON, model: { ...COMMON.model }, preset, description, paper, method: 'aimkp', mode: 'multimodal', epochs: 4, aimkp: settings };
}

function tau(tauText: number, tauImage: number): TrainConfig {
  const name = `aimkp-tau-${tauText.toFixed(2).replace(/0$/, '')}-${tauImage.toFixed(2).replace(/0$/, '')}`;
  return aimkp(name, `AimKP with thresholds tau_t = ${tauText}, tau_v = ${tauImage}`, 'Table 6 (threshold sweep, App. B.2)', { tauText, tauImage });
}

const LIST: TrainConfig[] = [
  standard('baseline', 'standard fine-tuning on image + text (6 epochs)', 'Table 1 (LLaVA), Table 4', 'multimodal'),
  standard('text-specialist', 'standard fine-tuning with text-only prompts (image removed), evaluated text-only', 'Fig. 2 (specialists)', 'text'),
  standard('image-specialist', 'standard fine-tuning with image-only prompts (text removed), evaluated image-only', 'Fig. 2 (specialists)', 'image'),
  aimkp('aimkp', 'AimKP: warm-up epoch, progressive structured masking of both modalities, gradient filter (tau_t 0.1, tau_v 0.4), 4 epochs', 'Table 1 (LLaVA-AimKP), Table 4'),
  aimkp('aimkp-no-text-mask', 'AimKP without text-masked rows (image masking only)', 'Table 2 "w/o masking on text"', { maskText: false }),
  aimkp('aimkp-no-image-mask', 'AimKP without image-masked rows (text masking only)', 'Table 2 "w/o masking on image"', { maskImage: false }),
  aimkp('aimkp-no-filter', 'AimKP accepting every masked row (no gradient filter; strides always double)', 'Table 2 "w/o gradient-based filtering"', { filter: false }),
  aimkp('aimkp-fixed-2', 'AimKP with a fixed stride 2 after the warm-up epoch (filter still decides which rows count)', 'Table 2 "fixed masking (s=2)"', { stride: { rule: 'fixed', fixedStride: 2, warmup: true } }),
  aimkp('aimkp-fixed-4', 'AimKP with a fixed stride 4 after the warm-up epoch (filter still decides which rows count)', 'Table 2 "fixed masking (s=4)"', { stride: { rule: 'fixed', fixedStride: 4, warmup: true } }),
  aimkp('aimkp-random-mask', 'AimKP with random (non-nested) masks keeping as many tokens as the structured mask', 'Table 5 "Random masking"', { maskKind: 'random' }),
  aimkp('aimkp-linear', 'AimKP with linearly increasing strides (2, 3, 4, …; +1 on accept, −1 and frozen on reject)', 'Table 5 "Linear increase"', { stride: { rule: 'linear', fixedStride: 2, warmup: true } }),
  aimkp('aimkp-pool', 'AimKP with feature compression (average pooling of each window) instead of masking', 'Table 5 "Feature compression"', { maskKind: 'pool' }),
  aimkp('aimkp-no-warmup', 'AimKP masking from the first epoch (strides start at 2)', 'Table 5 "W/o warm up"', { stride: { rule: 'progressive', fixedStride: 2, warmup: false } }),
  tau(0.0, 0.1),
  tau(0.05, 0.15),
  tau(0.1, 0.3),
  tau(0.1, 0.5),
];

export const PRESETS: ReadonlyMap<string, TrainConfig> = new Map(LIST.map((c) => [c.preset, c]));
export const PRESET_NAMES: readonly string[] = LIST.map((c) => c.preset);

/** A deep copy of the preset, or undefined. */
export function getPreset(name: string): TrainConfig | undefined {
  const p = PRESETS.get(name);
  return p === undefined ? undefined : (JSON.parse(JSON.stringify(p)) as TrainConfig);
}
