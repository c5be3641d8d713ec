// The service: every command of shared/contract/service.ts implemented on top of the supervisor (jobs, runs,
// events) and the core (presets, data sets, comparisons, reports). Requests arrive validated by the
// contract's dispatcher (defaults filled in); long work answers at once with a job id and its stream.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../../models/core-error';
import { listPresets } from '../../models/api/presets';
import { mergeOverride, validateConfig } from '../../models/train/config-resolve';
import { getPreset } from '../../models/train/presets';
import { RUN_FILES, type TrainConfig } from '../../models/index';
import { compareRuns } from '../../models/evaluate/compare-runs';
import { scoreCase } from '../../models/evaluate/compare';
import { reportRuns } from '../../models/evaluate/report-runs';
import { readMetricsFile } from '../../models/evaluate/metrics-file';
import { isDecodeStrategy, isEvalMode } from '../../models/evaluate/run-paths';
import { isPresent, matchWords } from '../../models/data/dataset-stats';
import { VERSION } from '../../models/version';
import type { EvalMode } from '../../models/lm/contract';
import type { CommandArgs, CommandResponse, JobSummary, RunSummary } from '../../shared/contract/service';
import { ERROR_CODES } from '../../shared/contract/common';
import type { ServiceHandlers, SubscriptionHandlers } from '../../shared/contract/handlers';
import type { JsonValue } from '../../shared/training-events';
import { contractJobKind, contractJobState, type RunView, type Supervisor } from '../supervisor/supervisor';
import type { JobRecord } from '../supervisor/jobs';
import { readMeta } from '../supervisor/run-registry';
import type {
  EvaluateTaskParams,
  ImportTaskParams,
  PredictTaskParams,
  RobustnessTaskParams,
} from '../supervisor/service-tasks';
import { DatasetRegistry, imageDataUrl } from './datasets';
import { RunHistoryCache } from './run-history';

export interface ServiceContext {
  supervisor: () => Supervisor;
  datasets: DatasetRegistry;
  host: 'electron' | 'browser';
  /** Switches the workspace (supervisor restarted on the new folder); null = not supported here. */
  switchWorkspace: ((dir: string) => Promise<void>) | null;
  /** The backend a worker picked when probed ('system.info'); cached by the caller. */
  probeBackend: () => Promise<{ name: string; description: string; tfjs: string | null; picked: string }>;
}

const conflict = (message: string) => Object.assign(new Error(message), { code: ERROR_CODES.conflict });

