// `aimkp worker` and `aimkp sweep`: the lab queue from a terminal (they need the supervisor, so they live beside it,
// not in the core's CLI; bin/aimkp.mjs dispatches here).
//   aimkp worker --redis URL --workspace DIR [--concurrency N] [--name NAME]
//       takes jobs from the lab's queue and runs them on this machine, headless; SIGTERM/SIGINT hand running jobs
//       back at a checkpoint (another worker resumes them at once).
//   aimkp sweep FILE [--workspace DIR] [--redis URL] [--concurrency N] [--no-wait]
//       expands a sweep file into runs and queues them: on this machine (the in-process queue, the default), or on
//       the lab's queue with --redis (workers train them); waits for the runs and prints one line per run.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CoreError, getPreset, mergeOverride, RUN_FILES, validateConfig, type TrainConfig } from '../../models/index';
import { expandSweep, parseSweepSpec, SweepFileError, type SweepSpec } from '../../shared/sweep';
import type { JobRecord } from '../supervisor/jobs';
import { Supervisor } from '../supervisor/supervisor';
import { WorkerJobRunner } from '../supervisor/worker-runner';
import { ensureWorkspace, readSettings } from '../supervisor/workspace';
import { RedisEventMirror } from './event-mirror';
import { labQueueFactory } from './lab-queue';
import { LabWorker } from './lab-worker';
import { LAB_KEYS, labSettings, type LabSettings } from './lab-settings';
import { preflight } from './redis-preflight';
import { connectionOptions, RedisSetupError, type RedisTarget } from './redis-target';

export const WORKER_HELP = `Usage: aimkp worker --redis URL --workspace DIR [--concurrency N] [--name NAME]

Takes training jobs from the lab's queue (BullMQ on Redis) and runs them on this machine, headless.
  --redis URL       redis://user:password@host:port (a password is required unless Redis is on this machine)
  --workspace DIR   the shared workspace as this machine mounts it (same path on every machine)
  --concurrency N   jobs at once (default 1)
  --name NAME       shown on the jobs it runs (default host:pid)
SIGTERM / SIGINT: running jobs stop at a step boundary with a checkpoint and go back to the queue.
Lease timing (tests): AIMKP_LAB_LOCK_MS, AIMKP_LAB_STALLED_MS (default 20000 / 5000).`;

export const SWEEP_HELP = `Usage: aimkp sweep FILE [--workspace DIR] [--redis URL] [--concurrency N] [--no-wait]

Expands a sweep file (presets × grid × seeds) into runs with stable names and queues them.
  FILE             JSON: {"name", "dataset", "presets", "seeds", "grid": {"aimkp.tauText": [..]}, "overrides", "maxSteps"}
                   "dataset": a folder (relative to FILE) or a data set id of the workspace
  --workspace DIR  workspace folder (default: AIMKP_WORKSPACE or the app's)
  --redis URL      queue on the lab's Redis (workers train them) instead of training here
  --concurrency N  runs at once here (in-process queue only)
  --no-wait        return once queued (lab queue only)
Runs that exist already are skipped (resubmitting a sweep queues only what is missing).`;

/** Lease timing from the environment (tests shorten it; the defaults are the measured recommendation). */
export function labSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LabSettings {
  const over: Partial<LabSettings> = {};
  if (env.AIMKP_LAB_LOCK_MS) over.lockDuration = Number(env.AIMKP_LAB_LOCK_MS);
  if (env.AIMKP_LAB_STALLED_MS) over.stalledInterval = Number(env.AIMKP_LAB_STALLED_MS);
  if (env.AIMKP_LAB_REFUSALS) over.maxRefusals = Number(env.AIMKP_LAB_REFUSALS);
  if (env.AIMKP_LAB_REFUSE_MS) over.refuseDelayMs = Number(env.AIMKP_LAB_REFUSE_MS);
  if (env.AIMKP_LAB_BACKOFF_MS) over.backoffMs = Number(env.AIMKP_LAB_BACKOFF_MS);
  return labSettings(over);
}

