// The loop every training stage runs (fine-tuning and `aimkp align` through train(), `aimkp pretrain`): epochs of
// optimizer steps, each epoch ending with validation, the best checkpoint, checkpoints/last and the epoch-end
// event; run-end when done or stopped. A stop request (abort or maxSteps) is seen between any two steps: the loop
// hands the event loop a turn before each one, then writes checkpoints/last and returns 'stopped' (resumable).
// What a step, a validation and an epoch-end event hold is the stage's (the hooks); the order is here.
import type * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { isAbortError, yieldToEventLoop } from '../abort';
import { CoreError } from '../core-error';
import type { JobProgress } from '../job-progress';
import { writeCheckpoint } from '../run/checkpoint-io';
import { RUN_FILES } from '../run/run-files';
import type { EpochEndEvent, StepEvent, TrainingEvent, ValidationScores } from '../../shared/training-events';
import type { AdamW } from './adamw';
import { adamwBlob, emptyEpochStats, type TrainState } from './checkpoint-parts';

/** checkpoints/last (weights, optimizer, state; the previous one kept) and best/ (weights): each returns its ms. */
export interface CheckpointSaver {
  last(): Promise<number>;
  best(): Promise<number>;
}

/** How the stage scored the epoch just trained. `score` null: no validation, every epoch counts as the best. */
export interface EpochScore {
  score: number | null;
  /** The validation scores for the epoch-end event (null when the stage has none, e.g. a held-out loss). */
  validation: ValidationScores | null;
}

/** What the loop knows when the epoch-end event is made (after best/ is saved, before last). */
export interface EpochEndInput {
  epoch: number;
  meanLoss: number;
  scored: EpochScore;
  improved: boolean;
  best: EpochEndEvent['best'];
  timings: EpochEndEvent['timings'];
}

export interface EpochLoop {
  runDir: string;
  epochs: number;
  stepsPerEpoch: number;
  /** Advanced by the loop and the step hook; what checkpoints store. */
  state: TrainState;
  /** A permutation of the train indices: the data order of an epoch that has none yet. */
  drawOrder: () => number[];
  /** Save checkpoints/last every N optimizer steps inside an epoch (0 = only at epoch ends). */
  checkpointEvery: number;
  signal?: AbortSignal;
  /** Stop after this global step (with a checkpoint). */
  maxSteps?: number;
  /** performance.now() at the start of the run (run-end's totalMs). */
  started: number;
  emit: (e: TrainingEvent) => void;
  save: CheckpointSaver;
  /**
   * One optimizer step on the next batch of state.dataOrder; advances globalStep, stepInEpoch and epochStats.
   * Asynchronous: a data-parallel step waits for its workers.
   */
  step: () => Promise<StepEvent>;
  /** Scores the epoch just trained; an abort error thrown here stops the run (the epoch validates again on resume). */
  validate: (epoch: number) => Promise<EpochScore>;
  epochEnd: (input: EpochEndInput) => EpochEndEvent;
  /** The steps of `epoch` start or go on after a checkpoint (progress reporting). */
  onTraining?: (epoch: number) => void;
}

const now = () => new Date().toISOString();

