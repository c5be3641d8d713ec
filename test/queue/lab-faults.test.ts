// The lab queue's fault paths, each with a real redis-server and real (tiny) trainings in worker threads:
//   - a job whose training thread dies every time (out of memory on its worker) is tried `attempts` (3) times, then
//     stays failed with its error (code + words) where the Runs view and `aimkp sweep` read it;
//   - a worker never takes a job whose base run (initFrom) it cannot see, nor one whose data set differs from the one
//     it was queued with (manifest fingerprint): after the refusals the job fails NOT_VISIBLE naming what is missing;
//   - SIGTERM of an `aimkp worker` mid-run hands its job back (no try used); another worker resumes the run from its
//     checkpoint.
// The workers of the first two are LabWorkers in this process (as `aimkp worker` builds them), each started for its
// test only, so no other worker takes its jobs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisEventMirror } from '../../electron/queue/event-mirror';
import { labQueueFactory, type LabJobQueue } from '../../electron/queue/lab-queue';
import { LAB_KEYS, labSettings } from '../../electron/queue/lab-settings';
import { LabWorker } from '../../electron/queue/lab-worker';
import { preflight } from '../../electron/queue/redis-preflight';
import { connectionOptions, type RedisTarget } from '../../electron/queue/redis-target';
import { Supervisor } from '../../electron/supervisor/supervisor';
import { WorkerJobRunner } from '../../electron/supervisor/worker-runner';
import { ensureWorkspace, readSettings } from '../../electron/supervisor/workspace';
import type { RunStartEvent } from '../../shared/training-events';
import {
  makeWorkspace,
  runEvents,
  streamEnded,
  streamRecords,
  tinyAimkp,
  waitFor,
  type TestWorkspace,
} from '../supervisor/fixtures';
import { startRedis, type RedisServer } from './redis-server';

const ROOT = join(import.meta.dirname, '..', '..');
// Short leases, quick retries and refusals: the whole file stays well under a minute.
const WORKER_SETTINGS = labSettings({
  lockDuration: 4000,
  stalledInterval: 2000,
  refuseDelayMs: 200,
  maxRefusals: 3,
  resyncMs: 2000,
});

let ws: TestWorkspace;
let redisDir: string;
let redis: RedisServer;
let target: RedisTarget;
let sup: Supervisor;

const queueOf = (s: Supervisor) => (s as unknown as { queue: LabJobQueue }).queue;
const stepsOf = (runId: string) => {
  try {
    return runEvents(ws.workspace, runId).filter((e) => e.type === 'step').length;
  } catch {
    return 0;
  }
};

/** `p`, or a rejection saying `what` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A worker as `aimkp worker` builds it, in this process; `heapMb` caps its training threads' heap. */
async function startLabWorker(name: string, heapMb?: number): Promise<{ stop(): Promise<void>; logs: string[] }> {
  const paths = ensureWorkspace(ws.workspace);
  const redisConn = new Redis(connectionOptions(target, `aimkp:mirror:${name}`));
  redisConn.on('error', () => undefined);
  const logs: string[] = [];
  const mirror = new RedisEventMirror(redisConn, {
    ns: LAB_KEYS.ns,
    fileOf: (id) => join(paths.runs, id, 'events.jsonl'),
    onError: () => undefined,
  });
  const runner = new WorkerJobRunner({
    paths,
    settings: () => readSettings(paths),
    onPoke: (runId) => mirror.poke(runId),
    maxOldGenerationSizeMb: heapMb,
  });
  const worker = new LabWorker({
    target,
    keys: LAB_KEYS,
    settings: WORKER_SETTINGS,
    runner,
    mirror,
    runsDir: paths.runs,
    concurrency: 1,
    name,
    log: (l) => logs.push(l),
  });
  await worker.start();
  return {
    logs,
    stop: async () => {
      await worker.shutdown(10_000);
      redisConn.disconnect();
    },
  };
}

