// Where a run stands, as the Run view shows it: the supervisor's word on its job (the "job" lines of the run's own
// stream, folded by RunSeries) merged with the run's summary (runs.list / runs.get: its folder, and runs that no job
// of this app trains, such as a CLI run), and what it is doing now (queued, loading the data, encoding images N of
// M, training, validating, saving a checkpoint) from the stream's progress events. Plain functions: the view and the
// tests call them with the series' fields.
import type { RunJobState } from '@shared/run-series';
import type { ProgressEvent, RunStartEvent } from '@shared/training-events';
import { isFinishedJobState, type RunStatus } from '@shared/vocabulary';
import { failureSentence, type JobErrorLike } from './job-errors';

/** A run's state in the view: the run statuses, and 'cancelled' for a new run taken out of the queue. */
export type RunViewState = RunStatus | 'cancelled' | 'unknown';

export interface RunStateInput {
  /** The run's summary status (runs store, or runs.get), null before either answered. */
  summary: RunStatus | null;
  /** Why the summary says it failed or was interrupted. */
  summaryError: JobErrorLike | null;
  /** The newest job line of the run's stream. */
  job: RunJobState | null;
  /** The newest progress event of the run's stream. */
  progress: ProgressEvent | null;
  /** The newest run-start, and whether its part has ended (run-end or error). */
  start: RunStartEvent | null;
  ended: boolean;
}

export interface RunState {
  state: RunViewState;
  /** Queued or running: Stop applies. */
  active: boolean;
  /** What it does now, for people ("Encoding images"); null once it has ended. */
  phase: string | null;
  /** The phase's count (images, items) and its share done, when the phase is counted. */
  done: number | null;
  total: number | null;
  fraction: number | null;
  /** Why it failed or was interrupted, as a sentence; null otherwise. */
  reason: string | null;
}

/**
 * The state. The run's stream is the newest word: a job that is queued or running is that, whatever an older summary
 * says (the list reloads later); a job that ended is that end, unless a part started after it (the run was continued
 * by `aimkp train --resume`, which the summary knows). Without a job line (a CLI run), the summary.
 */
function mergedState(i: RunStateInput): RunViewState {
  const job = i.job;
  if (job && !isFinishedJobState(job.state)) {
    if (i.summary === 'stopping') return 'stopping';
    return job.state === 'queued' ? 'queued' : 'running';
  }
  const continuedElsewhere = job !== null && i.start !== null && i.start.time > job.time;
  if (job && !continuedElsewhere) return job.state;
  return i.summary ?? 'unknown';
}

const PHASE_WORDS: Readonly<Partial<Record<ProgressEvent['phase'], string>>> = {
  preparing: 'Loading the data',
  encoding: 'Encoding images',
  training: 'Training',
  validating: 'Validating',
  checkpointing: 'Saving a checkpoint',
};

export function runState(i: RunStateInput): RunState {
  const state = mergedState(i);
  const active = state === 'queued' || state === 'running' || state === 'stopping';
  const out: RunState = { state, active, phase: null, done: null, total: null, fraction: null, reason: null };
  if (state === 'failed' || state === 'interrupted') {
    const fromJob = i.job && i.job.state === state ? i.job : null;
    out.reason = fromJob?.error
      ? failureSentence(fromJob.error, fromJob.jobId)
      : i.summaryError
        ? failureSentence(i.summaryError, null)
        : null;
    return out;
  }
  if (state === 'queued') {
    out.phase = 'Queued: it starts when the jobs before it have ended';
    return out;
  }
  if (state !== 'running' && state !== 'stopping') return out;
  // Progress from before the job (re)started belongs to an earlier part of the run.
  const p = i.progress && !(i.job && i.job.state === 'running' && i.progress.time < i.job.time) ? i.progress : null;
  const inPart = i.start !== null && !i.ended;
  const phase = p?.phase ?? (inPart ? 'training' : null);
  const word = phase ? PHASE_WORDS[phase] : undefined;
  if (!word) {
    out.phase = inPart ? 'Training' : 'Starting';
    return out;
  }
  out.phase = word;
  if (p && p.phase === phase && p.total !== null && p.total > 0 && p.done !== null && phase !== 'training') {
    out.done = p.done;
    out.total = p.total;
    out.fraction = Math.min(1, p.done / p.total);
  }
  return out;
}
