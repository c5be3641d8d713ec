// The training kinds' work (train, resume): the core's train() on runs/<runId>, with its events appended to the
// run's events.jsonl (the worker only pokes the supervisor) and its steps reported as progress.
import { join } from 'node:path';
import { z } from 'zod';
import { isCoreError, train, validateConfig, type TrainConfig, type TrainResult } from '../../../models/index';
import type { TrainingEvent } from '../../../shared/training-events';
import type { TaskContext, TaskEnd } from '../task-context';
import { PathParam, RunIdParam } from './params';

/** A complete TrainConfig with valid ranges (the core's validateConfig). */
const TrainConfigParam = z
  .custom<TrainConfig>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'a training config object')
  .superRefine((config, ctx) => {
    try {
      validateConfig(config, 'training config');
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: isCoreError(err) ? err.message : `not a complete training config (${(err as Error).message})`,
      });
    }
  });

/** Stop (resumable) after this global step; tests and time-boxed runs. */
const MaxSteps = z.int().min(0).optional();

/** A new training run in runs/<runId>. */
export const TrainJobParams = z.strictObject({
  runId: RunIdParam,
  /** Absolute data-set folder. */
  dataDir: PathParam,
  config: TrainConfigParam,
  maxSteps: MaxSteps,
});
export type TrainJobParams = z.output<typeof TrainJobParams>;

/** Continues runs/<runId> from its last checkpoint (model, optimizer, strides, RNG, data order). */
export const ResumeJobParams = z.strictObject({ runId: RunIdParam, maxSteps: MaxSteps });
export type ResumeJobParams = z.output<typeof ResumeJobParams>;

export type TrainJobResult = Pick<TrainResult, 'status' | 'globalStep' | 'epoch' | 'bestEpoch' | 'bestScore'>;

export async function runTraining(
  p: TrainJobParams | ResumeJobParams,
  ctx: TaskContext,
): Promise<TaskEnd<TrainJobResult>> {
  const runDir = join(ctx.runsDir, p.runId);
  const resume = !('config' in p);
  ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: resume ? 'resuming' : 'preparing' });
  if (ctx.checkStop()) return { state: 'stopped' };
  const result = await train({
    runDir,
    config: resume ? undefined : p.config,
    dataDir: resume ? undefined : p.dataDir,
    resume,
    backend: ctx.backend,
    cacheDir: ctx.cacheDir,
    maxSteps: p.maxSteps,
    signal: ctx.signal,
    lockHeldByCaller: ctx.runLockHeld,
    onEvent: (e: TrainingEvent) => {
      ctx.poke(p.runId);
      if (e.type === 'step')
        ctx.progress({
          phase: 'training',
          done: e.step,
          total: null,
          unit: 'steps',
          message: `epoch ${e.epoch + 1}, step ${e.stepInEpoch}/${e.stepsPerEpoch}`,
        });
      else if (e.type === 'progress')
        ctx.progress({ phase: e.phase, done: e.done, total: e.total, unit: e.unit, message: e.message });
      // The trainer looks at the signal before every step; the flag is how a stop crosses its synchronous loop.
      ctx.checkStop();
    },
    log: ctx.log,
  });
  return {
    state: result.status === 'completed' ? 'completed' : 'stopped',
    result: {
      status: result.status,
      globalStep: result.globalStep,
      epoch: result.epoch,
      bestEpoch: result.bestEpoch,
      bestScore: result.bestScore,
    },
  };
}