before(async () => {
  ws = await makeWorkspace('lab-faults', 40);
  redisDir = mkdtempSync(join(tmpdir(), 'aimkp-lab-faults-redis-'));
  redis = await startRedis({ dir: redisDir, password: 'faults-secret' });
  target = (await preflight(redis.url)).target;
  // The workbench only queues and watches; the default 3 attempts, retried after 100 ms, 200 ms.
  sup = new Supervisor({
    workspace: ws.workspace,
    sharedWorkspace: true,
    shutdownTimeoutMs: 10_000,
    createQueue: labQueueFactory({
      target,
      takeJobs: false,
      settings: { lockDuration: 4000, stalledInterval: 2000, resyncMs: 2000, backoffMs: 100 },
    }),
  });
  await queueOf(sup).ready;
});

after(async () => {
  await sup?.shutdown();
  await redis?.stop();
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  ws?.cleanup();
});

test('a job that fails every try stops after 3 tries, failed, its error kept where the UI and `aimkp sweep` read it', async (t) => {
  const t0 = Date.now();
  // A worker whose training threads run out of memory at once (a machine too small for the job): WORKER_DIED, a
  // failure a retry may fix, so it is retried, but not forever.
  const w = await startLabWorker('tiny-heap', 2);
  try {
    const job = sup.startTraining({ runId: 'doomed', dataDir: ws.data, config: tinyAimkp(1) });
    // Retried forever, it would never end: give up well after 3 tries (≈ 2 s) would have ended it.
    const end = await within(sup.waitForJob(job.id), 20_000, 'the job still not finished after 20 s');
    assert.equal(end.state, 'failed');
    // What `aimkp sweep` prints: `${runId}: ${end.state} (${end.error.code}: ${end.error.message})`.
    assert.equal(end.error?.code, 'WORKER_DIED', JSON.stringify(end.error));
    assert.match(end.error?.message ?? '', /memory/i);
    assert.equal(queueOf(sup).get(job.id)?.attempts, 3, 'tried 3 times');
    // Nothing tries it again: still failed, still 3 tries, a while after the last back-off would have elapsed.
    await new Promise((r) => setTimeout(r, 1500));
    const bull = await queueOf(sup).queue.getJob(job.id);
    assert.equal(await bull!.getState(), 'failed');
    assert.equal(bull!.attemptsStarted, 3);
    assert.equal(bull!.attemptsMade, 3);
    assert.match(bull!.failedReason, /^\[WORKER_DIED\] /);
    // The run's job (the Runs view's) and the run's stream (the Run view follows it) end failed, with why. The run
    // has no config.json: its threads died before writing one.
    assert.equal(sup.lastJobOf('doomed')?.error?.code, 'WORKER_DIED');
    await waitFor(() => streamEnded(ws.workspace, 'doomed'), 5000, 20);
    const last = streamRecords(ws.workspace, 'doomed').at(-1);
    assert.ok(last?.type === 'job' && last.data.state === 'failed', JSON.stringify(last));
    assert.equal(last.data.error?.code, 'WORKER_DIED');
    t.diagnostic(`3 tries, failed for good, in ${Date.now() - t0} ms: [${end.error?.code}] ${end.error?.message}`);
  } finally {
    await w.stop();
  }
});

