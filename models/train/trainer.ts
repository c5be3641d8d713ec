// The training loop (baseline and AimKP): data → tokenizer → features → model → epochs of steps, with
// validation every epoch, atomic checkpoints, exact resume and an event stream (in process + events.jsonl).
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import { loadDataset } from '../data/load-dataset';
import type { ManifestItem } from '../data/manifest-types';
import type { EncodedExample, KeyphraseLM, LmConfig } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import { scoreAimkp } from '../metrics/index';
import { describeBackend, initBackend, type BackendRequest } from '../tf/backend';
import type { Tokenizer } from '../text/tokenizer-types';
import { tokenizerFromJson } from '../text/tokenizer';
import { encodeImages } from '../vision/feature-cache';
import { loadImageEncoder } from '../vision/load-image-encoder';
import type { EpochEndEvent, StepEvent, TrainingDataIssue, TrainingEvent, ValidationScores } from '../../shared/training-events';
import { AdamW, ADAMW_DEFAULTS, paramSlots } from './adamw';
import { assignMatchingWeights, assignWeights, cleanTempFolders, emptyEpochStats, loadResumeCheckpoint, readCheckpoint, writeCheckpoint, type TrainState } from './checkpoint-io';
import { acquireRunDirLock } from './run-lock';
import { buildRunTokenizer, encodeItems, fingerprint, maxPositionsFor, promptTemplate } from './data-prep';
import { Rng, hashSeed } from './rng';
import { ensureRunDir, EventLog, packageVersion, readJson, readRunConfig, RUN_FILES, writeJsonAtomic, type RunConfig } from './run-files';
import { lrFactor } from './schedule';
import { StrideState } from './stride-state';
import { aimkpStep, standardStep, type StepGradient } from './train-step';
import type { TrainConfig } from './train-config';

export interface TrainOptions {
  runDir: string;
  /** Required for a new run; on --resume the run's saved config is used. */
  config?: TrainConfig;
  /** Data-set folder; on resume defaults to the one in config.json. */
  dataDir?: string;
  resume?: boolean;
  backend?: BackendRequest;
  /** Feature cache folder (default <data>/.cache). */
  cacheDir?: string;
  onEvent?: (event: TrainingEvent) => void;
  /** Informational lines (the CLI prints them to stderr). */
  log?: (line: string) => void;
  /** Stop after this global step, with a checkpoint: the run can be resumed (tests, time-boxed runs). */
  maxSteps?: number;
  /** Aborting stops after the current step, with a checkpoint. */
  signal?: AbortSignal;
  /** Who holds the run's writer lock, as shown to a refused second writer (default "aimkp train"). */
  lockCommand?: string;
  /** The caller already holds RUN/run.lock (models/train/run-lock.ts); the trainer does not take it. */
  lockHeldByCaller?: boolean;
}

export interface TrainResult {
  status: 'completed' | 'stopped';
  runDir: string;
  globalStep: number;
  epoch: number;
  bestEpoch: number | null;
  bestScore: number | null;
  /** Loss of every step this process ran, by global step (1-based). */
  losses: Map<number, number>;
}

const MAX_LISTED_ISSUES = 50;

