// A BullMQ job ⇄ the supervisor's JobRecord. BullMQ's job hash is the only store of a lab job: data = {spec,
// requires, by}, its timestamps, progress, returnvalue {outcome, result}, failedReason "[CODE] message",
// attemptsStarted, stalledCounter and processedBy.
import type { Job } from 'bullmq';
import type { JsonValue } from '../../shared/training-events';
import { checkJobSpec } from '../supervisor/job-kinds';
import type { JobError, JobProgressSnapshot, JobRecord, JobSpec, JobState } from '../supervisor/jobs';
import type { JobRequirements } from './requirements';

export const LAB_JOB_DATA_VERSION = 1;

export interface LabJobData {
  v: number;
  spec: JobSpec;
  /** What a worker must see before it takes the job (data set with its fingerprint, base run, run folder). */
  requires: JobRequirements;
  /** The workbench that queued it ("host:pid"). */
  by: string;
}

/** What a worker's processor returns: BullMQ's "completed" covers our completed and stopped (and a cancel). */
export interface LabJobReturn {
  outcome: 'completed' | 'stopped' | 'cancelled';
  result: JsonValue | null;
}

export function encodeError(e: JobError): string {
  return `[${e.code}] ${e.message}`;
}

export function decodeError(reason: string | undefined | null): JobError | null {
  if (!reason) return null;
  const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(reason);
  if (m) return { code: m[1], message: m[2] };
  if (reason === 'job stalled more than allowable limit')
    return {
      code: 'WORKER_DIED',
      message:
        'its workers died (or lost Redis) too many times while running it; resume the run to continue from its last checkpoint',
    };
  return { code: 'INTERNAL', message: reason };
}

const iso = (ms: number | undefined | null): string | null => (ms ? new Date(ms).toISOString() : null);

/** BullMQ's states → ours: waiting / prioritized / delayed (a retry's back-off, a refusal) are all "queued". */
export function toRecord(job: Job, bullState: string): JobRecord {
  const data = job.data as LabJobData;
  // Checked like jobs.json: the kind must be known here and its params valid (another workbench may run a newer
  // version); the caller leaves out a job that fails this and says why.
  const spec = checkJobSpec(data?.spec, `lab job ${job.id}`);
  let state: JobState;
  let error: JobError | null = null;
  let result: JsonValue | null = null;
  switch (bullState) {
    case 'completed': {
      const rv = job.returnvalue as LabJobReturn | null;
      state = rv?.outcome ?? 'completed';
      result = rv?.result ?? null;
      break;
    }
    case 'failed':
      state = 'failed';
      error = decodeError(job.failedReason);
      break;
    case 'active':
      state = 'running';
      break;
    default:
      state = 'queued';
      // A retry pending: show why the last try failed.
      if (job.attemptsMade > 0 && job.failedReason) error = decodeError(job.failedReason);
  }
  const finished = state !== 'queued' && state !== 'running';
  return {
    id: job.id!,
    spec,
    state,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: iso(job.processedOn),
    endedAt: finished ? iso(job.finishedOn) : null,
    error,
    progress: isProgress(job.progress) ? job.progress : null,
    result,
    worker: job.processedBy ?? null,
    // attemptsStarted counts starts; attemptsMade only finished tries (it is 1 after a first success).
    attempts: job.attemptsStarted,
    stalls: job.stalledCounter,
  };
}

export function isProgress(v: unknown): v is JobProgressSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Partial<JobProgressSnapshot>;
  return typeof p.phase === 'string' && typeof p.message === 'string';
}