export async function runEpochs(loop: EpochLoop): Promise<'completed' | 'stopped'> {
  const { state, save, emit } = loop;
  const best = () =>
    state.bestEpoch === null || state.bestScore === null ? null : { epoch: state.bestEpoch, score: state.bestScore };
  const finish = (status: 'completed' | 'stopped') => {
    emit({
      type: 'run-end',
      time: now(),
      run: loop.runDir,
      status,
      step: state.globalStep,
      epoch: state.epoch,
      best: best(),
      totalMs: performance.now() - loop.started,
    });
    return status;
  };
  const stopRequested = () =>
    loop.signal?.aborted === true || (loop.maxSteps !== undefined && state.globalStep >= loop.maxSteps);
  const stop = async () => {
    await save.last();
    return finish('stopped');
  };

  while (state.epoch < loop.epochs) {
    const epoch = state.epoch;
    loop.onTraining?.(epoch);
    if (state.dataOrder.length === 0) state.dataOrder = loop.drawOrder();
    while (state.stepInEpoch < loop.stepsPerEpoch) {
      // A stop requested by a timer or a message runs in this turn of the event loop.
      await yieldToEventLoop();
      if (stopRequested()) return await stop();
      const step = await loop.step();
      emit(step);
      if (!Number.isFinite(step.loss))
        throw new CoreError('DIVERGED', `step ${step.step}: loss is ${step.loss}; lower the learning rate`, {
          hint: 'lower the learning rate (--config {"lr": ...})',
        });
      const endOfEpoch = state.stepInEpoch === loop.stepsPerEpoch;
      if (!endOfEpoch && loop.checkpointEvery > 0 && state.globalStep % loop.checkpointEvery === 0) {
        await save.last();
        loop.onTraining?.(epoch);
      }
    }

    // Epoch end: score (a stop here leaves the epoch to validate again on resume), keep the best, move the
    // state to the next epoch, checkpoint.
    const tv = performance.now();
    let scored: EpochScore;
    try {
      scored = await loop.validate(epoch);
    } catch (err) {
      if (isAbortError(err)) return await stop();
      throw err;
    }
    const validMs = performance.now() - tv;
    const stats = state.epochStats;
    const meanLoss = stats.steps === 0 ? 0 : stats.lossSum / stats.steps;
    // ≥: a later epoch wins a tie, as in the released code (its best-model test keeps the last of equal scores).
    const improved = scored.score === null || state.bestScore === null || scored.score >= state.bestScore;
    if (improved) {
      state.bestScore = scored.score;
      state.bestEpoch = epoch;
    }
    state.history.push({ epoch, meanLoss, score: scored.score });
    const checkpointMs = improved ? await save.best() : 0;
    const event = loop.epochEnd({
      epoch,
      meanLoss,
      scored,
      improved,
      best: best(),
      timings: { trainMs: stats.trainMs, validMs, checkpointMs },
    });
    state.epoch = epoch + 1;
    state.stepInEpoch = 0;
    state.dataOrder = [];
    state.epochStats = emptyEpochStats();
    event.timings.checkpointMs += await save.last();
    emit(event);
  }
  return finish('completed');
}

export interface SaverParts {
  runDir: string;
  weights: Map<string, tf.Variable>;
  optimizer: AdamW;
  /** state.json as of now (the loop's state plus the RNG and stride maps). */
  snapshot: () => TrainState;
  /** model.json's modelTopology. */
  modelInfo: unknown;
  emit: (e: TrainingEvent) => void;
  log: (line: string) => void;
  progress?: JobProgress;
}

/** The checkpoint writer of the loop: writes, then emits the `checkpoint` event with the time it took. */
export function checkpointSaver(p: SaverParts): CheckpointSaver {
  const write = async (which: 'last' | 'best'): Promise<number> => {
    const path = which === 'last' ? RUN_FILES.last : RUN_FILES.best;
    p.progress?.phase('checkpointing', `saving ${path}`);
    const t0 = performance.now();
    const state = p.snapshot();
    const files = {
      weights: p.weights,
      optimizer: which === 'last' ? adamwBlob(p.optimizer.exportState()) : null,
      state,
      modelInfo: p.modelInfo,
    };
    const tmpRoot = join(p.runDir, RUN_FILES.checkpoints);
    if (which === 'last')
      await writeCheckpoint(join(p.runDir, path), files, tmpRoot, {
        keepPrevious: true,
        onDiscard: (line) => p.log(`warning: ${line}`),
      });
    else await writeCheckpoint(join(p.runDir, path), files, tmpRoot);
    const ms = performance.now() - t0;
    p.emit({
      type: 'checkpoint',
      time: now(),
      run: p.runDir,
      which,
      path,
      epoch: state.epoch,
      step: state.globalStep,
      ms,
    });
    return ms;
  };
  return { last: () => write('last'), best: () => write('best') };
}