interface Prepared {
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

async function prepare(dataDir: string, config: TrainConfig, tokenizerOrNull: Tokenizer | null, cacheDir: string | undefined, log: (s: string) => void): Promise<Prepared & { tokenizer: Tokenizer }> {
  const data = await loadDataset(dataDir, { splits: ['train', 'valid'] });
  const issues: TrainingDataIssue[] = data.issues.map((i) => ({ ...i }));
  let trainItems = data.items.filter((i) => i.split === 'train');
  if (config.maxTrain !== null) trainItems = trainItems.slice(0, config.maxTrain);
  let validItems = data.items.filter((i) => i.split === 'valid');
  if (config.maxValid !== null) validItems = validItems.slice(0, config.maxValid);
  if (trainItems.length === 0) throw new CoreError('BAD_INPUT', `${dataDir}: no usable train items (${data.summary.skipped} skipped; see the data issues)`);
  const tokenizer = tokenizerOrNull ?? buildRunTokenizer(trainItems, config);

  const encoder = await loadImageEncoder(config.encoder);
  try {
    const needsImages = config.mode !== 'text';
    const withImages = needsImages ? [...trainItems, ...validItems] : [];
    let lastLog = 0;
    const features = await encodeImages(encoder, dataDir, withImages, {
      cacheDir,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastLog > 5000 || p.done === p.total) {
          lastLog = now;
          log(`images: ${p.done}/${p.total} (cached ${p.cached}, computed ${p.computed}, failed ${p.failed})`);
        }
      },
    });
    for (const w of features.warnings) log(`warning: ${w}`);
    for (const bad of features.issues) {
      issues.push({ file: join(dataDir, bad.image), line: 0, field: 'image', message: `item ${bad.id}: image could not be encoded (${bad.reason}); trained without its image`, action: 'kept', reason: 'image-corrupt' });
    }
    const train = encodeItems(trainItems, tokenizer, features, config);
    const valid = encodeItems(validItems, tokenizer, features, config);
    return { train, valid, validGold: validItems.map((i) => i.keyphrases), trainItems, issues, summary: data.summary, encoderId: encoder.id, grid: encoder.grid, channels: encoder.channels, tokenizer };
  } finally {
    encoder.dispose();
  }
}

function lmConfigFor(config: TrainConfig, tokenizer: Tokenizer, grid: number, channels: number): LmConfig {
  const template = promptTemplate(tokenizer);
  return { vocabSize: tokenizer.vocabSize, ...config.model, maxPositions: maxPositionsFor(template, grid, config), imageFeatureDim: channels, imageGrid: grid };
}

