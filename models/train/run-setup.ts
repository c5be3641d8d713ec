// The first phases of a training run, before any step: check what is in the run folder, pick the backend,
// take the config (new run, resume or warm start), load the data, encode the image features, build the
// tokenizer and the LM shape, and only then create the run folder and write config.json + tokenizer.json
// (a run that fails while preparing leaves no half-made folder behind).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import { loadDataset } from '../data/load-dataset';
import type { ManifestItem } from '../data/manifest-types';
import type { EncodedExample, LmConfig, PromptTemplate } from '../lm/contract';
import type { JobProgress } from '../job-progress';
import { initBackend, type BackendInfo } from '../tf/backend';
import type { Tokenizer } from '../text/tokenizer-types';
import { tokenizerFromJson } from '../text/tokenizer';
import { encodeImages, type EncodeProgress } from '../vision/feature-cache';
import { encodeImagesParallel } from '../parallel/parallel-encode';
import type { Replicas } from '../parallel/replicas';
import { loadImageEncoder } from '../vision/load-image-encoder';
import { VERSION } from '../version';
import type { TrainingDataIssue } from '../../shared/training-events';
import { cleanTempFolders } from '../run/checkpoint-io';
import { ensureRunDir, readJson, readRunConfig, RUN_FILES, writeJsonAtomic, type RunConfig } from '../run/run-files';
import type { TrainConfig } from '../run/train-config';
import { buildRunTokenizer, encodeItems, fingerprint, maxPositionsFor, promptTemplate } from './data-prep';
import { NEEDS_BASE } from './presets';
import type { TrainOptions } from './train-options';

export interface PreparedData {
  train: EncodedExample[];
  valid: EncodedExample[];
  validGold: string[][];
  trainItems: ManifestItem[];
  issues: TrainingDataIssue[];
  summary: unknown;
  encoderId: string;
  grid: number;
  channels: number;
}

/** Everything the step loop needs that does not change during the run. */
export interface RunSetup {
  runDir: string;
  resuming: boolean;
  /** The run's config (a resumed run's is the saved one). */
  config: TrainConfig;
  /** config.json as written. */
  saved: RunConfig;
  /** Warm start: the source run's config (null for a fresh or resumed run). */
  initRun: RunConfig | null;
  dataDir: string;
  tokenizer: Tokenizer;
  template: PromptTemplate;
  lm: LmConfig;
  data: PreparedData;
  backend: BackendInfo;
  /** The data-parallel workers (null: this thread only). */
  replicas: Replicas | null;
}

export interface SetupContext {
  log: (line: string) => void;
  progress: JobProgress;
  /** Called right after the run folder exists: events can be appended to its events.jsonl from then on. */
  onRunFolder: () => void;
  /**
   * Called once the backend is picked: starts the data-parallel workers on it (they get ready while the data
   * loads, then encode images with this thread), or null for one thread. The caller owns them (closes them).
   */
  startWorkers?: (backend: BackendInfo) => Replicas | null;
}

