// Training (baseline and AimKP), read top to bottom: set the run up (data, features, tokenizer, run folder),
// build the model and optimizer state (fresh, warm start or resume), then the epoch loop (epoch-loop.ts: epochs
// of optimizer steps, each epoch ending with validation, the best checkpoint and checkpoints/last). Every phase
// reports typed events (shared/training-events.ts) to onEvent and, once the run folder exists, to events.jsonl.
// A stop request is seen between any two steps (the loop hands the event loop a turn before each one).
import * as tf from '@tensorflow/tfjs';
import { join, resolve } from 'node:path';
import { isCoreError } from '../core-error';
import { JobProgress } from '../job-progress';
import { describeBackend } from '../tf/backend';
import type {
  EpochEndEvent,
  ProgressPhase,
  RunStartEvent,
  StepEvent,
  TrainingEvent,
  ValidationScores,
} from '../../shared/training-events';
import { acquireRunDirLock } from '../run/run-lock';
import { EventLog, RUN_FILES } from '../run/run-files';
import type { StepInfo } from './adamw';
import type { TrainState } from './checkpoint-parts';
import { checkpointSaver, runEpochs, type EpochEndInput } from './epoch-loop';
import { hashSeed } from './rng';
import { setupRun, type RunSetup } from './run-setup';
import { lrFactor, type ScheduleOptions } from './schedule';
import { aimkpStep, standardStep, type StepGradient } from './train-step';
import type { TrainOptions, TrainResult } from './train-options';
import { createTrainingState, runThenDispose, type TrainingState } from './training-state';
import { validate } from './validate';
import { parallelStep } from './parallel-step';
import { Replicas } from '../parallel/replicas';
import { resolveWorkers, workersChange } from '../parallel/worker-count';

export { validate } from './validate';

const MAX_LISTED_ISSUES = 50;

export async function train(options: TrainOptions): Promise<TrainResult> {
  // The app passes absolute paths; a relative one (CLI scripts, tests) is taken against the working directory.
  const runDir = resolve(options.runDir);
  const log = options.log ?? (() => undefined);
  let eventLog: EventLog | null = null; // once the run folder exists
  let phase: ProgressPhase = 'preparing';
  const emit = (e: TrainingEvent) => {
    if (e.type === 'progress') phase = e.phase;
    eventLog?.append(e);
    options.onEvent?.(e);
  };
  const progress = new JobProgress(runDir, (e) => emit(e));
  // One writer per run: taken before anything is read or written, so a second train/resume is refused.
  const lock =
    options.lockHeldByCaller === true
      ? null
      : await acquireRunDirLock(runDir, {
          command: options.lockCommand ?? `aimkp train${options.resume === true ? ' --resume' : ''}`,
        });
  if (lock?.tookOver) log(`warning: ${lock.tookOver}`);
  try {
    return await run();
  } catch (err) {
    const e = err as Error;
    try {
      // To the listener always (a failure while preparing has no events.jsonl yet), to the file when there is one.
      emit({
        type: 'error',
        time: now(),
        run: runDir,
        message: e.message,
        code: isCoreError(err) ? err.code : 'INTERNAL',
        phase,
        stack: isCoreError(err) ? undefined : e.stack,
      });
    } catch {
      /* the event log or the listener failed too (e.g. the disk is full): the original error is what the caller needs */
    }
    throw err;
  } finally {
    lock?.release();
  }

  async function run(): Promise<TrainResult> {
    const workers = resolveWorkers(options.workers);
    // The data-parallel workers (K > 1) start once the backend is known and end on every exit path.
    const pool: { replicas: Replicas | null } = { replicas: null };
    try {
      return await runWith(pool, workers);
    } finally {
      await pool.replicas?.close();
    }
  }

  async function runWith(pool: { replicas: Replicas | null }, workers: number): Promise<TrainResult> {
    const started = performance.now();
    const setup = await setupRun(options, runDir, {
      log,
      progress,
      onRunFolder: () => (eventLog = new EventLog(join(runDir, RUN_FILES.events))),
      startWorkers: (backend) => (pool.replicas = workers > 1 ? Replicas.start(workers, backend.picked) : null),
    });
    const t = await createTrainingState(setup, log);
    const { config } = setup;
    const { state } = t;
    const stepsPerEpoch = Math.ceil(setup.data.train.length / config.batchSize);
    const schedule: ScheduleOptions = { totalSteps: stepsPerEpoch * config.epochs, warmupRatio: config.warmupRatio };
    const losses: TrainResult['losses'] = [];
    return runThenDispose(async () => {
      const change = workersChangeOf(setup, state, workers);
      if (change) log(`warning: ${change.message}`);
      state.workers = workers;
      const { replicas } = setup;
      if (replicas) {
        // Every worker: the model as it stands (fresh, warm-started or resumed) and the run's data, once.
        await replicas.setModel(t.model, config.seed, t.optimizer.setup());
        await replicas.shareExamples('train', setup.data.train, true);
        if (config.maxValid !== 0) await replicas.shareExamples('valid', setup.data.valid, true);
        log(`data-parallel: ${workers} workers (this thread + ${workers - 1}), batch split by sample`);
      }
      if (state.epoch >= config.epochs)
        log(`${runDir}: training already completed (${config.epochs} epochs); nothing to do`);
      emit(runStartEvent(setup, t, stepsPerEpoch, workers, change));
      const status = await runEpochs({
        runDir,
        epochs: config.epochs,
        stepsPerEpoch,
        state,
        drawOrder: () => t.rng.permutation(setup.data.train.length),
        checkpointEvery: config.checkpointEvery,
        signal: options.signal,
        maxSteps: options.maxSteps,
        started,
        emit,
        save: checkpointSaver({
          runDir,
          weights: t.model.namedVariables(),
          optimizer: t.optimizer,
          snapshot: (): TrainState => ({ ...t.state, rngState: t.rng.state(), ...t.strides.toJSON() }),
          modelInfo: { lm: setup.lm, preset: config.preset },
          emit,
          log,
          progress,
        }),
        step: async () => {
          const step = await optimizerStep(setup, t, schedule, stepsPerEpoch);
          losses.push({ step: step.step, loss: step.loss });
          return step;
        },
        validate: async () => {
          const validation = await runValidation(setup, t, progress, options.signal);
          return { score: validation?.score ?? null, validation };
        },
        epochEnd: (input) => epochEndEvent(setup, t, input),
        onTraining: (epoch) =>
          progress.phase('training', `epoch ${epoch + 1}/${config.epochs}`, stepsPerEpoch, 'steps', state.stepInEpoch),
      });
      return {
        status,
        runDir,
        globalStep: state.globalStep,
        epoch: state.epoch,
        bestEpoch: state.bestEpoch,
        bestScore: state.bestScore,
        losses,
      };
    }, t.dispose);
  }
}