export function createHandlers(c: ServiceContext): {
  handlers: ServiceHandlers;
  subscriptions: SubscriptionHandlers;
  close: () => Promise<void>;
} {
  const sup = () => c.supervisor();
  const histories = new RunHistoryCache((id) => sup().streamFile(id), {
    persistDir: () => join(sup().paths.cache, 'history'),
  });

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
    };
  };

  /**
   * A run without config.json yet, shown from its job's spec: queued, preparing (running), or failed before
   * training began (bad data, say) — so the user sees why; runs.delete removes its folder.
   */
  const pendingSummary = (job: JobRecord): RunSummary | null => {
    if (job.spec.kind !== 'train') return null;
    if (job.state !== 'queued' && job.state !== 'running' && job.state !== 'failed') return null;
    const cfg = job.spec.config;
    const meta = readMeta(sup().registry.dirOf(job.spec.runId));
    return {
      id: job.spec.runId,
      name: meta.name ?? job.spec.runId,
      preset: cfg.preset,
      method: cfg.method,
      seed: cfg.seed,
      dataset: c.datasets.idOfDir(job.spec.dataDir),
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

  const jobSummary = (j: JobRecord, queue: JobRecord[]): JobSummary => {
    const queued = queue.filter((q) => q.state === 'queued').reverse();
    const pos = queued.findIndex((q) => q.id === j.id);
    return {
      id: j.id,
      kind: contractJobKind(j.spec),
      state: contractJobState(j.state),
      runId: j.spec.runId ?? null,
      stream: sup().streamOf(j),
      label: jobLabel(j),
      createdAt: j.createdAt,
      startedAt: j.startedAt,
      endedAt: j.endedAt,
      queuePosition: pos >= 0 ? pos : null,
      error: j.error,
    };
  };

  const runDirChecked = (id: string): string => {
    const s = sup();
    if (!s.registry.exists(id)) throw new CoreError('NOT_FOUND', `run ${id}: no such run`, { field: 'id' });
    return s.registry.dirOf(id);
  };

  const startTask = (task: string, params: object, runId?: string) => {
    const job = sup().enqueueTask(task, params as unknown as JsonValue, runId);
    return { jobId: job.id, stream: `job:${job.id}` };
  };

  const handlers: ServiceHandlers = {
    'system.info': async () => {
      const s = sup();
      const probe = await c.probeBackend();
      const list = cpus();
      return {
        app: { name: 'AimKP Workbench', version: VERSION },
        host: c.host,
        backend: { name: probe.picked, description: probe.description, requested: s.settings.backend },
        versions: {
          node: process.versions.node,
          electron: process.versions.electron ?? null,
          chrome: process.versions.chrome ?? null,
          tfjs: probe.tfjs,
          zod: null,
        },
        platform: process.platform,
        arch: process.arch,
        cores: list.length,
        memoryBytes: totalmem(),
        accelerator:
          probe.picked === 'tfjs-node-gpu'
            ? { kind: 'gpu', name: 'CUDA GPU (tfjs-node-gpu)' }
            : { kind: 'cpu', name: list[0]?.model ?? null },
        workspace: s.paths.root,
      };
    },

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

    'datasets.list': async () => ({ datasets: await c.datasets.list() }),
    'datasets.import': async (req) => {
      const id = datasetIdFor(req.name, c.datasets);
      const source = req.source;
      const params: ImportTaskParams = {
        out: c.datasets.importTarget(id),
        name: req.name,
        source: source.kind === 'manifest' ? { kind: 'manifest', dir: source.dir, copy: source.copy } : source,
      };
      const job = sup().enqueueTask('import', params as unknown as JsonValue);
      return { jobId: job.id, stream: `job:${job.id}`, datasetId: id };
    },
    'datasets.stats': async (req) => ({ id: req.id, stats: await c.datasets.stats(req.id) }),
    'datasets.items': async (req) => c.datasets.items(req.id, req),
    'datasets.issues': async (req) => c.datasets.issues(req.id, req),

    'runs.list': async (req) => {
      const s = sup();
      const views = s.listRuns();
      // Exact lastSeq (subscribing from it must not repeat events): the hub reads what it has not read yet.
      for (const v of views) v.lastSeq = await s.lastSeq(v.id);
      const listed = views.map(runSummary);
      const have = new Set(listed.map((r) => r.id));
      for (const job of s.queue.list()) {
        if (job.spec.kind !== 'train' || have.has(job.spec.runId) || s.registry.exists(job.spec.runId)) continue;
        // A failed start is listed while its folder is there (deleting the run removes it).
        if (job.state === 'failed' && !existsSync(s.registry.dirOf(job.spec.runId))) continue;
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
    'runs.evaluate': async (req) => {
      const params: EvaluateTaskParams = {
        runDir: runDirChecked(req.id),
        split: req.split,
        modes: [...new Set(req.modes)],
        decode: req.decode,
        checkpoint: req.checkpoint,
      };
      return startTask('evaluate', params, req.id);
    },
    'runs.robustness': async (req) => {
      const o = req.options;
      const params: RobustnessTaskParams = {
        runDir: runDirChecked(req.id),
        split: req.split,
        suite: {
          ratios: o.ratios,
          strides: o.strides,
          sigmas: o.sigmas,
          pattern: o.pattern === undefined ? undefined : o.pattern === 'structured' ? 'spread' : 'random',
          seed: o.seed,
        },
      };
      return startTask('robustness', params, req.id);
    },

    'compare.cases': async (req) => compareCases(req, runDirChecked, c.datasets),

    'report.table': async (req) => {
      const s = sup();
      const ids = req.runs ?? s.listRuns().map((r) => r.id);
      const r = reportRuns({
        runDirs: ids.map(runDirChecked),
        split: req.split,
        decode: req.decode,
        modes: req.modes,
        convention: req.convention,
      });
      const text = req.format === 'csv' ? r.csv : req.format === 'latex' ? r.latex : r.markdown;
      return {
        format: req.format,
        text,
        groups: r.report.groups.map((g) => ({
          preset: g.preset,
          runs: g.runs,
          seeds: g.seeds,
          cells: Object.fromEntries(req.modes.map((m) => [m, g.cells[m] ?? {}])),
        })),
      };
    },

    'predict.case': async (req, ctx) => {
      const s = sup();
      const runs = req.runIds.map((runId) => ({ runId, runDir: runDirChecked(runId) }));
      let input: PredictTaskParams['input'];
      let gold: string[] | null = null;
      let donor: PredictTaskParams['donor'] = null;
      let donorId: string | null = null;
      if (req.input.kind === 'item') {
        const { dir, item } = await c.datasets.item(req.input.dataset, req.input.itemId);
        input = { imagePath: item.image === null ? null : join(dir, item.image), imageBase64: null, text: item.text };
        gold = item.keyphrases;
        if (req.conditions) {
          // The swaps take the next item of the same split that has an image (cyclic): deterministic.
          const { loaded } = await c.datasets.load(req.input.dataset);
          const split = loaded.items.filter((i) => i.split === item.split);
          const at = split.findIndex((i) => i.id === item.id);
          const next = [...split.slice(at + 1), ...split.slice(0, at)].find((i) => i.image !== null);
          if (next) {
            donor = { imagePath: join(dir, next.image!), text: next.text };
            donorId = next.id;
          }
        }
      } else {
        const m = req.input.image === null ? null : /^data:image\/[a-z]+;base64,(.*)$/.exec(req.input.image);
        input = { imagePath: null, imageBase64: m ? m[1] : null, text: req.input.text ?? '' };
      }
      const params: PredictTaskParams = {
        runs,
        input,
        mode: req.mode,
        decode: req.decode,
        conditions: req.conditions,
        donor,
      };
      const result = await s.predict(params, ctx.signal);
      const score = (keyphrases: string[]): { hits: boolean[] | null; f1at3: number | null } =>
        gold === null ? { hits: null, f1at3: null } : scoreCase(gold, keyphrases);
      return {
        gold,
        donor:
          req.conditions && req.input.kind === 'item' ? (donorId === null ? null : { itemId: donorId }) : undefined,
        results: result.results.map(({ conditions, ...r }) => ({
          ...r,
          ...(conditions
            ? {
                conditions: conditions.map((x) => ({
                  name: x.name,
                  family: x.family,
                  mode: x.mode,
                  keyphrases: x.keyphrases,
                  ...score(x.keyphrases),
                })),
              }
            : {}),
        })),
      };
    },

    'settings.get': async () => settingsOf(sup()),
    'settings.set': async (req) => {
      if (req.workspace !== undefined && req.workspace !== sup().paths.root) {
        if (!c.switchWorkspace)
          throw new CoreError('BAD_INPUT', 'this host cannot change the workspace', { field: 'workspace' });
        if (sup().queue.runningIds().length > 0)
          throw conflict('jobs are running; stop them before changing the workspace');
        await c.switchWorkspace(req.workspace);
      }
      const change: { backend?: typeof req.backend; concurrency?: number } = {};
      if (req.backend !== undefined) change.backend = req.backend;
      if (req.concurrency !== undefined) change.concurrency = req.concurrency;
      if (Object.keys(change).length > 0) await sup().setSettings(change);
      return settingsOf(sup());
    },

    'jobs.list': async (req) => {
      const all = sup().queue.list();
      return {
        jobs: all
          .filter((j) => req.state === undefined || contractJobState(j.state) === req.state)
          .map((j) => jobSummary(j, all)),
      };
    },
    'jobs.cancel': async (req) => {
      const s = sup();
      const job = s.queue.get(req.id);
      if (!job) throw new CoreError('NOT_FOUND', `job ${req.id}: no such job`, { field: 'id' });
      if (job.state === 'running' && job.spec.runId && (job.spec.kind === 'train' || job.spec.kind === 'resume'))
        s.stop(job.spec.runId);
      else s.queue.cancel(req.id);
      return { job: jobSummary(job, s.queue.list()) };
    },
  };

  const subscriptions: SubscriptionHandlers = {
    'events.subscribe': async (req, emit) => {
      const s = sup();
      if (req.runId === '*')
        return s.subscribe('*', (b) => emit(b), 'sinceSeqByRun' in req ? req.sinceSeqByRun : undefined);
      return s.subscribe(req.runId, (b) => emit(b), 'sinceSeq' in req ? (req.sinceSeq ?? undefined) : undefined);
    },
  };

  return { handlers, subscriptions, close: () => histories.close() };
}

// ---- helpers --------------------------------------------------------------------------------------------

function settingsOf(s: Supervisor) {
  return { workspace: s.paths.root, backend: s.settings.backend, concurrency: s.settings.concurrency };
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

/** A data-set id from a display name: lower-case letters, digits, '-', unique in the workspace. */
function datasetIdFor(name: string, datasets: DatasetRegistry): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 100) || 'dataset';
  const taken = new Set(datasets.ids());
  let id = base;
  for (let k = 2; taken.has(id) || existsSync(datasets.importTarget(id)); k++) id = `${base}-${k}`;
  return id;
}

type ModeScores = RunSummary['test'][number];

function metricsFiles(
  dir: string,
): { split: string; mode: EvalMode; decode: 'greedy' | 'beam' | 'beam-sample'; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, 'metrics'));
  } catch {
    return [];
  }
  const out: { split: string; mode: EvalMode; decode: 'greedy' | 'beam' | 'beam-sample'; path: string }[] = [];
  for (const n of names) {
    const m = /^([a-z]+)\.([a-z]+)\.([a-z-]+)\.json$/.exec(n);
    if (!m || !isEvalMode(m[2]) || !isDecodeStrategy(m[3])) continue;
    out.push({ split: m[1], mode: m[2], decode: m[3], path: join(dir, 'metrics', n) });
  }
  return out;
}

