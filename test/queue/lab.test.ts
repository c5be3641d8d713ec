// The lab queue for real: a private redis-server on loopback (AOF, appendfsync always, a password), three
// `aimkp worker` processes on one shared workspace, and a workbench (a Supervisor on the LabJobQueue) that queues
// tiny real trainings (the supervisor tests' tiny AimKP). Short leases (4 s / 2 s) keep the takeover quick.
//   - a 6-run sweep completes with every run trained exactly once, spread over the workers; the run lock names the
//     worker's host and its lease; the remote runs' events reach a subscribed workbench client in order, no gap;
//   - kill -9 of the worker training a run: another worker resumes it from its last checkpoint and the final
//     weights, optimizer state and best weights are byte-identical to an uninterrupted run's;
//   - redis-server killed (-9) and restarted mid-sweep: no job lost, none run twice; a job taken again after its
//     run completed records its end from the run (what such a restart can cause), training nothing twice;
//   - stop from the workbench reaches the remote worker within one step; a job whose data set no worker sees
//     fails NOT_VISIBLE with why; a wrong password is one clear line; an unauthenticated Redis off loopback refused.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Job } from 'bullmq';
import { labQueueFactory, type LabJobQueue } from '../../electron/queue/lab-queue';
import { preflight } from '../../electron/queue/redis-preflight';
import { parseRedisUrl } from '../../electron/queue/redis-target';
import type { JobRecord } from '../../electron/supervisor/jobs';
import { Supervisor } from '../../electron/supervisor/supervisor';
import { expandSweep } from '../../shared/sweep';
import type { RunStartEvent } from '../../shared/training-events';
import { makeWorkspace, runEvents, tinyAimkp, waitFor, type TestWorkspace } from '../supervisor/fixtures';
import { startRedis, type RedisServer } from './redis-server';

const ROOT = join(import.meta.dirname, '..', '..');
const LEASE = {
  AIMKP_LAB_LOCK_MS: '4000',
  AIMKP_LAB_STALLED_MS: '2000',
  AIMKP_LAB_REFUSALS: '3',
  AIMKP_LAB_REFUSE_MS: '300',
};
const PASSWORD = 'lab-test-secret';

let ws: TestWorkspace;
let redisDir: string;
let redis: RedisServer;
let sup: Supervisor;
const workers = new Map<string, { child: ChildProcess; out: string[] }>();

