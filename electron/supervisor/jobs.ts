// What a job is: its spec (plain JSON, persisted in jobs.json and sent to a worker), its state machine and the
// record the queue keeps. The worker side (worker-tasks.ts) maps each kind to a call into the core.
import type { TrainConfig } from '../../models/index';
import type { JsonValue, ProgressPhase, ProgressUnit } from '../../shared/training-events';

/** A new training run in runs/<runId>. */
export interface TrainJobSpec {
  kind: 'train';
  runId: string;
  /** Absolute data-set folder. */
  dataDir: string;
  config: TrainConfig;
  /** Stop (resumable) after this global step; tests and time-boxed runs. */
  maxSteps?: number;
}

/** Continues runs/<runId> from its last checkpoint (model, optimizer, strides, RNG, data order). */
export interface ResumeJobSpec {
  kind: 'resume';
  runId: string;
  maxSteps?: number;
}

/**
 * A core operation that is not training (evaluate, robustness, predict, import a data set, ...): `task` names
 * the worker-side function (worker-tasks.ts TASKS), `params` its JSON argument, checked there.
 */
export interface TaskJobSpec {
  kind: 'task';
  task: string;
  /** The run it reads or writes, when there is one (shown in the job list, guards delete). */
  runId?: string;
  params: JsonValue;
}

/** Benchmark and tests: appends `count` synthetic step events to runs/<runId>/events.jsonl as fast as it can. */
export interface EventFloodJobSpec {
  kind: 'event-flood';
  runId: string;
  count: number;
  /** Events per second (paced); undefined = as fast as possible. */
  ratePerSec?: number;
}

export type JobSpec = TrainJobSpec | ResumeJobSpec | TaskJobSpec | EventFloodJobSpec;
export type JobKind = JobSpec['kind'];

/**
 * queued → running → completed | stopped (asked to) | failed (error, or the worker died) | interrupted (the app
 * quit or crashed while it ran: resumable). queued → cancelled.
 */
export type JobState = 'queued' | 'running' | 'completed' | 'stopped' | 'failed' | 'interrupted' | 'cancelled';
export const FINISHED_STATES: readonly JobState[] = ['completed', 'stopped', 'failed', 'interrupted', 'cancelled'];

export interface JobError {
  /** A CoreError code, or WORKER_DIED / WORKER_ERROR for a worker that crashed. */
  code: string;
  message: string;
}

export interface JobProgress {
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
  progress: JobProgress | null;
  /** The task's JSON result (evaluate scores, predictions, ...); null for training. */
  result: JsonValue | null;
}

export function isFinished(state: JobState): boolean {
  return FINISHED_STATES.includes(state);
}
