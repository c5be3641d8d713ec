// Messages between the supervisor (main thread) and a job's worker thread. Events themselves do not travel
// here: the worker's core call appends them to the run's events.jsonl and the worker only pokes the supervisor,
// which reads the file (the one source of truth for live delivery and replay alike).
import type { JobOutcome } from './job-queue';
import type { JobProgressSnapshot, JobSpec } from './jobs';
import type { WorkspaceSettings } from './workspace';

/** A worker that runs one job and ends. */
export interface JobWorkerInit {
  mode: 'job';
  jobId: string;
  spec: JobSpec;
  runsDir: string;
  datasetsDir: string;
  cacheDir: string;
  backend: WorkspaceSettings['backend'];
  /** Int32Array[1]: 1 = stop requested. Read by the worker between steps even while its event loop is busy. */
  stopFlag: SharedArrayBuffer;
  /** The caller holds the run's writer lock (a lab worker, under its lease): the work does not take it. */
  runLockHeld: boolean;
  /** A lab worker's lease (job-queue.ts JobRunOptions.lease): the thread's write fence reads it. */
  lease: { state: SharedArrayBuffer; fenceAfterMs: number } | null;
}

/** The long-lived prediction worker: runs the jobs it is sent with the runs' models kept loaded between them. */
export interface PredictServerInit {
  mode: 'predict-server';
  runsDir: string;
  datasetsDir: string;
  cacheDir: string;
  backend: WorkspaceSettings['backend'];
}

export type WorkerInit = JobWorkerInit | PredictServerInit;

export type ToWorker = { t: 'stop' } | { t: 'run'; id: number; spec: JobSpec } | { t: 'cancel'; id: number };

export type FromWorker =
  | { t: 'poke'; runId: string }
  | { t: 'progress'; progress: JobProgressSnapshot }
  | { t: 'log'; line: string }
  | { t: 'done'; outcome: JobOutcome }
  | { t: 'ran'; id: number; outcome: JobOutcome };

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { t?: unknown }).t;
  return t === 'poke' || t === 'progress' || t === 'log' || t === 'done' || t === 'ran';
}