function startWorker(name: string): void {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'aimkp.mjs'), 'worker', '--redis', redis.url, '--workspace', ws.workspace, '--name', name],
    { env: { ...process.env, ...LEASE }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out: string[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  workers.set(name, { child, out });
}

const queueOf = (s: Supervisor) => (s as unknown as { queue: LabJobQueue }).queue;
const stepsOf = (runId: string) => {
  try {
    return runEvents(ws.workspace, runId).filter((e) => e.type === 'step').length;
  } catch {
    return 0;
  }
};

before(async () => {
  ws = await makeWorkspace('lab', 40);
  redisDir = mkdtempSync(join(tmpdir(), 'aimkp-lab-redis-'));
  redis = await startRedis({ dir: redisDir, password: PASSWORD, appendfsync: 'always' });
  const pf = await preflight(redis.url);
  sup = new Supervisor({
    workspace: ws.workspace,
    sharedWorkspace: true,
    shutdownTimeoutMs: 20_000,
    createQueue: labQueueFactory({
      target: pf.target,
      takeJobs: false,
      settings: { lockDuration: 4000, stalledInterval: 2000, resyncMs: 2000 },
    }),
  });
  await queueOf(sup).ready;
  for (const n of ['w1', 'w2', 'w3']) startWorker(n);
  await waitFor(() => [...workers.values()].every((w) => w.out.join('').includes('ready:')), 60_000, 50);
});

after(async () => {
  await sup?.shutdown();
  await Promise.all(
    [...workers.values()].map(
      ({ child }) =>
        new Promise<void>((r) => {
          if (child.exitCode !== null || child.signalCode !== null) return r();
          child.once('exit', () => r());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
        }),
    ),
  );
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
  ws?.cleanup();
});

test('a 6-run sweep on 3 worker processes: every run exactly once; events reach a subscribed client in order', async (t) => {
  const sweep = expandSweep({
    name: 'lab',
    dataset: ws.data,
    presets: ['aimkp'],
    seeds: [1, 2, 3],
    grid: { 'aimkp.tauText': [0.5, 0.25] },
    overrides: {},
  });
  assert.equal(sweep.runs.length, 6);
  // A client subscribed to every stream, from the start.
  const seen = new Map<string, number[]>();
  const off = sup.subscribe('*', (b) => {
    for (const e of b.events) {
      if (!e.runId.startsWith('lab-')) continue;
      const list = seen.get(e.runId) ?? [];
      list.push(e.seq);
      seen.set(e.runId, list);
    }
  });
  const t0 = Date.now();
  const jobs: JobRecord[] = sweep.runs.map((r) => {
    const c = tinyAimkp(2, { seed: r.seed });
    c.aimkp!.tauText = (r.overrides.aimkp as { tauText: number }).tauText;
    return sup.startTraining({ runId: r.runId, dataDir: ws.data, config: c, sweep: r.ref });
  });
  const ends = await Promise.all(jobs.map((j) => sup.waitForJob(j.id)));
  t.diagnostic(`6 runs on 3 workers: ${Date.now() - t0} ms`);
  for (const end of ends) assert.equal(end.state, 'completed', JSON.stringify(end.error));
  const byWorker = new Map<string, number>();
  for (const [i, r] of sweep.runs.entries()) {
    const events = runEvents(ws.workspace, r.runId);
    assert.equal(events.filter((e) => e.type === 'run-start').length, 1, `${r.runId}: one run-start`);
    assert.equal(events.filter((e) => e.type === 'run-end').length, 1, `${r.runId}: one run-end`);
    assert.equal(events.filter((e) => e.type === 'step').length, 16, `${r.runId}: 16 steps`);
    const job = sup.getRun(r.runId);
    assert.equal(job.status, 'completed');
    const rec = queueOf(sup).get(ends[i].id)!;
    assert.equal(rec.attempts, 1, `${r.runId}: started once`);
    byWorker.set(rec.worker ?? '?', (byWorker.get(rec.worker ?? '?') ?? 0) + 1);
    const meta = JSON.parse(readFileSync(join(ws.workspace, 'runs', r.runId, 'run-meta.json'), 'utf8')) as {
      sweep: { id: string };
      job: string;
    };
    assert.equal(meta.sweep.id, sweep.sweepId);
    assert.equal(meta.job, ends[i].id);
  }
  t.diagnostic(`runs per worker: ${JSON.stringify(Object.fromEntries(byWorker))}`);
  assert.ok(byWorker.size >= 2, 'the runs were spread over the workers');
  // Every event of every run reached the client, in order, none twice, no gap.
  await waitFor(
    () => sweep.runs.every((r) => (seen.get(r.runId)?.length ?? 0) >= runEvents(ws.workspace, r.runId).length),
    20_000,
    50,
  );
  off();
  // A client that reconnects with its last seq gets what it missed, in order, from there on.
  // (The stream holds the run's events and the supervisor's job-state lines: its last seq is what the live client saw.)
  const first = sweep.runs[0].runId;
  const total = seen.get(first)!.at(-1)!;
  const caught: number[] = [];
  const offAgain = sup.subscribe(first, (b) => caught.push(...b.events.map((e) => e.seq)), 5);
  await waitFor(() => caught.length >= total - 5, 10_000, 20);
  offAgain();
  assert.deepEqual(
    caught,
    Array.from({ length: total - 5 }, (_, i) => i + 6),
  );
  for (const r of sweep.runs) {
    const seqs = seen.get(r.runId)!;
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `${r.runId}: seqs 1..n in order`,
    );
  }
});

