// What several domains say about runs and jobs: a run's summary (from its folder, or from its job while it has no
// config.json yet), its folder checked to exist, a job's summary for the job list.
import { CoreError } from '../../../models/index';
import type { JobSummary, RunSummary } from '../../../shared/contract/service';
import { isJobOf, kindOfSpec, runOfSpec, TRAIN_JOB } from '../../supervisor/job-kinds';
import type { JobRecord } from '../../supervisor/jobs';
import { readMeta } from '../../supervisor/run-registry';
import { listedKindOf, type RunView } from '../../supervisor/supervisor';
import { testScores } from '../run-results';
import type { ServiceContext } from './context';

export interface RunViews {
  runSummary(v: RunView): RunSummary;
  /**
   * A run without config.json yet, shown from its job's spec: queued, preparing (running), or failed before
   * training began (bad data, say) — so the user sees why; runs.delete removes its folder.
   */
  pendingSummary(job: JobRecord): RunSummary | null;
  summaryOf(id: string): RunSummary;
  /** The run's folder; NOT_FOUND when there is no such run. */
  runDirChecked(id: string): string;
  jobSummary(j: JobRecord, queue: JobRecord[]): JobSummary;
}

export function runViews(c: ServiceContext): RunViews {
  const sup = () => c.supervisor();

  const runSummary = (v: RunView): RunSummary => {
    const cfg = v.config;
    return {
      id: v.id,
      name: v.meta.name ?? v.id,
      preset: cfg.preset,
      method: cfg.method,
      seed: typeof cfg.seed === 'number' ? cfg.seed : null,
      dataset:
        c.datasets.idOfDir(cfg.dataDir) ??
        (cfg.dataDir ? (cfg.dataDir.split(/[\\/]/).filter(Boolean).pop() ?? null) : null),
      status: v.status,
      tags: v.meta.tags ?? [],
      createdAt: v.createdAt,
      updatedAt: v.updatedAt,
      epoch: v.epoch,
      epochs: v.epochs,
      step: v.step,
      totalSteps: v.totalSteps,
      best: v.best,
      test: testScores(v.dir),
      lastSeq: v.lastSeq,
      error: v.reason,
      origin: v.meta.origin ?? 'cli',
      ...(v.meta.sweep ? { sweep: v.meta.sweep } : {}),
    };
  };

  const pendingSummary = (job: JobRecord): RunSummary | null => {
    if (!isJobOf(job.spec, TRAIN_JOB)) return null;
    if (job.state !== 'queued' && job.state !== 'running' && job.state !== 'failed') return null;
    const { runId, config: cfg, dataDir } = job.spec.params;
    const meta = readMeta(sup().registry.dirOf(runId));
    return {
      id: runId,
      name: meta.name ?? runId,
      preset: cfg.preset,
      method: cfg.method,
      seed: cfg.seed,
      dataset: c.datasets.idOfDir(dataDir),
      status: job.state === 'queued' ? 'queued' : job.state === 'failed' ? 'failed' : 'running',
      tags: meta.tags ?? [],
      createdAt: job.createdAt,
      updatedAt: job.startedAt,
      epoch: 0,
      epochs: cfg.epochs,
      step: 0,
      totalSteps: 0,
      best: null,
      test: [],
      lastSeq: 0,
      error: job.state === 'failed' ? job.error : null,
      origin: 'app',
      ...(meta.sweep ? { sweep: meta.sweep } : {}),
    };
  };

  const summaryOf = (id: string): RunSummary => {
    const s = sup();
    if (!s.registry.exists(id)) {
      const job = s.activeJobOf(id) ?? s.lastJobOf(id);
      const pending = job ? pendingSummary(job) : null;
      if (pending) return pending;
    }
    return runSummary(s.getRun(id));
  };

  const runDirChecked = (id: string): string => {
    const s = sup();
    if (!s.registry.exists(id)) throw new CoreError('NOT_FOUND', `run ${id}: no such run`, { field: 'id' });
    return s.registry.dirOf(id);
  };

  const jobSummary = (j: JobRecord, queue: JobRecord[]): JobSummary => {
    const queued = queue.filter((q) => q.state === 'queued').reverse();
    const pos = queued.findIndex((q) => q.id === j.id);
    return {
      id: j.id,
      kind: listedKindOf(j),
      state: j.state,
      runId: runOfSpec(j.spec),
      stream: sup().streamOf(j),
      label: kindOfSpec(j.spec).label(j.spec.params),
      createdAt: j.createdAt,
      startedAt: j.startedAt,
      endedAt: j.endedAt,
      queuePosition: pos >= 0 ? pos : null,
      error: j.error,
    };
  };

  return { runSummary, pendingSummary, summaryOf, runDirChecked, jobSummary };
}
