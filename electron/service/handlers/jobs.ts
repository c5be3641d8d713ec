// jobs.list and jobs.cancel: the supervisor's job list, states as the supervisor records them.
import { CoreError } from '../../../models/index';
import type { JOBS_COMMANDS } from '../../../shared/contract/services/jobs';
import { kindOfSpec, runOfSpec } from '../../supervisor/job-kinds';
import type { HandlersOf, ServiceContext } from './context';
import type { RunViews } from './run-views';

export function jobsHandlers(c: ServiceContext, views: RunViews): HandlersOf<typeof JOBS_COMMANDS> {
  const { jobSummary } = views;
  return {
    'jobs.list': async (req) => {
      const all = c.supervisor().queue.list();
      return {
        jobs: all.filter((j) => req.state === undefined || j.state === req.state).map((j) => jobSummary(j, all)),
      };
    },
    'jobs.cancel': async (req) => {
      const s = c.supervisor();
      const job = s.queue.get(req.id);
      if (!job) throw new CoreError('NOT_FOUND', `job ${req.id}: no such job`, { field: 'id' });
      const runId = runOfSpec(job.spec);
      // A running training stops like runs.stop (at a step boundary, with a checkpoint); the rest are cancelled.
      if (job.state === 'running' && runId && kindOfSpec(job.spec).trainsRun) s.stop(runId);
      else s.queue.cancel(req.id);
      return { job: jobSummary(job, s.queue.list()) };
    },
  };
}