export async function setupRun(options: TrainOptions, runDir: string, ctx: SetupContext): Promise<RunSetup> {
  const { log, progress } = ctx;
  progress.phase('preparing', options.resume === true ? 'preparing to resume' : 'preparing');
  const hasRun = existsSync(join(runDir, RUN_FILES.config));
  if (hasRun && !options.resume)
    throw new CoreError(
      'ALREADY_EXISTS',
      `${runDir}: a run already exists there; pass --resume to continue it, or choose another --out`,
    );
  if (!hasRun && options.resume) log(`${runDir}: nothing to resume; starting a new run`);
  const resuming = hasRun && options.resume === true;

  const backend = await initBackend(options.backend);
  const replicas = ctx.startWorkers?.(backend) ?? null;
  let config: TrainConfig;
  let saved: RunConfig | null = null;
  let tokenizer: Tokenizer | null = null;
  if (resuming) {
    saved = readRunConfig(runDir);
    config = saved;
    tokenizer = tokenizerFromJson(readJson(join(runDir, RUN_FILES.tokenizer)), join(runDir, RUN_FILES.tokenizer));
  } else {
    if (!options.config) throw new CoreError('BAD_INPUT', 'train: a config (preset) is required for a new run');
    config = options.config;
  }
  // Warm start (fresh runs only; a resumed run reloads its own checkpoint): the source run fixes the
  // tokenizer, the encoder, the LM shape and the length limits.
  let initRun: RunConfig | null = null;
  if (!resuming && config.initFrom === null && NEEDS_BASE.has(config.preset)) {
    // LoRA on a frozen, untrained LM learns nothing: the paper setting needs its base.
    throw new CoreError(
      'BAD_INPUT',
      `preset ${config.preset} fine-tunes a pretrained base: pass --init-from BASE (a run made by \`aimkp pretrain\` then \`aimkp align\`; docs/training.md, "Paper setting"), or use the from-scratch preset ${config.preset.replace(/^paper-/, '')}`,
      { field: 'initFrom' },
    );
  }
  if (!resuming && config.initFrom !== null) {
    const src = resolve(config.initFrom);
    initRun = readRunConfig(src);
    tokenizer = tokenizerFromJson(readJson(join(src, RUN_FILES.tokenizer)), join(src, RUN_FILES.tokenizer));
    const { dModel, nLayers, nHeads, dFF, adapterHidden } = initRun.lm;
    config = {
      ...config,
      initFrom: src,
      encoder: initRun.encoder,
      maxTextTokens: initRun.maxTextTokens,
      maxAnswerTokens: initRun.maxAnswerTokens,
      model: { ...config.model, dModel, nLayers, nHeads, dFF, adapterHidden },
    };
    log(
      `initialising from ${src} (best/): its tokenizer, encoder ${initRun.encoder}, LM shape and length limits are used`,
    );
  }
  const dataDir = resolve(options.dataDir ?? saved?.dataDir ?? '');
  if (!options.dataDir && !saved) throw new CoreError('BAD_INPUT', 'train: --data is required');

  const prep = await prepareData(dataDir, config, tokenizer, options, ctx, replicas);
  tokenizer = prep.tokenizer;
  const template = promptTemplate(tokenizer);
  const trainFingerprint = fingerprint(prep.trainItems);
  let lm: LmConfig;
  if (saved) {
    if (saved.trainFingerprint !== trainFingerprint || saved.trainItems !== prep.train.length) {
      throw new CoreError(
        'MISMATCH',
        `${join(runDir, RUN_FILES.config)}: the run was trained on ${saved.trainItems} other train items (fingerprint ${saved.trainFingerprint}); ${dataDir} now gives ${prep.train.length} (${trainFingerprint}): cannot resume`,
      );
    }
    if (saved.encoderId !== prep.encoderId)
      throw new CoreError(
        'MISMATCH',
        `${join(runDir, RUN_FILES.config)}: field "encoderId": the run used ${saved.encoderId}, the encoder now is ${prep.encoderId}`,
      );
    lm = saved.lm;
  } else if (initRun) {
    if (initRun.encoderId !== prep.encoderId)
      throw new CoreError(
        'MISMATCH',
        `${join(config.initFrom!, RUN_FILES.config)}: field "encoderId": the source run used ${initRun.encoderId}, the encoder now is ${prep.encoderId}`,
      );
    lm = {
      ...initRun.lm,
      dropout: config.model.dropout,
      lora: config.model.lora,
      freezeLm: config.model.freezeLm === true,
    };
  } else {
    lm = lmConfigFor(config, tokenizer, prep.grid, prep.channels);
  }

  await ensureRunDir(runDir);
  ctx.onRunFolder();
  const removed = await cleanTempFolders(join(runDir, RUN_FILES.checkpoints));
  if (removed.length > 0) log(`removed ${removed.length} unfinished checkpoint folder(s) of an interrupted write`);
  if (!saved) {
    saved = {
      ...config,
      format: 'aimkp-run-v1',
      dataDir,
      lm,
      template: {
        prefix: Array.from(template.prefix),
        instruction: Array.from(template.instruction),
        eos: template.eos,
        pad: template.pad,
      },
      encoderId: prep.encoderId,
      trainItems: prep.train.length,
      trainFingerprint,
      backend: backend.picked,
      createdAt: new Date().toISOString(),
      version: VERSION,
    };
    await writeJsonAtomic(join(runDir, RUN_FILES.tokenizer), tokenizer.toJSON());
    await writeJsonAtomic(join(runDir, RUN_FILES.config), saved);
  }
  return { runDir, resuming, config, saved, initRun, dataDir, tokenizer, template, lm, data: prep, backend, replicas };
}