test('kill -9 of the worker mid-run: another worker resumes it; final state byte-identical to an uninterrupted run', async (t) => {
  const ref = sup.startTraining({ runId: 'ref', dataDir: ws.data, config: tinyAimkp(4) });
  const victim = sup.startTraining({ runId: 'victim', dataDir: ws.data, config: tinyAimkp(4) });
  const lockFile = join(ws.workspace, 'runs', 'victim', 'run.lock');
  // After its first checkpoint (every 3 steps), mid-run.
  await waitFor(() => stepsOf('victim') >= 5 && existsSync(lockFile), 120_000, 5);
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; host: string; lease?: { jobId: string } };
  assert.equal(lock.host, hostname(), 'the run lock names the host');
  assert.equal(lock.lease?.jobId, victim.id, 'and the queue job it is held under');
  const holder = [...workers.entries()].find(([, w]) => w.child.pid === lock.pid);
  assert.ok(holder, `the lock's pid ${lock.pid} is one of the workers`);
  const atKill = stepsOf('victim');
  const killedAt = Date.now();
  holder[1].child.kill('SIGKILL');
  const end = await sup.waitForJob(victim.id);
  assert.equal(end.state, 'completed', JSON.stringify(end.error));
  assert.equal((await sup.waitForJob(ref.id)).state, 'completed');
  const rec = queueOf(sup).get(victim.id)!;
  assert.notEqual(rec.worker, holder[0], 'finished by another worker');
  assert.equal(rec.stalls, 1);
  const events = runEvents(ws.workspace, 'victim');
  const resumeStart = events.filter((e): e is RunStartEvent => e.type === 'run-start').at(-1)!;
  assert.equal(resumeStart.resumed, true, 'the last run-start is a resume');
  assert.ok(resumeStart.startStep > 0 && resumeStart.startStep <= atKill, 'from a checkpoint before the kill');
  const firstAfter = events.find((e) => e.type === 'step' && Date.parse(e.time) > killedAt);
  t.diagnostic(
    `killed ${holder[0]} at step ${atKill}; ${rec.worker} resumed from step ${resumeStart.startStep} (resumed: ${resumeStart.resumed}) ${firstAfter ? Date.parse(firstAfter.time) - killedAt : '?'} ms after the kill`,
  );
  for (const f of [
    join('checkpoints', 'last', 'weights.bin'),
    join('checkpoints', 'last', 'optimizer.bin'),
    join('best', 'weights.bin'),
  ]) {
    const a = readFileSync(join(ws.workspace, 'runs', 'victim', f));
    const b = readFileSync(join(ws.workspace, 'runs', 'ref', f));
    assert.ok(a.equals(b), `victim/${f} equals ref/${f}`);
  }
  startWorker(holder[0]); // back to three for the next tests
  await waitFor(() => workers.get(holder[0])!.out.join('').includes('ready:'), 60_000, 50);
});

test('redis-server killed (-9) and restarted mid-sweep: nothing lost, nothing run twice', async (t) => {
  const ids = ['rs-1', 'rs-2', 'rs-3', 'rs-4'];
  const jobs = ids.map((runId, i) => sup.startTraining({ runId, dataDir: ws.data, config: tinyAimkp(3, { seed: i }) }));
  await waitFor(() => ids.filter((id) => stepsOf(id) >= 2).length >= 2, 120_000, 5);
  await redis.kill9();
  const down = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  await redis.start();
  t.diagnostic(`redis-server was down ${Date.now() - down} ms`);
  const ends = await Promise.all(jobs.map((j) => sup.waitForJob(j.id)));
  for (const [i, e] of ends.entries()) {
    assert.equal(e.state, 'completed', `${ids[i]}: ${JSON.stringify(e.error)}`);
    const events = runEvents(ws.workspace, ids[i]);
    assert.equal(events.filter((x) => x.type === 'run-end' && x.status === 'completed').length, 1, `${ids[i]} once`);
  }
});

