// Messages between the supervisor (main thread) and a job's worker thread. Events themselves do not travel
// here: the worker's core call appends them to the run's events.jsonl and the worker only pokes the supervisor,
// which reads the file (the one source of truth for live delivery and replay alike).
import type { JobOutcome } from './job-queue';
import type { JobProgress, JobSpec } from './jobs';
import type { WorkspaceSettings } from './workspace';

export interface WorkerInit {
  jobId: string;
  spec: JobSpec;
  runsDir: string;
  datasetsDir: string;
  cacheDir: string;
  backend: WorkspaceSettings['backend'];
  /** Int32Array[1]: 1 = stop requested. Read by the worker between steps even while its event loop is busy. */
  stopFlag: SharedArrayBuffer;
}

export type ToWorker = { t: 'stop' };

export type FromWorker =
  | { t: 'poke'; runId: string }
  | { t: 'progress'; progress: JobProgress }
  | { t: 'log'; line: string }
  | { t: 'done'; outcome: JobOutcome };

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { t?: unknown }).t;
  return t === 'poke' || t === 'progress' || t === 'log' || t === 'done';
}