function allMetrics(dir: string) {
  const out: (ModeScores & {
    decodeSettings: {
      strategy: 'greedy' | 'beam' | 'beam-sample';
      beamSize: number;
      temperature: number;
      maxNewTokens: number;
      repeats: number;
      seed: number;
    } | null;
    createdAt: string | null;
  })[] = [];
  for (const f of metricsFiles(dir)) {
    let m;
    try {
      m = readMetricsFile(f.path);
    } catch {
      continue;
    }
    if (!m) continue;
    out.push({
      mode: f.mode,
      split: f.split,
      decode: f.decode,
      scores: { 'f1@1': m.aimkp['f1@1'], 'f1@3': m.aimkp['f1@3'], 'map@5': m.aimkp['map@5'] },
      n: m.n,
      decodeSettings: m.decoding ?? null,
      createdAt: m.createdAt ?? null,
    });
  }
  return out;
}

/** The latest test evaluation of each mode × decoding (a table must not mix greedy on 319 items with beam-sample on 100). */
function testScores(dir: string): ModeScores[] {
  const best = new Map<string, ModeScores & { createdAt: string | null }>();
  for (const m of allMetrics(dir)) {
    if (m.split !== 'test') continue;
    const key = `${m.mode}|${m.decode}`;
    const had = best.get(key);
    if (!had || (m.createdAt ?? '') > (had.createdAt ?? '')) best.set(key, m);
  }
  return [...best.values()].map(({ mode, split, decode, scores, n }) => ({ mode, split, decode, scores, n }));
}

