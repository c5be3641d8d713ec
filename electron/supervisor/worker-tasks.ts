// Worker side: what each job kind does, as calls into the core. Runs inside a worker thread (worker-entry.ts)
// and, for tests, could run anywhere; it never touches the supervisor's state, only the files of the workspace.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError, isCoreError } from '../../models/core-error';
import { train } from '../../models/train/trainer';
import { EventLog, RUN_FILES } from '../../models/index';
import type { JobOutcome } from './job-queue';
import type { EventFloodJobSpec, JobProgress, JobSpec, TaskJobSpec } from './jobs';
import type { WorkspaceSettings } from './workspace';
import type { JsonValue, StepEvent, TrainingEvent } from '../../shared/training-events';

export interface TaskContext {
  runsDir: string;
  datasetsDir: string;
  cacheDir: string;
  backend: WorkspaceSettings['backend'];
  /** Aborted when the supervisor asks for a stop. */
  signal: AbortSignal;
  /** Checks the shared stop flag (works while the event loop is busy) and aborts `signal` when it is set. */
  checkStop(): boolean;
  /** New lines were appended to runs/<runId>/events.jsonl. */
  poke(runId: string): void;
  progress(p: JobProgress): void;
  log(line: string): void;
}

export type TaskFunction = (params: JsonValue, ctx: TaskContext) => Promise<JsonValue>;

/** Non-training tasks by name (filled by the service: evaluate, robustness, predict, data-set import, ...). */
export const TASKS = new Map<string, TaskFunction>();

export function registerTask(name: string, fn: TaskFunction): void {
  TASKS.set(name, fn);
}

export async function runJob(spec: JobSpec, ctx: TaskContext): Promise<JobOutcome> {
  try {
    switch (spec.kind) {
      case 'train':
      case 'resume':
        return await runTraining(
          spec.kind === 'train'
            ? { runId: spec.runId, dataDir: spec.dataDir, config: spec.config, maxSteps: spec.maxSteps }
            : { runId: spec.runId, maxSteps: spec.maxSteps },
          ctx,
        );
      case 'event-flood':
        return await eventFlood(spec, ctx);
      case 'task':
        return await runTask(spec, ctx);
    }
  } catch (err) {
    // A stop that lands before training's first step (or during an evaluation) ends the job with ABORTED.
    if (isCoreError(err) && err.code === 'ABORTED' && ctx.signal.aborted) return { state: 'stopped' };
    return { state: 'failed', error: errorOf(err) };
  }
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (isCoreError(err)) return { code: err.code, message: err.message };
  const e = err as Error;
  return { code: 'INTERNAL', message: e?.stack ?? String(err) };
}

async function runTraining(
  o: { runId: string; dataDir?: string; config?: TrainSpecConfig; maxSteps?: number },
  ctx: TaskContext,
): Promise<JobOutcome> {
  const runDir = join(ctx.runsDir, o.runId);
  const resume = o.config === undefined;
  ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: resume ? 'resuming' : 'preparing' });
  if (ctx.checkStop()) return { state: 'stopped' };
  const result = await train({
    runDir,
    config: o.config,
    dataDir: o.dataDir,
    resume,
    backend: ctx.backend,
    cacheDir: ctx.cacheDir,
    maxSteps: o.maxSteps,
    signal: ctx.signal,
    onEvent: (e: TrainingEvent) => {
      ctx.poke(o.runId);
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

type TrainSpecConfig = Extract<JobSpec, { kind: 'train' }>['config'];

async function runTask(spec: TaskJobSpec, ctx: TaskContext): Promise<JobOutcome> {
  const fn = TASKS.get(spec.task);
  if (!fn)
    throw new CoreError(
      'BAD_INPUT',
      `unknown task ${JSON.stringify(spec.task)} (known: ${[...TASKS.keys()].join(', ') || 'none'})`,
      { field: 'task' },
    );
  const result = await fn(spec.params, ctx);
  return { state: ctx.signal.aborted ? 'stopped' : 'completed', result };
}

/** Synthetic step events as fast as the disk takes them (the event pipeline's benchmark and tests). */
async function eventFlood(spec: EventFloodJobSpec, ctx: TaskContext): Promise<JobOutcome> {
  const runDir = join(ctx.runsDir, spec.runId);
  mkdirSync(runDir, { recursive: true });
  const log = new EventLog(join(runDir, RUN_FILES.events));
  const run = runDir;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const t0 = performance.now();
  for (let i = 1; i <= spec.count; i++) {
    if (ctx.checkStop()) return { state: 'stopped', result: { written: i - 1 } };
    if (spec.ratePerSec !== undefined) {
      // Paced: event i is due at t0 + i/rate; a blocking wait (this thread does nothing else).
      const wait = t0 + (i * 1000) / spec.ratePerSec - performance.now();
      if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    }
    const ev: StepEvent = {
      type: 'step',
      time: new Date().toISOString(),
      run,
      epoch: 0,
      step: i,
      stepInEpoch: i,
      stepsPerEpoch: spec.count,
      loss: 1 / i,
      variantLoss: { original: 1 / i, text: null, image: null },
      samples: [],
      accepted: { text: 0, image: 0 },
      checked: { text: 0, image: 0 },
      rows: 16,
      lr: 1e-3,
      adapterLr: 1e-3,
      gradNorm: 1,
      ms: 0,
    };
    log.append(ev);
    ctx.poke(spec.runId);
  }
  return { state: 'completed', result: { written: spec.count } };
}
