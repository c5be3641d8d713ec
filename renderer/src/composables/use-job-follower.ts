// Following a job's stream (evaluation, robustness, import) to show where it stands and how it ended. A composable,
// not a store: a job's progress belongs to the view (or store) that started it, and a view stops listening when it
// unmounts.
//
// The job state is the supervisor's full vocabulary (JOB_STATES). The contract's wire had no 'stopped' until it
// took that vocabulary: a stopped job arrived as 'cancelled' (or 'failed' with the core's ABORTED code). Both wires
// are read here, so a stopped job shows as stopped, never as failed.
import type { ServiceEvent } from '@shared/contract/events';
import type { ProgressPhase } from '@shared/training-events';
import { isFinishedJobState, type JobState } from '@shared/vocabulary';
import { computed, getCurrentScope, onScopeDispose, reactive, shallowRef, type ComputedRef } from 'vue';
import { api, errorText } from '../api/api';

/** A job as its follower sees it: the latest progress line and the job's state. */
export interface FollowedJob {
  jobId: string;
  /** What the job does, for people ("evaluate run-3"). */
  label: string;
  /** The core's progress phase (preparing, encoding, predicting, …, done, stopped, failed); queued before any. */
  phase: ProgressPhase | 'queued';
  done: number | null;
  total: number | null;
  message: string;
  state: JobState;
  /** Why it failed or was interrupted; null while it goes well, and for a stop (asked for: not an error). */
  error: string | null;
}

/** The core's code for work ended by a stop (models/core-error.ts). */
const ABORTED = 'ABORTED';

/** A fresh record for a job just queued. */
export function newFollowedJob(jobId: string, label: string): FollowedJob {
  return { jobId, label, phase: 'queued', done: null, total: null, message: 'queued', state: 'queued', error: null };
}

/** Moves the job to `state` (never back to queued; a stop already seen is not overwritten by the old wire's words). */
function moveTo(job: FollowedJob, state: JobState, error: string | null): void {
  if (state === 'queued') return;
  if (job.state === 'stopped' && (state === 'cancelled' || state === 'failed')) return;
  job.state = state;
  job.error = state === 'failed' || state === 'interrupted' ? error : null;
}

/**
 * The state a job event means for this job. Old wire: 'cancelled' for a job that had started is a stop (a job is
 * cancelled only while queued), and 'failed' with ABORTED is a stop that surfaced as an error.
 */
export function stateFromWire(job: Pick<FollowedJob, 'state'>, wire: JobState, errorCode?: string): JobState {
  if (wire === 'cancelled' && job.state !== 'queued') return 'stopped';
  if (wire === 'failed' && errorCode === ABORTED) return 'stopped';
  return wire;
}

/** Applies one event of the job's stream to its record. */
export function applyJobEvent(job: FollowedJob, e: ServiceEvent): void {
  if (e.kind === 'progress') {
    job.phase = e.data.phase;
    job.done = e.data.done;
    job.total = e.data.total;
    job.message = e.data.message;
    if (e.data.phase === 'stopped') moveTo(job, 'stopped', null);
    else if (e.data.phase === 'failed')
      moveTo(job, e.data.error?.code === ABORTED ? 'stopped' : 'failed', e.data.error?.message ?? e.data.message);
    else if (job.state === 'queued') moveTo(job, 'running', null);
  } else if (e.kind === 'job') {
    if (e.data.jobId !== job.jobId) return;
    const state = stateFromWire(job, e.data.state, e.data.error?.code);
    moveTo(job, state, e.data.error?.message ?? state);
  } else if (e.kind === 'error') {
    moveTo(job, e.data.code === ABORTED ? 'stopped' : 'failed', e.data.message);
  }
}

/** A followed job and the way to stop listening to it. */
export interface JobFollow<T extends FollowedJob> {
  /** The record, reactive: views read it as it changes. */
  job: T;
  close(): void;
}

/**
 * Subscribes to the job's stream from its start and keeps `record` (made reactive) up to date; when the job has
 * finished, the subscription closes and `onEnd` runs, once.
 */
export function followJob<T extends FollowedJob>(record: T, stream: string, onEnd?: (job: T) => void): JobFollow<T> {
  const job = reactive(record) as T;
  let ended = false;
  const sub = api().subscribe(
    stream,
    0,
    (batch) => {
      for (const e of batch.events) applyJobEvent(job, e);
      if (!ended && isFinishedJobState(job.state)) {
        ended = true;
        sub.close();
        onEnd?.(job);
      }
    },
    (err) => {
      job.state = 'failed';
      job.error = errorText(err);
    },
  );
  return { job, close: () => sub.close() };
}

/** The jobs a view started, newest last; it stops listening to them when it unmounts. */
export interface JobFollower {
  jobs: ComputedRef<readonly FollowedJob[]>;
  /** True when every job followed so far has finished (also when there is none). */
  allFinished: ComputedRef<boolean>;
  follow(jobId: string, stream: string, label: string, onEnd?: (job: FollowedJob) => void): FollowedJob;
}

export function useJobFollower(): JobFollower {
  const list = shallowRef<FollowedJob[]>([]);
  const closers: (() => void)[] = [];
  if (getCurrentScope()) onScopeDispose(() => closers.forEach((close) => close()));

  function follow(jobId: string, stream: string, label: string, onEnd?: (job: FollowedJob) => void): FollowedJob {
    const { job, close } = followJob(newFollowedJob(jobId, label), stream, onEnd);
    closers.push(close);
    list.value = [...list.value, job];
    return job;
  }

  return {
    jobs: computed(() => list.value),
    allFinished: computed(() => list.value.every((j) => isFinishedJobState(j.state))),
    follow,
  };
}
