// Queue overhead per job and event latency: the in-process queue and hub (one machine, the default) against the lab
// queue (BullMQ on a private redis-server on loopback) and remote events through Redis streams. Empty jobs through a
// no-op runner on both sides, so the worker thread every real job starts is left out; the lab's worker runs in this
// process but every state change goes through Redis and back (QueueEvents), as a workbench sees a remote worker's.
// Run under /work/bin/heavy:  node --import tsx scripts/bench-lab-queue.ts [--quick]
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisEventMirror } from '../electron/queue/event-mirror';
import { LabJobQueue } from '../electron/queue/lab-queue';
import { preflight } from '../electron/queue/redis-preflight';
import { connectionOptions } from '../electron/queue/redis-target';
import { RemoteEventFeed } from '../electron/queue/remote-events';
import { EventHub } from '../electron/supervisor/event-hub';
import { z } from 'zod';
import { jobSpec, registerJobKind } from '../electron/supervisor/job-kinds';
import { InProcessJobQueue, type JobRunner, type ManagedJobQueue } from '../electron/supervisor/job-queue';
import { startRedis } from '../test/queue/redis-server';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const { values: a } = scriptArgs(fileURLToPath(import.meta.url), {
  options: { quick: { type: 'boolean', default: false } },
});
const now = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2) : NaN;
};
const summary = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => unknown, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: timed out`);
    await sleep(0.5);
  }
}

/** An empty job (never run: both queues get the no-op runner below); queued like an evaluation, no run. */
const NOOP_JOB = registerJobKind({
  name: 'bench-noop',
  params: z.strictObject({}),
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'evaluate',
  runOf: () => null,
  label: () => 'empty job (queue benchmark)',
  run: () => Promise.resolve({ state: 'completed' as const, result: null }),
});

const noop: JobRunner = {
  start: () => ({ stop: () => undefined, kill: () => undefined, done: Promise.resolve({ state: 'completed' }) }),
};

async function queueOverhead(q: ManagedJobQueue, n: number, burst: number) {
  const seen = new Map<string, { running?: number; done?: number }>();
  const off = q.onChange(({ job }) => {
    const s = seen.get(job.id) ?? {};
    if (job.state === 'running' && s.running === undefined) s.running = now();
    if (job.state === 'completed' && s.done === undefined) s.done = now();
    seen.set(job.id, s);
  });
  const toStart: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    const job = q.enqueue(jobSpec(NOOP_JOB, {}));
    await until('job done', () => seen.get(job.id)?.done, 30_000);
    const s = seen.get(job.id)!;
    toStart.push((s.running ?? s.done!) - t0);
    toDone.push(s.done! - t0);
  }
  const t0 = now();
  const ids = Array.from({ length: burst }, () => q.enqueue(jobSpec(NOOP_JOB, {})).id);
  await until('burst done', () => ids.every((id) => seen.get(id)?.done), 300_000);
  const ms = now() - t0;
  off();
  return {
    enqueueToRunningMs: summary(toStart),
    enqueueToCompletedMs: summary(toDone),
    burst: { jobs: burst, jobsPerSec: Math.round((burst / ms) * 1000) },
  };
}

/** Appends `count` progress events at `rate`/s to `file` (poking after each tick); the subscriber measures. */
async function eventLatency(
  file: string,
  count: number,
  rate: number,
  poke: () => void,
  subscribe: (onEvent: (sentAt: number) => void) => () => void,
) {
  const lat: number[] = [];
  let batches = 0;
  const off = subscribe((sentAt) => lat.push(now() - sentAt));
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const t0 = now();
  let sent = 0;
  while (sent < count) {
    const lines: string[] = [];
    for (let i = 0; i < perTick && sent < count; i++, sent++)
      lines.push(
        JSON.stringify({
          type: 'progress',
          time: new Date().toISOString(),
          run: 'bench',
          phase: 'encode',
          done: sent,
          total: count,
          unit: 'items',
          message: String(now()),
        }),
      );
    appendFileSync(file, lines.join('\n') + '\n');
    poke();
    batches++;
    const next = t0 + batches * tickMs;
    await sleep(Math.max(0, next - now()));
  }
  await until('all events delivered', () => lat.length >= count, 60_000);
  off();
  return summary(lat);
}

async function main(): Promise<void> {
  const quick = a.quick === true;
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-bench-lab-'));
  const redis = await startRedis({ dir: join(dir, 'redis'), password: 'bench-secret', appendfsync: 'always' });
  const out: Record<string, unknown> = { at: new Date().toISOString(), load1: +loadavg()[0].toFixed(2) };
  try {
    const n = quick ? 50 : 300;
    const burst = quick ? 100 : 1000;
    const local = new InProcessJobQueue({ runner: noop, concurrency: 1, file: null });
    local.start();
    out.inProcessQueue = await queueOverhead(local, n, burst);
    await local.shutdown(1000);

    const target = (await preflight(redis.url)).target;
    const runsDir = join(dir, 'runs');
    mkdirSync(runsDir, { recursive: true });
    const lab = new LabJobQueue(
      { target, takeJobs: true },
      {
        runner: noop,
        createRunner: () => noop,
        runsDir,
        concurrency: 1,
        file: join(dir, 'jobs.json'),
        onPrune: () => undefined,
        onLoadProblem: () => undefined,
      },
    );
    lab.start();
    await lab.ready;
    out.labQueue = await queueOverhead(lab, n, burst);
    await lab.shutdown(1000);

    // Events: the writer's file, tailed by an in-process hub; or mirrored into Redis and read by a hub whose own
    // copy of the file never arrives (another machine's events.jsonl over NFS), so every event comes through Redis.
    const rates: [number, number][] = quick
      ? [[200, 400]]
      : [
          [200, 2000],
          [2000, 20000],
        ];
    const events: Record<string, unknown> = {};
    for (const [rate, count] of rates) {
      const runDir = join(runsDir, `ev-${rate}`);
      mkdirSync(runDir, { recursive: true });
      const file = join(runDir, 'events.jsonl');
      const measure = (hub: EventHub) => (on: (sentAt: number) => void) =>
        hub.subscribe(`ev-${rate}`, (b) => {
          for (const e of b.events) if (e.event.type === 'progress') on(Number(e.event.message));
        });
      const localHub = new EventHub({ fileOf: () => file });
      const inProcess = await eventLatency(file, count, rate, () => localHub.poke(`ev-${rate}`), measure(localHub));
      rmSync(file);
      const writer = new Redis(connectionOptions(target, 'bench-writer'));
      const blocking = new Redis(connectionOptions(target, 'bench-read'));
      const cmd = new Redis(connectionOptions(target, 'bench-cmd'));
      const mirror = new RedisEventMirror(writer, { ns: 'aimkp', fileOf: () => file });
      const feed = new RemoteEventFeed(blocking, cmd, { ns: 'aimkp', isActive: () => true });
      const remoteHub: EventHub = new EventHub({
        fileOf: () => join(dir, 'not-here.jsonl'),
        sourceOf: (id, f) => feed.sourceFor(id, f, () => remoteHub.poke(id)),
      });
      const throughRedis = await eventLatency(file, count, rate, () => mirror.poke(`ev-${rate}`), measure(remoteHub));
      feed.close();
      for (const c of [writer, cmd]) c.disconnect();
      events[`${rate}/s`] = { count, inProcessMs: inProcess, throughRedisMs: throughRedis };
    }
    out.events = events;
    out.load1End = +loadavg()[0].toFixed(2);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out, null, 2));
  process.exit(0);
}

await main();