const now = () => new Date().toISOString();

/**
 * One optimizer step on the next batch of the epoch's data order: the step's gradient (standard or AimKP), then
 * AdamW; over the data-parallel ranks when there are workers (each applying the update to its own replica).
 */
async function optimizerStep(
  setup: RunSetup,
  t: TrainingState,
  schedule: ScheduleOptions,
  stepsPerEpoch: number,
): Promise<StepEvent> {
  const { config, replicas } = setup;
  const { state, model } = t;
  const t0 = performance.now();
  const k = state.stepInEpoch;
  const positions = state.dataOrder.slice(k * config.batchSize, (k + 1) * config.batchSize);
  const batch = positions.map((i) => setup.data.train[i]);
  const factor = lrFactor(state.globalStep, schedule);
  // Dropout masks from (seed, step): a resumed run draws the same masks as an uninterrupted one.
  model.reseedDropout(hashSeed(config.seed, state.globalStep, 0xd5));
  const aimkp = config.method === 'aimkp' && config.aimkp ? config.aimkp : null;
  let g: Omit<StepGradient, 'grads'>;
  let info: StepInfo;
  if (replicas) {
    // Every rank applies the same update to its own replica (parallel-step.ts).
    ({ info, ...g } = await parallelStep(replicas, {
      model,
      optimizer: t.optimizer,
      lrFactor: factor,
      set: 'train',
      positions,
      batch,
      samplesPerCall: config.samplesPerCall,
      seed: config.seed,
      step: state.globalStep,
      method: aimkp
        ? { kind: 'aimkp', settings: aimkp, strides: t.strides, seed: config.seed, epoch: state.epoch }
        : { kind: 'standard', mode: config.mode },
    }));
  } else {
    const one = aimkp
      ? aimkpStep(model, batch, {
          settings: aimkp,
          strides: t.strides,
          seed: config.seed,
          epoch: state.epoch,
          samplesPerCall: config.samplesPerCall,
        })
      : standardStep(model, batch, config.mode, config.samplesPerCall);
    try {
      info = t.optimizer.apply(one.grads, factor);
    } finally {
      tf.dispose(one.grads);
    }
    g = one;
  }
  state.globalStep += 1;
  state.stepInEpoch += 1;
  const ms = performance.now() - t0;
  accumulateStats(state, g, ms);
  return {
    type: 'step',
    time: now(),
    run: setup.runDir,
    epoch: state.epoch,
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
}

async function runValidation(
  setup: RunSetup,
  t: TrainingState,
  progress: JobProgress,
  signal: AbortSignal | undefined,
): Promise<ValidationScores | null> {
  const { config, data } = setup;
  if (config.maxValid === 0) return null;
  progress.phase('validating', `validating epoch ${t.state.epoch + 1}`, data.valid.length, 'items');
  return validate(t.model, setup.tokenizer, data.valid, data.validGold, config, {
    signal,
    onBatch: (done) => progress.update(done),
    replicas: setup.replicas ? { replicas: setup.replicas, set: 'valid' } : undefined,
  });
}

/** A resume with another worker count than the checkpoint's steps ran on; null when none or the same. */
function workersChangeOf(setup: RunSetup, state: TrainState, workers: number): RunStartEvent['workersChange'] | null {
  // A fresh run, or a checkpoint before any step: nothing ran with another count.
  if (!setup.resuming || state.globalStep === 0) return null;
  return workersChange(state.workers ?? 1, workers);
}

function runStartEvent(
  setup: RunSetup,
  t: TrainingState,
  stepsPerEpoch: number,
  workers: number,
  change: RunStartEvent['workersChange'] | null,
): RunStartEvent {
  const { config, data } = setup;
  const count = (g: 'adapter' | 'lm') => t.slots.filter((s) => s.group === g).reduce((n, s) => n + s.variable.size, 0);
  return {
    type: 'run-start',
    time: now(),
    run: setup.runDir,
    config: JSON.parse(JSON.stringify(config)),
    preset: config.preset,
    method: config.method,
    backend: { name: setup.backend.picked, description: describeBackend(setup.backend) },
    data: {
      dir: setup.dataDir,
      summary: JSON.parse(JSON.stringify(data.summary)),
      train: data.train.length,
      valid: data.valid.length,
      issueCount: data.issues.length,
      issues: data.issues.slice(0, MAX_LISTED_ISSUES),
    },
    encoder: config.encoder,
    vocabSize: setup.tokenizer.vocabSize,
    parameters: { total: count('adapter') + count('lm'), adapter: count('adapter'), lm: count('lm') },
    epochs: config.epochs,
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * config.epochs,
    resumed: setup.resuming,
    startEpoch: t.state.epoch,
    startStep: t.state.globalStep,
    workers,
    ...(change ? { workersChange: change } : {}),
  };
}

function epochEndEvent(setup: RunSetup, t: TrainingState, input: EpochEndInput): EpochEndEvent {
  const { epoch, improved, best, timings } = input;
  const { config } = setup;
  const { strides } = t;
  const stats = t.state.epochStats;
  const mean = (k: 'original' | 'text' | 'image') =>
    stats.variantCount[k] === 0 ? null : stats.variantSum[k] / stats.variantCount[k];
  const share = (m: 'text' | 'image') => ({
    accepted: stats.accepted[m],
    checked: stats.checked[m],
    share: stats.checked[m] === 0 ? null : stats.accepted[m] / stats.checked[m],
  });
  return {
    type: 'epoch-end',
    time: now(),
    run: setup.runDir,
    epoch,
    epochs: config.epochs,
    step: t.state.globalStep,
    meanLoss: input.meanLoss,
    meanVariantLoss: { original: mean('original') ?? 0, text: mean('text'), image: mean('image') },
    strides:
      config.method === 'aimkp'
        ? {
            text: { histogram: strides.histogram('text'), frozen: strides.frozenCount('text') },
            image: { histogram: strides.histogram('image'), frozen: strides.frozenCount('image') },
          }
        : null,
    acceptance: { text: share('text'), image: share('image') },
    validation: input.scored.validation,
    best,
    improved,
    timings,
  };
}

function accumulateStats(state: TrainState, g: Omit<StepGradient, 'grads'>, ms: number): void {
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
