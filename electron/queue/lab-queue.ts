// The lab queue: ManagedJobQueue over BullMQ on Redis, what SupervisorOptions.createQueue returns when a Redis URL is
// configured (Settings or --redis). Several workbenches and `aimkp worker` processes on several machines share it;
// the workspace is a folder they all mount.
//
// The interface is synchronous (enqueue returns the record, get/list read it), BullMQ is not: the queue keeps a
// mirror of the jobs (id → JobRecord) that BullMQ's own event stream (QueueEvents) keeps current, plus a resync at
// start and every `resyncMs`. Redis is the only store of lab jobs (jobs.json is not used).
//   enqueue → the record at once (queued; our UUID is BullMQ's jobId); Queue.add in the background (buffered while
//             Redis is down); one queued-or-running job per run across the lab (BullMQ deduplication).
//   cancel  → queued: Queue.remove + a tombstone every workbench lists as cancelled; running: a stop request.
//   kill    → a kill request (the worker ends the run at once; the job fails WORKER_KILLED, no retry).
//   start / setConcurrency / runningIds / shutdown → the local LabWorker, when this workbench also takes jobs.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunLease } from '../../models/index';
import { isFinishedJobState } from '../../shared/vocabulary';
import { checkJobSpec, runOfSpec } from '../supervisor/job-kinds';
import type { JobListener, LabQueueHooks, ManagedJobQueue, QueueFactoryOptions } from '../supervisor/job-queue';
import type { JobRecord, JobSpec, JobState } from '../supervisor/jobs';
import type { RunEventLog } from '../supervisor/run-event-log';
import { RedisEventMirror } from './event-mirror';
import { toRecord, type LabJobData } from './job-mapping';
import { LabWorker } from './lab-worker';
import { LAB_KEYS, labSettings, queueKeyOf, type LabKeys, type LabSettings } from './lab-settings';
import { RemoteEventFeed } from './remote-events';
import { connectionOptions, type RedisTarget } from './redis-target';
import { requirementsOf } from './requirements';
import { StopChannel } from './stop-channel';

export interface LabQueueOptions {
  /** Checked by preflight() first (the supervisor's constructor is synchronous). */
  target: RedisTarget;
  keys?: LabKeys;
  settings?: Partial<LabSettings>;
  /** This workbench also runs jobs (with the factory's concurrency); false: it only queues and watches. */
  takeJobs: boolean;
  name?: string;
  log?: (line: string) => void;
}

const BULL_STATES = ['active', 'waiting', 'prioritized', 'delayed', 'waiting-children', 'completed', 'failed'] as const;

/** SupervisorOptions.createQueue for a lab: `createQueue: labQueueFactory({ target, takeJobs })`. */
export function labQueueFactory(o: LabQueueOptions): (f: QueueFactoryOptions) => LabJobQueue {
  return (f) => new LabJobQueue(o, f);
}

