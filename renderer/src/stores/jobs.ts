// Follows one job's stream (evaluation, robustness, import) to show its progress and its end.
import type { ServiceEvent } from '@shared/contract/events';
import { reactive } from 'vue';
import { api, errorText } from '../api/api';

export interface JobProgress {
  jobId: string;
  label: string;
  phase: string;
  done: number | null;
  total: number | null;
  message: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  error: string | null;
}

/** Applies one event of the job's stream to its progress record. */
export function applyJobEvent(p: JobProgress, e: ServiceEvent): void {
  if (e.kind === 'progress') {
    p.phase = e.data.phase;
    p.done = e.data.done;
    p.total = e.data.total;
    p.message = e.data.message;
    if (p.state === 'queued') p.state = 'running';
    if (e.data.phase === 'failed') {
      p.state = 'failed';
      p.error = e.data.error?.message ?? e.data.message;
    }
  } else if (e.kind === 'job') {
    if (e.data.jobId !== p.jobId) return;
    if (e.data.state === 'running') p.state = 'running';
    else if (e.data.state === 'completed') p.state = 'completed';
    else if (e.data.state !== 'queued') {
      p.state = 'failed';
      p.error = e.data.error?.message ?? e.data.state;
    }
  } else if (e.kind === 'error') {
    p.state = 'failed';
    p.error = e.data.message;
  }
}

/** Subscribes to `stream` and keeps a reactive progress record until the job ends; onEnd runs once. */
export function followJob(jobId: string, stream: string, label: string, onEnd?: (p: JobProgress) => void): JobProgress {
  const p = reactive<JobProgress>({
    jobId,
    label,
    phase: 'queued',
    done: null,
    total: null,
    message: 'queued',
    state: 'queued',
    error: null,
  });
  let ended = false;
  const sub = api().subscribe(
    stream,
    0,
    (batch) => {
      for (const e of batch.events) applyJobEvent(p, e);
      if (!ended && (p.state === 'completed' || p.state === 'failed')) {
        ended = true;
        sub.close();
        onEnd?.(p);
      }
    },
    (err) => {
      p.state = 'failed';
      p.error = errorText(err);
    },
  );
  return p;
}