test('a job taken again after its run completed records its end from the run: nothing trained or logged twice', async (t) => {
  // What Redis going away at the wrong moment does (the run's end written, the job's not; the lease then runs out
  // and the job is taken again), made exact: a completed job sent back to the queue.
  const job = sup.startTraining({ runId: 'again', dataDir: ws.data, config: tinyAimkp(1) });
  const first = await sup.waitForJob(job.id);
  assert.equal(first.state, 'completed', JSON.stringify(first.error));
  const eventsFile = join(ws.workspace, 'runs', 'again', 'events.jsonl');
  const weightsFile = join(ws.workspace, 'runs', 'again', 'checkpoints', 'last', 'weights.bin');
  const [events0, weights0] = [readFileSync(eventsFile), readFileSync(weightsFile)];
  const bull = queueOf(sup).queue;
  const before = (await Job.fromId(bull, job.id))!;
  const [firstResult, firstStarts] = [before.returnvalue as unknown, before.attemptsStarted];
  await before.retry('completed'); // (clears the Job object's returnvalue)
  let after: Job | undefined;
  for (const until = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 50))) {
    after = await Job.fromId(bull, job.id);
    if (after?.finishedOn && after.attemptsStarted > firstStarts) break;
    assert.ok(Date.now() < until, 'the job sent back was not taken again within 60 s');
  }
  assert.equal(await bull.getJobState(job.id), 'completed');
  assert.deepEqual(after!.returnvalue, firstResult, 'the same result as the first time');
  // Only the supervisor's job-state lines (type "job": running, completed, written as it hears of them) may be
  // added: no training event (a resumed run logs a run-start, progress and a second run-end).
  const added = readFileSync(eventsFile)
    .subarray(events0.length)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string });
  assert.deepEqual(
    added.map((e) => e.type).filter((type) => type !== 'job'),
    [],
    'no training event added to the run',
  );
  assert.ok(readFileSync(weightsFile).equals(weights0), 'no weight written');
  // The worker says so (its output may reach this process a moment after the job's end).
  const line = new RegExp(`job ${job.id}: run again already completed at step \\d+; recording the job's end only`);
  await waitFor(() => [...workers.values()].some((w) => line.test(w.out.join(''))), 10_000, 20);
  t.diagnostic(`taken ${after!.attemptsStarted} times; result ${JSON.stringify(after!.returnvalue)}`);
});

test('stop from the workbench reaches the remote worker within one step, with a checkpoint', async (t) => {
  const job = sup.startTraining({ runId: 'stop-me', dataDir: ws.data, config: tinyAimkp(6) });
  await waitFor(() => stepsOf('stop-me') >= 3, 120_000, 5);
  const at = stepsOf('stop-me');
  const t0 = Date.now();
  sup.stop('stop-me');
  const end = await sup.waitForJob(job.id);
  assert.equal(end.state, 'stopped', JSON.stringify(end.error));
  const runEnd = runEvents(ws.workspace, 'stop-me')
    .filter((e) => e.type === 'run-end')
    .at(-1);
  assert.ok(runEnd && runEnd.type === 'run-end' && runEnd.status === 'stopped');
  t.diagnostic(
    `stop requested after step ${at}; stopped at step ${runEnd.step} (${runEnd.step - at} more), ${Date.parse(runEnd.time) - t0} ms after the request`,
  );
  assert.ok(runEnd.step - at <= 1, `stopped ${runEnd.step - at} steps after the request`);
});

test('a job whose data set no worker can see fails NOT_VISIBLE, saying why', async () => {
  const job = sup.startTraining({ runId: 'blind', dataDir: join(ws.root, 'nowhere'), config: tinyAimkp(1) });
  const end = await sup.waitForJob(job.id);
  assert.equal(end.state, 'failed');
  assert.equal(end.error?.code, 'NOT_VISIBLE');
  assert.match(end.error?.message ?? '', /data set .*nowhere is not visible here/);
});

test('a wrong password is one clear line (exit 2); an unauthenticated Redis off loopback is refused', async () => {
  const bad = redis.url.replace(PASSWORD, 'not-the-password');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'aimkp.mjs'), 'worker', '--redis', bad, '--workspace', ws.workspace],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 2);
  const lines = err.trim().split('\n');
  assert.equal(lines.length, 1, err);
  assert.match(
    lines[0],
    /^aimkp worker: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the password \(WRONGPASS\)/,
  );
  assert.ok(!err.includes('not-the-password'), 'the password is never printed');
  await assert.rejects(
    preflight('redis://192.0.2.7:6379'),
    /refusing Redis at redis:\/\/192\.0\.2\.7:6379 without a password/,
  );
  assert.equal(parseRedisUrl('redis://u:secret@10.0.0.2:6380').display, 'redis://u:***@10.0.0.2:6380');
});