export class LabJobQueue implements ManagedJobQueue {
  readonly queue: Queue;
  readonly name: string;
  readonly settings: LabSettings;
  readonly keys: LabKeys;
  readonly lab: LabQueueHooks;
  /** Resolves once the mirror is loaded (and the local worker, if any, takes jobs). */
  ready: Promise<void> = Promise.resolve();
  private readonly jobs = new Map<string, JobRecord>();
  private readonly listeners = new Set<JobListener>();
  private readonly cmd: Redis;
  private readonly stops: StopChannel;
  private readonly feed: RemoteEventFeed;
  private readonly refreshing = new Map<string, Promise<void>>();
  /** Records that never reached Redis (refused as duplicates, or the add failed): only this process lists them. */
  private readonly localOnly = new Set<string>();
  private events: QueueEvents | null = null;
  private worker: LabWorker | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly o: LabQueueOptions,
    private readonly f: QueueFactoryOptions,
  ) {
    this.keys = o.keys ?? LAB_KEYS;
    this.settings = labSettings(o.settings);
    this.name = o.name ?? `${hostname()}:${process.pid}`;
    this.log = o.log ?? (() => undefined);
    this.queue = new Queue(this.keys.queue, {
      connection: connectionOptions(o.target, `aimkp:queue:${this.name}`),
      prefix: this.keys.prefix,
    });
    this.queue.on('error', (err) => this.log(`lab queue: ${err.message}`));
    this.cmd = new Redis(connectionOptions(o.target, `aimkp:cmd:${this.name}`));
    this.cmd.on('error', () => undefined);
    this.stops = new StopChannel(this.cmd, null, this.keys.ns);
    const blocking = new Redis(connectionOptions(o.target, `aimkp:events-read:${this.name}`));
    blocking.on('error', () => undefined);
    this.feed = new RemoteEventFeed(blocking, this.cmd, {
      ns: this.keys.ns,
      isActive: (runId) => this.activeRuns().has(runId),
      onError: (err) => this.log(`remote events: ${err.message}`),
    });
    this.lab = {
      leaseAlive: (lease) => this.leaseAlive(lease),
      eventSource: (streamId: string, file: RunEventLog, poke: () => void) => this.feed.sourceFor(streamId, file, poke),
    };
  }

  // ---- JobQueue ---------------------------------------------------------------------------------------------

  enqueue(raw: JobSpec): JobRecord {
    const spec = checkJobSpec(raw, 'job');
    const id = randomUUID();
    const record: JobRecord = {
      id,
      spec,
      state: 'queued',
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      error: null,
      progress: null,
      result: null,
      worker: null,
      attempts: 0,
      stalls: 0,
    };
    this.jobs.set(id, record);
    this.emit(record, null);
    const s = this.settings;
    const data: LabJobData = { v: 1, spec, requires: requirementsOf(spec, this.f.runsDir), by: this.name };
    const runId = runOfSpec(spec);
    this.queue
      .add(spec.kind, data, {
        jobId: id,
        attempts: s.attempts,
        backoff: { type: 'exponential', delay: s.backoffMs },
        removeOnComplete: { count: s.keepFinished, age: s.keepFinishedAgeS },
        removeOnFail: { count: s.keepFinished, age: s.keepFinishedAgeS },
        // One queued-or-running job per run across the lab (the run lock guards the folder itself).
        ...(runId ? { deduplication: { id: `run:${runId}` } } : {}),
      })
      .then((job) => {
        // BullMQ answers a duplicate with the existing job, silently.
        if (job.id !== id) {
          this.localOnly.add(id);
          this.update({
            ...record,
            state: 'cancelled',
            endedAt: new Date().toISOString(),
            error: { code: 'RUN_QUEUED', message: `run ${runId} is already queued or running (job ${job.id})` },
          });
        }
      })
      .catch((err: Error) => {
        this.localOnly.add(id);
        this.update({
          ...record,
          state: 'failed',
          endedAt: new Date().toISOString(),
          error: { code: 'REDIS_UNAVAILABLE', message: `could not queue the job: ${err.message}` },
        });
      });
    return record;
  }

  cancel(id: string): boolean {
    const r = this.jobs.get(id);
    if (!r) return false;
    if (r.state === 'queued') {
      void this.cancelQueued(r).catch((err: Error) => this.log(`cancel ${id}: ${err.message}`));
      return true;
    }
    if (r.state === 'running') {
      void this.stops
        .request(id, 'stop', 'stopped by request')
        .catch((err: Error) => this.log(`stop ${id}: ${err.message}`));
      return true;
    }
    return false;
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list(): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  onChange(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- ManagedJobQueue --------------------------------------------------------------------------------------

  start(): void {
    this.ready = this.init();
    this.ready.catch((err: Error) => this.log(`lab queue start: ${err.message}`));
  }

  setConcurrency(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`concurrency: expected an integer ≥ 1, got ${n}`);
    if (this.worker) this.worker.concurrency = n;
  }

  kill(id: string, reason: string): boolean {
    const r = this.jobs.get(id);
    if (!r || r.state !== 'running') return false;
    if (this.worker?.kill(id, reason)) return true;
    void this.stops.request(id, 'kill', reason).catch((err: Error) => this.log(`kill ${id}: ${err.message}`));
    return true;
  }

  /** The jobs this process runs (a workspace switch waits for them); jobs on other machines are not ours. */
  runningIds(): string[] {
    return this.worker?.runningIds() ?? [];
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.ready.catch(() => undefined);
    await this.worker?.shutdown(timeoutMs);
    this.feed.close();
    await this.events?.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    this.cmd.disconnect();
  }

  // ---- lab hooks --------------------------------------------------------------------------------------------

  /** A run lock held under a lease of this lab: alive while its job runs (the mirror's view), null when unknown. */
  private leaseAlive(lease: RunLease): boolean | null {
    if (lease.queueKey !== queueKeyOf(this.keys)) return null;
    const r = this.jobs.get(lease.jobId);
    if (!r) return null;
    return r.state === 'running';
  }

  private activeRuns(): Set<string> {
    const out = new Set<string>();
    for (const r of this.jobs.values())
      if (r.state === 'queued' || r.state === 'running') {
        const runId = runOfSpec(r.spec);
        if (runId) out.add(runId);
      }
    return out;
  }

  // ---- mirror -----------------------------------------------------------------------------------------------

  private async init(): Promise<void> {
    const events = new QueueEvents(this.keys.queue, {
      connection: connectionOptions(this.o.target, `aimkp:events:${this.name}`),
      prefix: this.keys.prefix,
    });
    this.events = events;
    events.on('error', (err) => this.log(`lab queue events: ${err.message}`));
    for (const ev of [
      'added',
      'waiting',
      'active',
      'completed',
      'failed',
      'removed',
      'stalled',
      'delayed',
      'retries-exhausted',
    ] as const)
      events.on(ev, ({ jobId }: { jobId: string }) => this.refresh(jobId));
    events.on('progress', ({ jobId, data }: { jobId: string; data: unknown }) => {
      const r = this.jobs.get(jobId);
      if (!r || typeof data !== 'object' || data === null) return this.refresh(jobId);
      this.update({ ...r, progress: data as JobRecord['progress'] });
    });
    await events.waitUntilReady();
    await this.resync();
    if (this.o.takeJobs) {
      const mirror = new RedisEventMirror(this.cmd, {
        ns: this.keys.ns,
        fileOf: (runId) => join(this.f.runsDir, runId, 'events.jsonl'),
        onError: (runId, err) => this.log(`events of ${runId} to Redis: ${err.message}`),
      });
      this.worker = new LabWorker({
        target: this.o.target,
        keys: this.keys,
        settings: this.settings,
        runner: this.f.createRunner((runId) => mirror.poke(runId)),
        mirror,
        runsDir: this.f.runsDir,
        concurrency: this.f.concurrency,
        name: this.name,
        log: this.log,
      });
      await this.worker.start();
    }
    this.resyncTimer = setInterval(() => void this.resync().catch(() => undefined), this.settings.resyncMs);
    this.resyncTimer.unref();
  }

  /**
   * Rebuilds the mirror from Redis (jobs of every state, and the tombstones of cancelled ones). Live jobs (few) are
   * read whole, finished ones by id (getRanges) and read only when the mirror does not have them finished already:
   * reading thousands of kept jobs every time blocked the event loop (REPORT pitfall 15).
   */
  async resync(): Promise<void> {
    const seen = new Set<string>();
    for (const state of BULL_STATES) {
      const finished = state === 'completed' || state === 'failed';
      let jobs: (Job | undefined)[];
      if (!finished) jobs = await this.queue.getJobs([state], 0, -1);
      else {
        const ids = await this.queue.getRanges([state], 0, -1);
        const want = ids.filter((id) => {
          seen.add(id);
          const r = this.jobs.get(id);
          return !r || !isFinishedJobState(r.state);
        });
        jobs = await Promise.all(want.map((id) => this.queue.getJob(id)));
      }
      for (const job of jobs) {
        if (!job?.id) continue;
        seen.add(job.id);
        this.updateFromJob(job, state);
      }
    }
    const tombs = await this.cmd.hgetall(this.tombstones);
    for (const [id, json] of Object.entries(tombs)) {
      seen.add(id);
      if (this.jobs.get(id)?.state !== 'cancelled') this.update(JSON.parse(json) as JobRecord);
    }
    // Dropped by retention: forget, unless just enqueued here (its add may still be on the way).
    for (const [id, r] of this.jobs)
      if (
        !seen.has(id) &&
        !this.localOnly.has(id) &&
        !(r.state === 'queued' && Date.now() - Date.parse(r.createdAt) < 60_000)
      )
        this.jobs.delete(id);
  }

  private get tombstones(): string {
    return `${this.keys.ns}:cancelled:${this.keys.queue}`;
  }

  private updateFromJob(job: Job, state: string): void {
    try {
      this.update(toRecord(job, state));
    } catch (err) {
      // Another workbench's newer job kind, or damaged data: left out, said once per refresh.
      this.log(`lab job ${job.id}: left out: ${(err as Error).message}`);
    }
  }

  /** Re-reads one job (serialised per job, so a slow read cannot overwrite a newer one). */
  private refresh(id: string): void {
    if (this.closed) return;
    const prev = this.refreshing.get(id) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const job = await this.queue.getJob(id);
        if (!job) {
          const tomb = await this.cmd.hget(this.tombstones, id);
          if (tomb) this.update(JSON.parse(tomb) as JobRecord);
          return;
        }
        const state = await job.getState();
        if (state === 'unknown') return;
        this.updateFromJob(job, state);
      })
      .catch((err: Error) => this.log(`refresh ${id}: ${err.message}`));
    this.refreshing.set(id, next);
    void next.finally(() => {
      if (this.refreshing.get(id) === next) this.refreshing.delete(id);
    });
  }

  private async cancelQueued(r: JobRecord): Promise<void> {
    const removed = await this.queue.remove(r.id);
    if (removed === 1) {
      const tomb: JobRecord = { ...r, state: 'cancelled', endedAt: new Date().toISOString(), progress: null };
      await this.cmd.hset(this.tombstones, r.id, JSON.stringify(tomb));
      this.update(tomb);
    } else {
      // Locked: a worker took it a moment ago. Stop it there (it ends cancelled if it had not begun).
      await this.stops.request(r.id, 'stop', 'cancelled by request');
    }
  }

  private update(next: JobRecord): void {
    const cur = this.jobs.get(next.id);
    if (cur && JSON.stringify(cur) === JSON.stringify(next)) return;
    const previous: JobState | null = cur?.state ?? null;
    // Keep the object the caller got from enqueue() current (the in-process queue mutates its records too).
    const record = cur ? Object.assign(cur, next) : next;
    this.jobs.set(next.id, record);
    if (previous !== record.state) this.feed.wake();
    this.emit(record, previous);
  }

  private emit(job: JobRecord, previous: JobState | null): void {
    for (const l of this.listeners) {
      try {
        l({ job, previous });
      } catch {
        /* a listener's failure must not stop the queue */
      }
    }
  }
}
