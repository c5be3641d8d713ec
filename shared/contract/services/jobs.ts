// The jobs domain: the supervisor's job list (training, evaluation, robustness, imports) and cancelling a job.
import { z } from 'zod';
import { ApiErrorShape, IsoTime, JobId, JobKind, JobState, RunId, StreamId } from '../common';
import { command } from './define';

export const JobSummary = z.object({
  id: JobId,
  kind: JobKind,
  state: JobState,
  runId: RunId.nullable(),
  /** The stream whose events report this job's progress. */
  stream: StreamId,
  /** What the job is, in a few words (e.g. "evaluate test multimodal+text, greedy"). */
  label: z.string(),
  createdAt: IsoTime,
  startedAt: IsoTime.nullable(),
  endedAt: IsoTime.nullable(),
  /** Position in the queue (0 = next) while queued. */
  queuePosition: z.int().nullable(),
  error: ApiErrorShape.nullable(),
});
export type JobSummary = z.infer<typeof JobSummary>;

/** The answer to every command that starts long work. */
export const JobStarted = z.object({ jobId: JobId, stream: StreamId });

export const JOBS_COMMANDS = {
  'jobs.list': command(
    z.strictObject({ state: JobState.optional() }),
    z.object({ jobs: z.array(JobSummary) }),
    'Queued, running and finished jobs.',
  ),
  'jobs.cancel': command(
    z.strictObject({ id: JobId }),
    z.object({ job: JobSummary }),
    'Cancels a queued job or stops a running one at a step boundary.',
  ),
};
