// What the queue keeps of a job: its spec (a kind of the job-kind table, job-kinds.ts, and that kind's params; plain
// JSON, persisted in jobs.json and sent to a worker), its state and its record.
import type { JsonValue, ProgressPhase, ProgressUnit } from '../../shared/training-events';
import type { JobState } from '../../shared/vocabulary';

export type { JobState } from '../../shared/vocabulary';

/** A job as stored and sent to a worker: the name of its kind and its params (checked against the kind's schema). */
export interface JobSpec<P = unknown> {
  kind: string;
  params: P;
}

export interface JobError {
  /** A CoreError code, or WORKER_DIED / WORKER_ERROR for a worker that crashed. */
  code: string;
  message: string;
}

/** A running job's latest progress report as the queue records it (the core's ProgressEvent, minus time and run). */
export interface JobProgressSnapshot {
  phase: ProgressPhase;
  done: number | null;
  total: number | null;
  unit: ProgressUnit | null;
  message: string;
}

export interface JobRecord {
  id: string;
  spec: JobSpec;
  state: JobState;
  /** ISO times. */
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: JobError | null;
  progress: JobProgressSnapshot | null;
  /** The job's JSON result (evaluate scores, predictions, ...); for training its end (status, steps, best). */
  result: JsonValue | null;
  /**
   * Jobs of a lab queue (electron/queue/) only; absent for the in-process queue's jobs. The worker that runs or ran
   * it ("host:pid" or the name it was given), how often it was started (a retry or a takeover starts it again) and how
   * often its worker was found dead (the lease expired) while it ran.
   */
  worker?: string | null;
  attempts?: number;
  stalls?: number;
}
