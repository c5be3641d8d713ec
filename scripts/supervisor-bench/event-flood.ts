// The benchmark's own job kind: synthetic step events appended to runs/<runId>/events.jsonl as fast as the disk
// takes them (or at a steady rate): the event pipeline's load in `npm run bench:supervisor` and the supervisor's
// tests. It joins the app's job-kind table (electron/supervisor/job-kinds.ts) where this module is imported: in
// the main thread by its user, in the worker thread by FLOOD_WORKER_ENTRY.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RUN_FILES } from '../../models/index';
import { registerJobKind } from '../../electron/supervisor/job-kinds';
import { ended, type TaskContext, type TaskEnd } from '../../electron/supervisor/task-context';
import { RunIdParam } from '../../electron/supervisor/tasks/params';
import type { WorkerEntry } from '../../electron/supervisor/worker-runner';
import type { StepEvent } from '../../shared/training-events';

const EventFloodParams = z.strictObject({
  runId: RunIdParam,
  count: z.int().min(0),
  /** Events per second (paced); undefined = as fast as possible. */
  ratePerSec: z.number().positive().optional(),
});
type EventFloodParams = z.output<typeof EventFloodParams>;

export const EVENT_FLOOD_JOB = registerJobKind({
  name: 'event-flood',
  params: EventFloodParams,
  trainsRun: false,
  reportsOn: 'run',
  listedAs: 'train',
  runOf: (p) => p.runId,
  label: (p) => `event benchmark → ${p.runId}`,
  run: eventFlood,
});

/** The supervisor's worker with this kind registered (the app's worker knows only the app's kinds). */
export const FLOOD_WORKER_ENTRY: WorkerEntry = { file: new URL('./flood-worker.mjs', import.meta.url), execArgv: [] };

async function eventFlood(p: EventFloodParams, ctx: TaskContext): Promise<TaskEnd<{ written: number }>> {
  const runDir = join(ctx.runsDir, p.runId);
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, RUN_FILES.events);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const t0 = performance.now();
  for (let i = 1; i <= p.count; i++) {
    if (ctx.checkStop()) return { state: 'stopped', result: { written: i - 1 } };
    if (p.ratePerSec !== undefined) {
      // Paced: event i is due at t0 + i/rate; a blocking wait (this thread does nothing else).
      const wait = t0 + (i * 1000) / p.ratePerSec - performance.now();
      if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    }
    const ev: StepEvent = {
      type: 'step',
      time: new Date().toISOString(),
      run: runDir,
      epoch: 0,
      step: i,
      stepInEpoch: i,
      stepsPerEpoch: p.count,
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
    // One synchronous append per event, as the trainer's event log does.
    appendFileSync(file, JSON.stringify(ev) + '\n');
    ctx.poke(p.runId);
  }
  return ended(ctx, { written: p.count });
}