function robustnessReports(dir: string): CommandResponse<'runs.get'>['robustness'] {
  let names: string[];
  try {
    names = readdirSync(join(dir, 'robustness')).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: CommandResponse<'runs.get'>['robustness'] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(
        readFileSync(join(dir, 'robustness', n), 'utf8'),
      ) as CommandResponse<'runs.get'>['robustness'][number];
      if (Array.isArray(r.conditions)) out.push(r);
    } catch {
      /* a half-written or foreign file */
    }
  }
  return out;
}

function checkpointsOf(dir: string): CommandResponse<'runs.get'>['checkpoints'] {
  const state = (sub: string) => {
    try {
      return JSON.parse(readFileSync(join(dir, sub, 'state.json'), 'utf8')) as {
        epoch?: number;
        globalStep?: number;
        bestEpoch?: number | null;
        bestScore?: number | null;
      };
    } catch {
      return null;
    }
  };
  const last = state(RUN_FILES.last);
  const best = state(RUN_FILES.best);
  return {
    last:
      last && typeof last.epoch === 'number' && typeof last.globalStep === 'number'
        ? { epoch: last.epoch, step: last.globalStep }
        : null,
    best:
      best && typeof best.bestEpoch === 'number' && typeof best.bestScore === 'number'
        ? { epoch: best.bestEpoch, score: best.bestScore }
        : null,
  };
}

function jobLabel(j: JobRecord): string {
  const s = j.spec;
  switch (s.kind) {
    case 'train':
      return `train ${s.config.preset} (seed ${s.config.seed}) → ${s.runId}`;
    case 'resume':
      return `resume ${s.runId}`;
    case 'event-flood':
      return `event benchmark → ${s.runId}`;
    case 'task': {
      const p = (s.params ?? {}) as Record<string, unknown>;
      if (s.task === 'evaluate')
        return `evaluate ${s.runId ?? ''} ${String(p.split)} ${(p.modes as string[] | undefined)?.join('+') ?? ''}, ${String((p.decode as { strategy?: string } | undefined)?.strategy ?? '')}`;
      if (s.task === 'robustness') return `robustness ${s.runId ?? ''} ${String(p.split)}`;
      if (s.task === 'import')
        return `import ${String(p.name)} (${String((p.source as { kind?: string } | undefined)?.kind ?? '')})`;
      return s.task;
    }
  }
}

