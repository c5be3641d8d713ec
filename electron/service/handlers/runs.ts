// presets.list and runs.*: the runs of the workspace, their history and events, starting / stopping / resuming
// training, and evaluation and robustness as jobs.
import { existsSync } from 'node:fs';
import {
  CoreError,
  getPreset,
  listPresets,
  mergeOverride,
  validateConfig,
  type TrainConfig,
} from '../../../models/index';
import type { RUNS_COMMANDS } from '../../../shared/contract/services/runs';
import type { JsonValue } from '../../../shared/training-events';
import { expandSweep, SweepSpecError, type SweepValue } from '../../../shared/sweep';
import { EVALUATE_JOB, isJobOf, ROBUSTNESS_JOB, TRAIN_JOB } from '../../supervisor/job-kinds';
import type { JobRecord } from '../../supervisor/jobs';
import { allMetrics, checkpointsOf, robustnessReports } from '../run-results';
import type { RunHistoryCache } from '../run-history';
import { conflict, type HandlersOf, type ServiceContext } from './context';
import type { RunViews } from './run-views';

export function runsHandlers(
  c: ServiceContext,
  views: RunViews,
  histories: RunHistoryCache,
): HandlersOf<typeof RUNS_COMMANDS> {
  const sup = () => c.supervisor();
  const { runSummary, pendingSummary, summaryOf, runDirChecked } = views;
  const started = (job: JobRecord) => ({ jobId: job.id, stream: `job:${job.id}` });

  return {
    'presets.list': async () => ({
      presets: listPresets().map((p) => ({
        name: p.name,
        description: p.description,
        paper: p.paper,
        method: p.method,
        mode: p.mode,
        config: JSON.parse(JSON.stringify(p.config)) as Record<string, JsonValue>,
      })),
    }),

    'runs.list': async (req) => {
      const s = sup();
      const views = s.listRuns();
      // Exact lastSeq (subscribing from it must not repeat events): the hub reads what it has not read yet.
      for (const v of views) v.lastSeq = await s.lastSeq(v.id);
      const listed = views.map(runSummary);
      const have = new Set(listed.map((r) => r.id));
      for (const job of s.queue.list()) {
        if (!isJobOf(job.spec, TRAIN_JOB)) continue;
        const runId = job.spec.params.runId;
        if (have.has(runId) || s.registry.exists(runId)) continue;
        // A failed start is listed while its folder is there (deleting the run removes it).
        if (job.state === 'failed' && !existsSync(s.registry.dirOf(runId))) continue;
        const p = pendingSummary(job);
        if (p) {
          listed.unshift(p);
          have.add(p.id);
        }
      }
      // Fold finished runs in the background, newest first, so that opening one finds its history ready.
      histories.warm(listed.filter((r) => r.status !== 'queued' && r.status !== 'running').map((r) => r.id));
      return {
        runs: listed.filter(
          (r) =>
            (req.preset === undefined || r.preset === req.preset) &&
            (req.status === undefined || r.status === req.status) &&
            (req.tag === undefined || r.tags.includes(req.tag)) &&
            (req.dataset === undefined || r.dataset === req.dataset),
        ),
      };
    },
    'runs.get': async (req) => {
      const s = sup();
      const view = s.getRun(req.id);
      view.lastSeq = await s.lastSeq(req.id);
      return {
        run: runSummary(view),
        dir: view.dir,
        config: JSON.parse(JSON.stringify(view.config)) as Record<string, JsonValue>,
        metrics: allMetrics(view.dir),
        robustness: robustnessReports(view.dir),
        checkpoints: checkpointsOf(view.dir),
      };
    },
    'runs.history': async (req) => {
      runDirChecked(req.id);
      return histories.history(req.id);
    },
    'runs.events': async (req) => {
      const s = sup();
      const events = await s.eventsSince(req.id, req.sinceSeq, req.limit + 1);
      const more = events.length > req.limit;
      return { events: events.slice(0, req.limit), lastSeq: await s.lastSeq(req.id), more };
    },
    'runs.start': async (req) => {
      const dataDir = c.datasets.dirOf(req.dataset);
      const base = presetConfig(req.preset, req.overrides);
      const out: { id: string; jobId: string }[] = [];
      for (const seed of req.seeds) {
        const config = validateConfig({ ...base, seed }, 'overrides');
        const id = newRunId(req.preset, seed, (x) => sup().registry.dirOf(x));
        const name =
          req.name === undefined ? undefined : req.seeds.length > 1 ? `${req.name} (seed ${seed})` : req.name;
        const job = sup().startTraining({ runId: id, dataDir, config, name, tags: req.tags });
        out.push({ id, jobId: job.id });
      }
      return { runs: out };
    },
    'runs.sweep': async (req) => {
      const dataDir = c.datasets.dirOf(req.dataset);
      let expansion: ReturnType<typeof expandSweep>;
      try {
        expansion = expandSweep({ ...req, grid: req.grid as Record<string, SweepValue[]>, overrides: req.overrides });
      } catch (err) {
        if (err instanceof SweepSpecError) throw new CoreError('BAD_INPUT', err.message, { field: err.field });
        throw err;
      }
      // Every run's config is checked before anything is queued: a sweep starts whole or not at all.
      const planned = expansion.runs.map((r) => ({
        r,
        config: validateConfig({ ...presetConfig(r.preset, r.overrides), seed: r.seed }, `runs ${r.runId}`),
      }));
      const s = sup();
      const out: { id: string; jobId: string }[] = [];
      const skipped: string[] = [];
      for (const { r, config } of planned) {
        if (s.registry.exists(r.runId) || s.activeJobOf(r.runId)) {
          skipped.push(r.runId);
          continue;
        }
        const job = s.startTraining({
          runId: r.runId,
          dataDir,
          config,
          maxSteps: req.maxSteps,
          name: `${req.name} ${r.ref.cell} s${r.seed}`,
          tags: req.tags,
          sweep: r.ref,
        });
        out.push({ id: r.runId, jobId: job.id });
      }
      return { sweepId: expansion.sweepId, runs: out, skipped };
    },
    'runs.stop': async (req) => {
      const s = sup();
      const active = s.activeJobOf(req.id);
      if (!s.registry.exists(req.id) && !active)
        throw new CoreError('NOT_FOUND', `run ${req.id}: no such run`, { field: 'id' });
      // A queued new run is cancelled (its folder goes): answer from its job, as stopped.
      const before = active && !s.registry.exists(req.id) ? pendingSummary(active) : null;
      s.stop(req.id);
      if (before && !s.registry.exists(req.id) && !s.activeJobOf(req.id))
        return { run: { ...before, status: 'stopped' as const } };
      return { run: summaryOf(req.id) };
    },
    'runs.resume': async (req) => {
      const job = sup().resume(req.id);
      return { run: summaryOf(req.id), jobId: job.id };
    },
    'runs.delete': async (req) => {
      const s = sup();
      if (s.activeJobOf(req.id)) throw conflict(`run ${req.id}: it is queued or running; stop it first`);
      s.deleteRun(req.id);
      histories.forget(req.id);
      return { id: req.id, deleted: true as const };
    },
    'runs.rename': async (req) => {
      await sup().registry.writeMeta(req.id, (m) => ({ ...m, name: req.name }));
      return { run: summaryOf(req.id) };
    },
    'runs.tag': async (req) => {
      await sup().registry.writeMeta(req.id, (m) => {
        const tags = new Set(m.tags ?? []);
        for (const t of req.add) tags.add(t);
        for (const t of req.remove) tags.delete(t);
        return { ...m, tags: [...tags] };
      });
      return { run: summaryOf(req.id) };
    },
    'runs.evaluate': async (req) =>
      started(
        sup().enqueue(EVALUATE_JOB, {
          runId: req.id,
          runDir: runDirChecked(req.id),
          split: req.split,
          modes: [...new Set(req.modes)],
          decode: req.decode,
          checkpoint: req.checkpoint,
        }),
      ),
    'runs.robustness': async (req) => {
      const o = req.options;
      return started(
        sup().enqueue(ROBUSTNESS_JOB, {
          runId: req.id,
          runDir: runDirChecked(req.id),
          split: req.split,
          suite: {
            ratios: o.ratios,
            strides: o.strides,
            sigmas: o.sigmas,
            pattern: o.pattern === undefined ? undefined : o.pattern === 'structured' ? 'spread' : 'random',
            seed: o.seed,
          },
        }),
      );
    },
  };
}

/** A preset with request overrides (nested objects merge; unknown fields and wrong types are refused). */
export function presetConfig(preset: string, overrides: Record<string, unknown>): TrainConfig {
  const base = getPreset(preset);
  if (!base) throw new CoreError('BAD_INPUT', `unknown preset "${preset}"; see presets.list`, { field: 'preset' });
  const merged = mergeOverride(
    JSON.parse(JSON.stringify(base)) as Record<string, unknown>,
    overrides,
    'overrides',
  ) as unknown as TrainConfig;
  return validateConfig(merged, 'overrides');
}

/** `<preset>-s<seed>-<yyyymmdd-hhmmss>`, with -2, -3, … when taken. */
export function newRunId(preset: string, seed: number, dirOf: (id: string) => string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = `${preset}-s${seed}-${stamp}`.slice(0, 120);
  let id = base;
  for (let k = 2; existsSync(dirOf(id)); k++) id = `${base}-${k}`;
  return id;
}