test('a worker refuses a job whose base run or data set it cannot see, saying which (NOT_VISIBLE)', async (t) => {
  const t0 = Date.now();
  // A paper preset's warm start from a base run that this worker cannot see (not mounted / deleted).
  const base = join(ws.root, 'base-runs', 'paper-base');
  const warm = sup.startTraining({ runId: 'warm', dataDir: ws.data, config: tinyAimkp(1, { initFrom: base }) });
  // A data set that, on the worker, differs from the one the job was queued with (same folder, other manifest).
  const other = join(ws.root, 'data-other');
  cpSync(ws.data, other, { recursive: true });
  const drift = sup.startTraining({ runId: 'drift', dataDir: other, config: tinyAimkp(1) });
  // Queued (the fingerprint is taken then) before the data set changes and before any worker runs.
  await waitFor(() => queueOf(sup).get(drift.id)?.state === 'queued', 5000, 20);
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(join(other, 'manifest.jsonl'), '\n');
  const w = await startLabWorker('picky');
  try {
    const [endWarm, endDrift] = await Promise.all([sup.waitForJob(warm.id), sup.waitForJob(drift.id)]);
    t.diagnostic(`both refused and failed in ${Date.now() - t0} ms`);
    assert.equal(endWarm.state, 'failed');
    assert.equal(endWarm.error?.code, 'NOT_VISIBLE');
    assert.match(endWarm.error?.message ?? '', /base run .*paper-base is not visible here/);
    assert.equal(endDrift.state, 'failed');
    assert.equal(endDrift.error?.code, 'NOT_VISIBLE');
    assert.ok(endDrift.error?.message.includes(`data set ${other} here differs from the one the job was queued with`));
    assert.match(endDrift.error?.message ?? '', /manifest fingerprint [0-9a-f]{16}, expected [0-9a-f]{16}/);
    // Never trained: no run-start in either run; the job's log says who refused it and why.
    for (const runId of ['warm', 'drift'])
      if (existsSync(join(ws.workspace, 'runs', runId, 'events.jsonl')))
        assert.equal(runEvents(ws.workspace, runId).filter((e) => e.type === 'run-start').length, 0, runId);
    const { logs } = await queueOf(sup).queue.getJobLogs(warm.id);
    assert.ok(
      logs.length >= 1 && logs.every((l) => /^picky cannot take it \(\d×\): base run /.test(l)),
      logs.join('\n'),
    );
  } finally {
    await w.stop();
  }
});

test('SIGTERM of a worker mid-run hands its job back; another worker resumes the run from its checkpoint', async (t) => {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'aimkp.mjs'), 'worker', '--redis', redis.url, '--workspace', ws.workspace, '--name', 'leaving'],
    {
      env: { ...process.env, AIMKP_LAB_LOCK_MS: '4000', AIMKP_LAB_STALLED_MS: '2000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: string[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  let next: Awaited<ReturnType<typeof startLabWorker>> | null = null;
  try {
    await waitFor(() => out.join('').includes('ready:'), 30_000, 50);
    const job = sup.startTraining({ runId: 'handed', dataDir: ws.data, config: tinyAimkp(2) });
    // After its first checkpoint (every 3 steps).
    await waitFor(() => stepsOf('handed') >= 4, 30_000, 5);
    const t0 = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.join(''));
    assert.match(out.join(''), /SIGTERM: handing running jobs back/);
    const stoppedAt = stepsOf('handed');
    // Back in the queue, not failed, no try used up.
    await waitFor(() => queueOf(sup).get(job.id)?.state === 'queued', 5000, 20);
    next = await startLabWorker('staying');
    const end = await sup.waitForJob(job.id);
    assert.equal(end.state, 'completed', JSON.stringify(end.error));
    const rec = queueOf(sup).get(job.id)!;
    assert.equal(rec.worker, 'staying');
    assert.equal(rec.stalls, 0, 'handed back, not stalled');
    const events = runEvents(ws.workspace, 'handed');
    const starts = events.filter((e): e is RunStartEvent => e.type === 'run-start');
    assert.equal(starts.length, 2);
    assert.equal(starts[1].resumed, true);
    assert.ok(starts[1].startStep > 0 && starts[1].startStep <= stoppedAt, `resumed from step ${starts[1].startStep}`);
    assert.equal(events.filter((e) => e.type === 'run-end' && e.status === 'completed').length, 1);
    t.diagnostic(
      `SIGTERM after step ${stoppedAt}; resumed from step ${starts[1].startStep}, done ${Date.now() - t0} ms later`,
    );
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await next?.stop();
  }
});