async function compareCases(
  req: CommandArgs<'compare.cases'>,
  runDir: (id: string) => string,
  datasets: DatasetRegistry,
): Promise<CommandResponse<'compare.cases'>> {
  const a = runDir(req.baseline);
  const b = runDir(req.other);
  const cfg = JSON.parse(readFileSync(join(a, RUN_FILES.config), 'utf8')) as { dataDir?: string };
  const dataDir = cfg.dataDir && existsSync(cfg.dataDir) ? cfg.dataDir : undefined;
  // Texts and images come from the data-set registry's cached items (loaded off the main thread), not from
  // compareRuns re-reading the manifest here.
  const items = new Map<string, { image: string | null; text: string }>();
  const datasetId = dataDir ? datasets.idOfDir(dataDir) : null;
  if (datasetId) {
    const { loaded } = await datasets.load(datasetId);
    for (const it of loaded.items)
      if (it.split === req.split)
        items.set(it.id, { image: it.image === null ? null : join(loaded.dir, it.image), text: it.text });
  }
  const all = await compareRuns({
    a,
    b,
    split: req.split,
    mode: req.mode,
    decode: req.decode,
    filter: 'all',
    sort: 'data',
  });
  const s = all.summary;
  const indexed = all.cases.map((cs, index) => ({ cs, index }));
  const outcomeOf = (o: 'A' | 'B' | 'tie') => (o === 'B' ? 'win' : o === 'A' ? 'loss' : 'tie');
  const wanted =
    req.filter === 'wins' ? 'win' : req.filter === 'losses' ? 'loss' : req.filter === 'ties' ? 'tie' : null;
  const q = req.search?.trim().toLowerCase();
  const textOf = (cs: (typeof all.cases)[number]) => cs.text ?? items.get(cs.id)?.text ?? '';
  let rows = indexed.filter(
    ({ cs }) =>
      (wanted === null || outcomeOf(cs.outcome) === wanted) &&
      (!q || [cs.id, textOf(cs), ...cs.gold, ...cs.predA, ...cs.predB].some((t) => t.toLowerCase().includes(q))),
  );
  const key: Record<typeof req.sort, ((r: (typeof rows)[number]) => number) | null> = {
    index: null,
    'diff-desc': (r) => -(r.cs.f1at3B - r.cs.f1at3A),
    'diff-asc': (r) => r.cs.f1at3B - r.cs.f1at3A,
    'baseline-desc': (r) => -r.cs.f1at3A,
    'other-desc': (r) => -r.cs.f1at3B,
  };
  const k = key[req.sort];
  if (k) rows = [...rows].sort((x, y) => k(x) - k(y) || x.index - y.index);
  const page = rows.slice(req.offset, req.offset + req.limit);
  const cases = await Promise.all(
    page.map(async ({ cs, index }) => {
      const item = items.get(cs.id);
      const text = textOf(cs) === '' ? null : textOf(cs);
      const words = matchWords(text ?? '');
      const side = (pred: string[], hits: boolean[], sc: { 'f1@1': number; 'f1@3': number; 'ap@5': number }) => ({
        predictions: pred.map((phrase, i) => ({ phrase, hit: hits[i] ?? false })),
        'f1@1': sc['f1@1'],
        'f1@3': sc['f1@3'],
        ap: sc['ap@5'],
      });
      return {
        id: cs.id,
        index,
        text,
        image: item?.image ? await imageDataUrl(item.image) : null,
        gold: cs.gold.map((phrase) => ({ phrase, present: isPresent(matchWords(phrase), words) })),
        baseline: side(cs.predA, cs.hitsA, cs.scoresA),
        other: side(cs.predB, cs.hitsB, cs.scoresB),
        diff: cs.f1at3B - cs.f1at3A,
        outcome: outcomeOf(cs.outcome),
      } as const;
    }),
  );
  return {
    summary: {
      common: s.common,
      wins: s.bBetter,
      losses: s.aBetter,
      ties: s.ties,
      meanF1at3Baseline: s.meanF1at3A,
      meanF1at3Other: s.meanF1at3B,
      onlyInBaseline: s.onlyInA.length,
      onlyInOther: s.onlyInB.length,
      goldMismatch: s.goldMismatch.length,
    },
    total: rows.length,
    offset: req.offset,
    cases: cases.map((x) => ({
      ...x,
      gold: [...x.gold],
      baseline: { ...x.baseline, predictions: [...x.baseline.predictions] },
      other: { ...x.other, predictions: [...x.other.predictions] },
    })),
  };
}
