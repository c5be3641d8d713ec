// Default LM configuration and parameter counting.
import type { LmConfig } from './contract';

/**
 * Defaults sized for CPU training (wasm, 2 cores): d=128, 2 layers, 4 heads, dFF=4d, adapter hidden 256,
 * MobileNetV2-1.4's 7×7×1792 feature map as image tokens. `vocabSize` must come from the tokenizer.
 */
export function defaultLmConfig(partial: Partial<LmConfig> = {}): LmConfig {
  const dModel = partial.dModel ?? 128;
  const config: LmConfig = {
    vocabSize: 8000,
    dModel,
    nLayers: 2,
    nHeads: 4,
    dFF: 4 * dModel,
    maxPositions: 256,
    imageFeatureDim: 1792,
    imageGrid: 7,
    adapterHidden: 256,
    dropout: 0.1,
    lora: null,
    ...partial,
  };
  validateLmConfig(config);
  return config;
}

export function validateLmConfig(c: LmConfig): void {
  const ints: (keyof LmConfig)[] = [
    'vocabSize',
    'dModel',
    'nLayers',
    'nHeads',
    'dFF',
    'maxPositions',
    'imageFeatureDim',
    'imageGrid',
    'adapterHidden',
  ];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new RangeError(`LmConfig.${k} must be a positive integer, got ${String(v)}`);
  }
  if (c.dModel % c.nHeads !== 0)
    throw new RangeError(`LmConfig.dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new RangeError(`LmConfig.dropout must be in [0, 1), got ${c.dropout}`);
  if (c.lora !== null) {
    const { rank, alpha, dropout } = c.lora;
    if (!Number.isInteger(rank) || rank < 1)
      throw new RangeError(`LmConfig.lora.rank must be a positive integer, got ${rank}`);
    if (!(alpha > 0)) throw new RangeError(`LmConfig.lora.alpha must be > 0, got ${alpha}`);
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`LmConfig.lora.dropout must be in [0, 1), got ${dropout}`);
  }
}

export interface ParameterCounts {
  adapter: number;
  embeddings: number;
  blocks: number;
  head: number;
  lora: number;
  total: number;
  trainable: number;
}

export function countParameters(c: LmConfig): ParameterCounts {
  const d = c.dModel;
  const adapter = c.imageFeatureDim * c.adapterHidden + c.adapterHidden + c.adapterHidden * d + d;
  const embeddings = c.vocabSize * d + c.maxPositions * d;
  const perBlock = 4 * d + 4 * (d * d + d) + (d * c.dFF + c.dFF) + (c.dFF * d + d);
  const blocks = c.nLayers * perBlock + 2 * d;
  const head = d * c.vocabSize;
  const r = c.lora?.rank ?? 0;
  const lora = c.lora === null ? 0 : c.nLayers * (4 * (d * r + r * d) + (d * r + r * c.dFF) + (c.dFF * r + r * d));
  const total = adapter + embeddings + blocks + head + lora;
  const trainable =
    c.lora !== null ? adapter + lora : c.freezeLm === true ? adapter : adapter + embeddings + blocks + head;
  return { adapter, embeddings, blocks, head, lora, total, trainable };
}