/** Greedy decoding of the valid split, scored in the AimKP convention; score = F1@1 + F1@3 + MAP@5. */
export function validate(model: KeyphraseLM, tokenizer: Tokenizer, valid: EncodedExample[], gold: string[][], config: TrainConfig): ValidationScores | null {
  if (valid.length === 0) return null;
  const preds: string[][] = [];
  for (let i = 0; i < valid.length; i += config.validBatch) {
    const part = valid.slice(i, i + config.validBatch).map((e) => ({ ...e, answer: new Int32Array(0) }));
    const ids = model.generate(part, config.mode, { strategy: 'greedy', beamSize: 1, temperature: 1, maxNewTokens: config.maxAnswerTokens, seed: 0 });
    for (const row of ids) preds.push(tokenizer.decodeKeyphrases(row));
  }
  const s = scoreAimkp(gold, preds);
  const v = { 'f1@1': s.f1[1], 'f1@3': s.f1[3], 'f1@5': s.f1[5], 'map@5': s.map[5] };
  return { split: 'valid', mode: config.mode, n: s.n, ...v, score: v['f1@1'] + v['f1@3'] + v['map@5'], decode: 'greedy' };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const runDir = resolve(options.runDir);
  const log = options.log ?? (() => undefined);
  const events = () => new EventLog(join(runDir, RUN_FILES.events));
  let eventLog: EventLog | null = null;
  const emit = (e: TrainingEvent) => {
    eventLog?.append(e);
    options.onEvent?.(e);
  };
  const now = () => new Date().toISOString();
  // One writer per run: taken before anything is read or written, so a second train/resume is refused.
  const lock = options.lockHeldByCaller === true ? null : await acquireRunDirLock(runDir, { command: options.lockCommand ?? `aimkp train${options.resume === true ? ' --resume' : ''}` });
  if (lock?.tookOver) log(`warning: ${lock.tookOver}`);
  try {
    return await run();
  } catch (err) {
    const e = err as Error;
    try {
      if (eventLog) emit({ type: 'error', time: now(), run: runDir, message: e.message, stack: e instanceof CoreError ? undefined : e.stack });
    } catch {
      /* the event log itself failed (e.g. the disk is full): the original error is what the caller needs */
    }
    throw err;
  } finally {
    lock?.release();
  }

  async function run(): Promise<TrainResult> {
    const started = performance.now();
    const hasRun = existsSync(join(runDir, RUN_FILES.config));
    if (hasRun && !options.resume) throw new CoreError('ALREADY_EXISTS', `${runDir}: a run already exists there; pass --resume to continue it, or choose another --out`);
    if (!hasRun && options.resume) log(`${runDir}: nothing to resume; starting a new run`);
    const resuming = hasRun && options.resume === true;

    const backend = await initBackend(options.backend);
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
    if (!resuming && config.initFrom !== null) {
      const src = resolve(config.initFrom);
      initRun = readRunConfig(src);
      tokenizer = tokenizerFromJson(readJson(join(src, RUN_FILES.tokenizer)), join(src, RUN_FILES.tokenizer));
      const { dModel, nLayers, nHeads, dFF, adapterHidden } = initRun.lm;
      config = { ...config, initFrom: src, encoder: initRun.encoder, maxTextTokens: initRun.maxTextTokens, maxAnswerTokens: initRun.maxAnswerTokens, model: { ...config.model, dModel, nLayers, nHeads, dFF, adapterHidden } };
      log(`initialising from ${src} (best/): its tokenizer, encoder ${initRun.encoder}, LM shape and length limits are used`);
    }
    const dataDir = resolve(options.dataDir ?? saved?.dataDir ?? '');
    if (!options.dataDir && !saved) throw new CoreError('BAD_INPUT', 'train: --data is required');

    const prep = await prepare(dataDir, config, tokenizer, options.cacheDir, log);
    tokenizer = prep.tokenizer;
    const template = promptTemplate(tokenizer);
    const trainFingerprint = fingerprint(prep.trainItems);
    let lm: LmConfig;
    if (saved) {
      if (saved.trainFingerprint !== trainFingerprint || saved.trainItems !== prep.train.length) {
        throw new CoreError('MISMATCH', `${join(runDir, RUN_FILES.config)}: the run was trained on ${saved.trainItems} other train items (fingerprint ${saved.trainFingerprint}); ${dataDir} now gives ${prep.train.length} (${trainFingerprint}): cannot resume`);
      }
      if (saved.encoderId !== prep.encoderId) throw new CoreError('MISMATCH', `${join(runDir, RUN_FILES.config)}: field "encoderId": the run used ${saved.encoderId}, the encoder now is ${prep.encoderId}`);
      lm = saved.lm;
    } else if (initRun) {
      if (initRun.encoderId !== prep.encoderId) throw new CoreError('MISMATCH', `${join(config.initFrom!, RUN_FILES.config)}: field "encoderId": the source run used ${initRun.encoderId}, the encoder now is ${prep.encoderId}`);
      lm = { ...initRun.lm, dropout: config.model.dropout, lora: config.model.lora };
    } else {
      lm = lmConfigFor(config, tokenizer, prep.grid, prep.channels);
    }

    await ensureRunDir(runDir);
    eventLog = events();
    const removed = await cleanTempFolders(join(runDir, RUN_FILES.checkpoints));
    if (removed.length > 0) log(`removed ${removed.length} unfinished checkpoint folder(s) of an interrupted write`);
    if (!saved) {
      saved = {
        ...config,
        format: 'aimkp-run-v1',
        dataDir,
        lm,
        template: { prefix: Array.from(template.prefix), instruction: Array.from(template.instruction), eos: template.eos, pad: template.pad },
        encoderId: prep.encoderId,
        trainItems: prep.train.length,
        trainFingerprint,
        backend: backend.picked,
        createdAt: now(),
        version: packageVersion(),
      };
      await writeJsonAtomic(join(runDir, RUN_FILES.tokenizer), tokenizer.toJSON());
      await writeJsonAtomic(join(runDir, RUN_FILES.config), saved);
    }

    const model = createKeyphraseLM(lm, template, config.seed);
    const slots = paramSlots(model.trainableVariables(), model.namedVariables(), new RegExp(config.adapterPattern));
    const optimizer = new AdamW(slots, { ...ADAMW_DEFAULTS, lr: config.lr, adapterLr: config.adapterLr, weightDecay: config.weightDecay, clipNorm: config.clipNorm });
    const strideOptions = config.aimkp?.stride ?? { rule: 'progressive' as const, fixedStride: 2, warmup: true };
    let strides = new StrideState(prep.train.length, strideOptions);
    let rng = Rng.fromSeed(hashSeed(config.seed, 0x0da7a));
    let state: TrainState = {
      version: 1,
      epoch: 0,
      stepInEpoch: 0,
      globalStep: 0,
      dataOrder: [],
      rngState: rng.state(),
      ...strides.toJSON(),
      bestScore: null,
      bestEpoch: null,
      history: [],
      epochStats: emptyEpochStats(),
    };
    if (initRun) {
      const ck = await readCheckpoint(join(config.initFrom!, RUN_FILES.best), false);
      const report = assignMatchingWeights(model.namedVariables(), ck.weights, ck.dir);
      tf.dispose(ck.weights);
      log(`initialised ${report.assigned} variables from ${ck.dir}; ${report.fresh.length} kept fresh${report.fresh.length > 0 ? ` (${report.fresh.slice(0, 3).join(', ')}${report.fresh.length > 3 ? ', …' : ''})` : ''}`);
    }
    const lastDir = join(runDir, RUN_FILES.last);
    if (resuming) {
      // The newest checkpoint that verifies (last, else previous); corrupt ones are named, never loaded.
      const ck = await loadResumeCheckpoint(lastDir, log);
      if (ck === null) {
        log('no checkpoint yet: starting from step 0 with the saved config');
      } else {
        try {
          assignWeights(model.namedVariables(), ck.weights, ck.dir);
        } finally {
          tf.dispose(ck.weights);
        }
        if (ck.optimizer) optimizer.importState(ck.optimizer, join(ck.dir, 'optimizer.json'));
        state = ck.state;
        strides = StrideState.fromJSON(state, strideOptions, join(ck.dir, 'state.json'));
        if (strides.size !== prep.train.length) throw new CoreError('CHECKPOINT_CORRUPT', `${join(ck.dir, 'state.json')}: stride maps have ${strides.size} samples, the train split ${prep.train.length}`);
        rng = Rng.fromState(state.rngState);
        log(`resuming at epoch ${state.epoch + 1}, step ${state.globalStep} (${ck.dir})`);
      }
    }

    if (state.epoch >= config.epochs) log(`${runDir}: training already completed (${config.epochs} epochs); nothing to do`);
    const stepsPerEpoch = Math.ceil(prep.train.length / config.batchSize);
    const totalSteps = stepsPerEpoch * config.epochs;
    const schedule = { totalSteps, warmupRatio: config.warmupRatio };
    const count = (g: 'adapter' | 'lm') => slots.filter((s) => s.group === g).reduce((n, s) => n + s.variable.size, 0);
    emit({
      type: 'run-start',
      time: now(),
      run: runDir,
      config: JSON.parse(JSON.stringify(config)),
      preset: config.preset,
      method: config.method,
      backend: { name: backend.picked, description: describeBackend(backend) },
      data: {
        dir: dataDir,
        summary: JSON.parse(JSON.stringify(prep.summary)),
        train: prep.train.length,
        valid: prep.valid.length,
        issueCount: prep.issues.length,
        issues: prep.issues.slice(0, MAX_LISTED_ISSUES),
      },
      encoder: config.encoder,
      vocabSize: tokenizer.vocabSize,
      parameters: { total: count('adapter') + count('lm'), adapter: count('adapter'), lm: count('lm') },
      epochs: config.epochs,
      stepsPerEpoch,
      totalSteps,
      resumed: resuming,
      startEpoch: state.epoch,
      startStep: state.globalStep,
    });

    const modelInfo = { lm, preset: config.preset };
    const snapshot = (): TrainState => ({ ...state, rngState: rng.state(), ...strides.toJSON() });
    const saveLast = async () => {
      const t0 = performance.now();
      await writeCheckpoint(lastDir, { weights: model.namedVariables(), optimizer: optimizer.exportState(), state: snapshot(), modelInfo }, join(runDir, RUN_FILES.checkpoints), { keepPrevious: true, onDiscard: (line) => log(`warning: ${line}`) });
      const ms = performance.now() - t0;
      emit({ type: 'checkpoint', time: now(), run: runDir, which: 'last', path: RUN_FILES.last, epoch: state.epoch, step: state.globalStep, ms });
      return ms;
    };
    const saveBest = async () => {
      const t0 = performance.now();
      await writeCheckpoint(join(runDir, RUN_FILES.best), { weights: model.namedVariables(), optimizer: null, state: snapshot(), modelInfo }, join(runDir, RUN_FILES.checkpoints));
      const ms = performance.now() - t0;
      emit({ type: 'checkpoint', time: now(), run: runDir, which: 'best', path: RUN_FILES.best, epoch: state.epoch, step: state.globalStep, ms });
      return ms;
    };

    const losses = new Map<number, number>();
    const stop = async (): Promise<TrainResult> => {
      await saveLast();
      emit({ type: 'run-end', time: now(), run: runDir, status: 'stopped', step: state.globalStep, epoch: state.epoch, best: best(), totalMs: performance.now() - started });
      return result('stopped');
    };
    const best = () => (state.bestEpoch === null || state.bestScore === null ? null : { epoch: state.bestEpoch, score: state.bestScore });
    const result = (status: TrainResult['status']): TrainResult => ({ status, runDir, globalStep: state.globalStep, epoch: state.epoch, bestEpoch: state.bestEpoch, bestScore: state.bestScore, losses });

    try {
      while (state.epoch < config.epochs) {
        const epoch = state.epoch;
        if (state.dataOrder.length === 0) state.dataOrder = rng.permutation(prep.train.length);
        while (state.stepInEpoch < stepsPerEpoch) {
          if (options.signal?.aborted || (options.maxSteps !== undefined && state.globalStep >= options.maxSteps)) return await stop();
          const t0 = performance.now();
          const k = state.stepInEpoch;
          const batch = state.dataOrder.slice(k * config.batchSize, (k + 1) * config.batchSize).map((i) => prep.train[i]);
          const factor = lrFactor(state.globalStep, schedule);
          // Dropout masks from (seed, step): a resumed run draws the same masks as an uninterrupted one.
          model.reseedDropout(hashSeed(config.seed, state.globalStep, 0xd5));
          const g: StepGradient =
            config.method === 'aimkp' && config.aimkp
              ? aimkpStep(model, batch, { settings: config.aimkp, strides, seed: config.seed, epoch, samplesPerCall: config.samplesPerCall })
              : standardStep(model, batch, config.mode, config.samplesPerCall);
          const info = optimizer.apply(g.grads, factor);
          tf.dispose(g.grads);
          state.globalStep += 1;
          state.stepInEpoch += 1;
          const ms = performance.now() - t0;
          accumulateStats(state, g, ms);
          losses.set(state.globalStep, g.loss);
          const ev: StepEvent = {
            type: 'step',
            time: now(),
            run: runDir,
            epoch,
            step: state.globalStep,
            stepInEpoch: state.stepInEpoch,
            stepsPerEpoch,
            loss: g.loss,
            variantLoss: g.variantLoss,
            samples: g.samples,
            accepted: g.accepted,
            checked: g.checked,
            rows: g.rows,
            lr: info.lr,
            adapterLr: info.adapterLr,
            gradNorm: info.gradNorm,
            ms,
          };
          emit(ev);
          if (!Number.isFinite(g.loss)) throw new CoreError('DIVERGED', `step ${state.globalStep}: loss is ${g.loss}; lower the learning rate`, { hint: 'lower the learning rate (--config {"lr": ...})' });
          const endOfEpoch = state.stepInEpoch === stepsPerEpoch;
          if (!endOfEpoch && config.checkpointEvery > 0 && state.globalStep % config.checkpointEvery === 0) await saveLast();
        }

        // Epoch end: validate, keep the best, move the state to the next epoch, checkpoint.
        const tv = performance.now();
        const validation = config.maxValid === 0 ? null : validate(model, tokenizer, prep.valid, prep.validGold, config);
        const validMs = performance.now() - tv;
        const stats = state.epochStats;
        const meanLoss = stats.steps === 0 ? 0 : stats.lossSum / stats.steps;
        const improved = validation === null ? true : state.bestScore === null || validation.score > state.bestScore;
        if (improved) {
          state.bestScore = validation?.score ?? null;
          state.bestEpoch = epoch;
        }
        state.history.push({ epoch, meanLoss, score: validation?.score ?? null });
        let checkpointMs = 0;
        if (improved) checkpointMs += await saveBest();
        const mean = (k: 'original' | 'text' | 'image') => (stats.variantCount[k] === 0 ? null : stats.variantSum[k] / stats.variantCount[k]);
        const share = (m: 'text' | 'image') => ({ accepted: stats.accepted[m], checked: stats.checked[m], share: stats.checked[m] === 0 ? null : stats.accepted[m] / stats.checked[m] });
        const epochEvent: EpochEndEvent = {
          type: 'epoch-end',
          time: now(),
          run: runDir,
          epoch,
          epochs: config.epochs,
          step: state.globalStep,
          meanLoss,
          meanVariantLoss: { original: mean('original') ?? 0, text: mean('text'), image: mean('image') },
          strides: config.method === 'aimkp' ? { text: { histogram: strides.histogram('text'), frozen: strides.frozenCount('text') }, image: { histogram: strides.histogram('image'), frozen: strides.frozenCount('image') } } : null,
          acceptance: { text: share('text'), image: share('image') },
          validation,
          best: best(),
          improved,
          timings: { trainMs: stats.trainMs, validMs, checkpointMs: 0 },
        };
        state.epoch = epoch + 1;
        state.stepInEpoch = 0;
        state.dataOrder = [];
        state.epochStats = emptyEpochStats();
        checkpointMs += await saveLast();
        epochEvent.timings.checkpointMs = checkpointMs;
        emit(epochEvent);
      }
      emit({ type: 'run-end', time: now(), run: runDir, status: 'completed', step: state.globalStep, epoch: state.epoch, best: best(), totalMs: performance.now() - started });
      return result('completed');
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }
}

function accumulateStats(state: TrainState, g: StepGradient, ms: number): void {
  const s = state.epochStats;
  s.steps += 1;
  s.lossSum += g.loss;
  s.trainMs += ms;
  s.variantSum.original += g.variantLoss.original;
  s.variantCount.original += 1;
  if (g.variantLoss.text !== null) {
    s.variantSum.text += g.variantLoss.text;
    s.variantCount.text += 1;
  }
  if (g.variantLoss.image !== null) {
    s.variantSum.image += g.variantLoss.image;
    s.variantCount.image += 1;
  }
  s.accepted.text += g.accepted.text;
  s.accepted.image += g.accepted.image;
  s.checked.text += g.checked.text;
  s.checked.image += g.checked.image;
}