function positiveInt(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected an integer ≥ 1, got "${v}"`);
  return n;
}

/** The preflight's one line (wrong password, unreachable, insecure), or the target. */
async function checkedTarget(url: string, log: (l: string) => void): Promise<RedisTarget> {
  const pf = await preflight(url);
  for (const w of pf.warnings) log(`warning: ${w}`);
  return pf.target;
}

export async function workerMain(argv: readonly string[]): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: [...argv],
      options: {
        redis: { type: 'string' },
        workspace: { type: 'string' },
        concurrency: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
    if (a.help) {
      console.log(WORKER_HELP);
      return 0;
    }
    if (!a.redis) throw new Error('--redis URL is required');
    if (!a.workspace) throw new Error('--workspace DIR is required');
  } catch (err) {
    console.error(`aimkp worker: ${(err as Error).message}\n\n${WORKER_HELP}`);
    return 2;
  }
  const name = a.name ?? `${hostname()}:${process.pid}`;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} [${name}] ${line}\n`);
  let target: RedisTarget;
  let concurrency: number;
  let settings: LabSettings;
  try {
    concurrency = positiveInt(a.concurrency, '--concurrency', 1);
    settings = labSettingsFromEnv();
    target = await checkedTarget(a.redis, log);
  } catch (err) {
    // One line, no stack: the preflight's message already says what to do.
    console.error(`aimkp worker: ${(err as Error).message}`);
    return 2;
  }
  const paths = ensureWorkspace(resolve(a.workspace));
  const redis = new Redis(connectionOptions(target, `aimkp:mirror:${name}`));
  redis.on('error', () => undefined);
  const mirror = new RedisEventMirror(redis, {
    ns: LAB_KEYS.ns,
    fileOf: (id) => join(paths.runs, id, 'events.jsonl'),
    onError: (id, err) => log(`events of ${id} to Redis: ${err.message}`),
  });
  const runner = new WorkerJobRunner({
    paths,
    settings: () => readSettings(paths),
    onPoke: (runId) => mirror.poke(runId),
    onLog: (jobId, line) => log(`[job ${jobId.slice(0, 8)}] ${line}`),
  });
  const worker = new LabWorker({
    target,
    keys: LAB_KEYS,
    settings,
    runner,
    mirror,
    runsDir: paths.runs,
    concurrency,
    name,
    log,
  });
  worker.on('active', ((job: { id: string; data: { spec: { params: { runId?: string } } }; attemptsStarted: number }) =>
    log(`took job ${job.id} (run ${job.data.spec.params.runId ?? '-'}, try ${job.attemptsStarted})`)) as never);
  worker.on('completed', ((job: { id: string }) => log(`job ${job.id} done`)) as never);
  worker.on('failed', ((job: { id: string } | undefined, err: Error) =>
    log(`job ${job?.id ?? '?'} failed: ${err.message}`)) as never);
  const done = new Promise<void>((resolveDone) => {
    let quitting = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const)
      process.on(sig, () => {
        if (quitting) return;
        quitting = true;
        log(`${sig}: handing running jobs back`);
        void worker.shutdown(30_000).finally(() => {
          redis.disconnect();
          resolveDone();
        });
      });
  });
  await worker.start();
  log(
    `ready: ${target.display}, workspace ${paths.root}, concurrency ${concurrency}, lease ${settings.lockDuration} ms`,
  );
  await done;
  return 0;
}

/** The sweep's data set folder: a path (relative to the sweep file) or a data set id of the workspace. */
function datasetDir(spec: SweepSpec, file: string, datasetsDir: string): string {
  const asPath = isAbsolute(spec.dataset) ? spec.dataset : resolve(dirname(file), spec.dataset);
  if (existsSync(asPath)) return asPath;
  const asId = join(datasetsDir, spec.dataset);
  if (existsSync(asId)) return asId;
  throw new SweepFileError(
    file,
    'dataset',
    null,
    `no folder ${asPath} and no data set "${spec.dataset}" in ${datasetsDir}`,
  );
}

/**
 * A sweep's base run (initFrom: the paper presets' warm start) as an absolute folder: a path relative to the sweep
 * file (as `dataset` is), or a run id of the workspace. Left relative, every worker would resolve it against its own
 * working directory: refused NOT_VISIBLE at best, another folder of the same name at worst.
 */
export function sweepBaseRun(initFrom: string, file: string, runsDir: string): string {
  const isBase = (dir: string) => existsSync(join(dir, RUN_FILES.config)) && existsSync(join(dir, RUN_FILES.best));
  const asPath = isAbsolute(initFrom) ? initFrom : resolve(dirname(file), initFrom);
  if (isBase(asPath)) return asPath;
  const asId = join(runsDir, initFrom);
  if (!isAbsolute(initFrom) && isBase(asId)) return asId;
  throw new SweepFileError(
    file,
    'overrides.initFrom',
    null,
    `no base run at ${asPath}${isAbsolute(initFrom) ? '' : ` and no run "${initFrom}" in ${runsDir}`} (a base run holds ${RUN_FILES.config} and ${RUN_FILES.best}/)`,
  );
}

