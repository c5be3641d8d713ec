// The evaluation kinds' work: the paper's modes on a run's checkpoint (metrics/ and predictions/ of the run), and
// the robustness suite (robustness/ of the run). The service resolves the run's folder before it queues them.
import { z } from 'zod';
import { evaluateRun, runRobustness } from '../../../models/index';
import { DecodeRequest, EvalMode, EvalSplit, Seed } from '../../../shared/contract/common';
import type { JsonValue, ProgressEvent } from '../../../shared/training-events';
import { ended, type TaskContext, type TaskEnd } from '../task-context';
import { PathParam, RunIdParam } from './params';

export const EvaluateJobParams = z.strictObject({
  runId: RunIdParam,
  runDir: PathParam,
  split: EvalSplit,
  modes: z.array(EvalMode).min(1),
  decode: DecodeRequest,
  checkpoint: z.enum(['best', 'last']),
});
export type EvaluateJobParams = z.output<typeof EvaluateJobParams>;

export const RobustnessJobParams = z.strictObject({
  runId: RunIdParam,
  runDir: PathParam,
  split: EvalSplit,
  suite: z.strictObject({
    ratios: z.array(z.number()).optional(),
    strides: z.array(z.int()).optional(),
    sigmas: z.array(z.number()).optional(),
    pattern: z.enum(['random', 'spread']).optional(),
    seed: Seed.optional(),
  }),
});
export type RobustnessJobParams = z.output<typeof RobustnessJobParams>;

/** The core's progress events as the job's progress. */
export const toProgress = (ctx: TaskContext) => (e: ProgressEvent) =>
  ctx.progress({ phase: e.phase, done: e.done, total: e.total, unit: e.unit, message: e.message });

export async function evaluateTask(p: EvaluateJobParams, ctx: TaskContext): Promise<TaskEnd<JsonValue>> {
  const result = await evaluateRun({
    runDir: p.runDir,
    split: p.split,
    modes: p.modes,
    decode: p.decode,
    which: p.checkpoint,
    cacheDir: ctx.cacheDir,
    backend: ctx.backend,
    workers: ctx.workers,
    lockCommand: ctx.lockCommand,
    signal: ctx.signal,
    onProgress: toProgress(ctx),
    log: ctx.log,
  });
  return ended(ctx, JSON.parse(JSON.stringify(result)) as JsonValue);
}

export async function robustnessTask(
  p: RobustnessJobParams,
  ctx: TaskContext,
): Promise<TaskEnd<{ file: string | null; conditions: number }>> {
  const result = await runRobustness({
    runDir: p.runDir,
    split: p.split,
    suite: p.suite,
    cacheDir: ctx.cacheDir,
    backend: ctx.backend,
    workers: ctx.workers,
    lockCommand: ctx.lockCommand,
    signal: ctx.signal,
    onProgress: toProgress(ctx),
    log: ctx.log,
  });
  return ended(ctx, { file: result.file, conditions: result.report.conditions.length });
}
