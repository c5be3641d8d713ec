// Worker side: one job run through the job-kind table (job-kinds.ts). Its spec is checked again here (the kind
// must be registered in this thread too, and its params valid), and every way it can end becomes a JobOutcome.
import { isCoreError, wasmHeapHint } from '../../models/index';
import type { JsonValue } from '../../shared/training-events';
import type { JobOutcome } from './job-queue';
import { checkJobSpec, kindOfSpec } from './job-kinds';
import type { JobSpec } from './jobs';
import type { TaskContext } from './task-context';

export async function runJob(spec: JobSpec, ctx: TaskContext): Promise<JobOutcome> {
  try {
    const checked = checkJobSpec(spec, `job "${String(spec?.kind)}"`);
    const end = await kindOfSpec(checked).run(checked.params, ctx);
    // Results are plain data by the table's rule (they are structured-cloned here and stored in jobs.json).
    return end.result === undefined ? { state: end.state } : { state: end.state, result: end.result as JsonValue };
  } catch (err) {
    // A stop that lands before training's first step (or during an evaluation) ends the job with ABORTED.
    if (isCoreError(err) && err.code === 'ABORTED' && ctx.signal.aborted) return { state: 'stopped' };
    return { state: 'failed', error: errorOf(err) };
  }
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (isCoreError(err)) return { code: err.code, message: err.message };
  const e = err as Error;
  const hint = wasmHeapHint(err);
  return {
    code: 'INTERNAL',
    message: hint === undefined ? (e?.stack ?? String(err)) : `${e.message}: ${hint}\n${e.stack}`,
  };
}