/** A sweep run's TrainConfig: the preset, the sweep's overrides with the cell's values, the seed; checked. */
export function sweepRunConfig(preset: string, overrides: Record<string, unknown>, seed: number): TrainConfig {
  const base = getPreset(preset);
  if (!base) throw new CoreError('BAD_INPUT', `unknown preset "${preset}"`, { field: 'presets' });
  const merged = mergeOverride(JSON.parse(JSON.stringify(base)) as Record<string, unknown>, overrides, 'overrides');
  return validateConfig({ ...(merged as unknown as TrainConfig), seed }, 'overrides');
}

export async function sweepMain(argv: readonly string[]): Promise<number> {
  let a;
  let file: string;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        workspace: { type: 'string' },
        redis: { type: 'string' },
        concurrency: { type: 'string' },
        'no-wait': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
    a = parsed.values;
    if (a.help) {
      console.log(SWEEP_HELP);
      return 0;
    }
    if (parsed.positionals.length !== 1) throw new Error('give one sweep file');
    file = resolve(parsed.positionals[0]);
    if (a['no-wait'] && !a.redis) throw new Error('--no-wait needs --redis (runs queued here train in this process)');
  } catch (err) {
    console.error(`aimkp sweep: ${(err as Error).message}\n\n${SWEEP_HELP}`);
    return 2;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let sup: Supervisor;
  let spec: SweepSpec;
  let configs: TrainConfig[];
  let dataDir: string;
  let expansion: ReturnType<typeof expandSweep>;
  try {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SweepFileError(file, null, null, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    spec = parseSweepSpec(text, file);
    expansion = expandSweep(spec);
    const workspace = resolve(a.workspace ?? process.env.AIMKP_WORKSPACE ?? '.');
    configs = expansion.runs.map((r) => {
      let c: TrainConfig;
      try {
        c = sweepRunConfig(r.preset, r.overrides, r.seed);
      } catch (err) {
        throw new SweepFileError(file, `run ${r.runId}`, null, (err as Error).message);
      }
      return c.initFrom ? { ...c, initFrom: sweepBaseRun(c.initFrom, file, join(workspace, 'runs')) } : c;
    });
    const concurrency = positiveInt(a.concurrency, '--concurrency', 1);
    const target = a.redis ? await checkedTarget(a.redis, log) : null;
    dataDir = datasetDir(spec, file, join(workspace, 'datasets'));
    sup = new Supervisor({
      workspace,
      concurrency,
      sharedWorkspace: target !== null,
      createQueue: target
        ? labQueueFactory({ target, takeJobs: false, settings: labSettingsFromEnv(), log: (l) => log(`lab: ${l}`) })
        : undefined,
    });
  } catch (err) {
    console.error(`aimkp sweep: ${(err as Error).message}`);
    return err instanceof RedisSetupError ? 2 : 1;
  }
  const jobs: { runId: string; job: JobRecord }[] = [];
  let skipped = 0;
  try {
    log(`sweep ${expansion.sweepId}: ${expansion.runs.length} runs in ${expansion.cells.length} cells`);
    expansion.runs.forEach((r, i) => {
      if (sup.registry.exists(r.runId)) {
        skipped++;
        log(`${r.runId}: exists, skipped`);
        return;
      }
      const job = sup.startTraining({
        runId: r.runId,
        dataDir,
        config: configs[i],
        maxSteps: spec.maxSteps,
        name: `${spec.name} ${r.ref.cell} s${r.seed}`,
        tags: spec.tags,
        sweep: r.ref,
      });
      jobs.push({ runId: r.runId, job });
    });
    log(`queued ${jobs.length}${skipped ? `, ${skipped} already there` : ''}`);
    if (a['no-wait']) return 0;
    let failed = 0;
    for (const { runId, job } of jobs) {
      const end = await sup.waitForJob(job.id);
      // A sweep with maxSteps ends its runs stopped at that step (resumable): that is its plan, not a failure.
      if (end.state === 'failed' || end.state === 'cancelled' || (end.state === 'stopped' && !spec.maxSteps)) failed++;
      log(`${runId}: ${end.state}${end.error ? ` (${end.error.code}: ${end.error.message})` : ''}`);
    }
    log(`sweep ${expansion.sweepId}: ${jobs.length - failed} completed, ${failed} not`);
    return failed === 0 ? 0 : 1;
  } catch (err) {
    console.error(`aimkp sweep: ${(err as Error).message}`);
    return 1;
  } finally {
    await sup.shutdown();
  }
}