/** Loads the train and valid splits and encodes their images (phase 'encoding', images done / total). */
async function prepareData(
  dataDir: string,
  config: TrainConfig,
  tokenizerOrNull: Tokenizer | null,
  options: TrainOptions,
  ctx: SetupContext,
  replicas: Replicas | null,
): Promise<PreparedData & { tokenizer: Tokenizer }> {
  const { log, progress } = ctx;
  const data = await loadDataset(dataDir, { splits: ['train', 'valid'] });
  const issues: TrainingDataIssue[] = data.issues.map((i) => ({ ...i }));
  let trainItems = data.items.filter((i) => i.split === 'train');
  if (config.maxTrain !== null) trainItems = trainItems.slice(0, config.maxTrain);
  let validItems = data.items.filter((i) => i.split === 'valid');
  if (config.maxValid !== null) validItems = validItems.slice(0, config.maxValid);
  if (trainItems.length === 0)
    throw new CoreError(
      'BAD_INPUT',
      `${dataDir}: no usable train items (${data.summary.skipped} skipped; see the data issues)`,
    );
  const tokenizer = tokenizerOrNull ?? buildRunTokenizer(trainItems, config);

  const encoder = await loadImageEncoder(config.encoder);
  try {
    const needsImages = config.mode !== 'text';
    const withImages = needsImages ? [...trainItems, ...validItems] : [];
    progress.phase('encoding', 'encoding image features', withImages.length, 'images');
    const encodeOptions = {
      cacheDir: options.cacheDir === undefined ? undefined : resolve(options.cacheDir),
      signal: options.signal,
      onProgress: (p: EncodeProgress) =>
        progress.update(p.done, '', { cached: p.cached, computed: p.computed, failed: p.failed }),
    };
    // With workers, each rank encodes a share of the images (the same features, in item order).
    const features = replicas
      ? await encodeImagesParallel(replicas, encoder, config.encoder, dataDir, withImages, encodeOptions)
      : await encodeImages(encoder, dataDir, withImages, encodeOptions);
    for (const w of features.warnings) log(`warning: ${w}`);
    for (const bad of features.issues) {
      issues.push({
        file: join(dataDir, bad.image),
        line: 0,
        field: 'image',
        message: `item ${bad.id}: image could not be encoded (${bad.reason}); trained without its image`,
        action: 'kept',
        reason: 'image-corrupt',
      });
    }
    const train = encodeItems(trainItems, tokenizer, features, config);
    const valid = encodeItems(validItems, tokenizer, features, config);
    return {
      train,
      valid,
      validGold: validItems.map((i) => i.keyphrases),
      trainItems,
      issues,
      summary: data.summary,
      encoderId: encoder.id,
      grid: encoder.grid,
      channels: encoder.channels,
      tokenizer,
    };
  } finally {
    encoder.dispose();
  }
}

function lmConfigFor(config: TrainConfig, tokenizer: Tokenizer, grid: number, channels: number): LmConfig {
  const template = promptTemplate(tokenizer);
  return {
    vocabSize: tokenizer.vocabSize,
    ...config.model,
    maxPositions: maxPositionsFor(template, grid, config),
    imageFeatureDim: channels,
    imageGrid: grid,
  };
}
