// The consumer of the lab queue: BullMQ Workers that run each job they take through the supervisor's JobRunner
// (a worker thread per job, as in the workbench), under the job's Redis lease. `aimkp worker` runs one headless; a
// workbench that also takes jobs runs one beside its queue. Per job:
//   1. a stop or kill asked for while it waited ends it before anything runs;
//   2. what it needs (data set, base run, run folder) must be visible here, else it goes back (delayed) with the
//      reason in the job's log; after `maxRefusals` refusals in all it fails NOT_VISIBLE with every reason;
//   3. the run's lock is taken under the lease (a lock of a dead worker's lease is taken over), a train job that
//      finds its own run started (this job's id in run-meta.json) resumes it from the last checkpoint;
//   4. the run trains in a worker thread; the lease's renewals reach the thread, which writes nothing into the run
//      once the last renewal is older than 3/4 of the lock time; stop / kill requests from any workbench reach it;
//   5. its events go to Redis (event-mirror.ts), drained before the job's end is recorded;
//   6. on shutdown (SIGTERM, quitting the app) running jobs stop at a step boundary with a checkpoint and go back to
//      the queue (no try used): another worker resumes them at once.
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { RUN_FILES, writeFileAtomicSync, type RunLease, type RunLock } from '../../models/index';
import type { ErrorEvent } from '../../shared/training-events';
import { isJobOf, jobSpec, kindOfSpec, RESUME_JOB, runOfSpec, TRAIN_JOB } from '../supervisor/job-kinds';
import type { JobOutcome, JobRunner, RunningJob } from '../supervisor/job-queue';
import type { JobError, JobProgressSnapshot, JobRecord, JobSpec } from '../supervisor/jobs';
import { completedRunEnd, readMeta, RUN_META_FILE } from '../supervisor/run-registry';
import type { TrainJobResult } from '../supervisor/tasks/training';
import type { RedisEventMirror } from './event-mirror';
import { encodeError, toRecord, type LabJobData, type LabJobReturn } from './job-mapping';
import { fenceAfterMs, queueKeyOf, type LabKeys, type LabSettings } from './lab-settings';
import { connectionOptions, type RedisTarget } from './redis-target';
import { missingRequirement } from './requirements';
import { LeaseState, takeRunLockUnderLease } from './run-lease';
import { StopChannel, type ControlRequest } from './stop-channel';

/** Errors a retry cannot fix: the job fails at once with them. */
const PERMANENT = new Set([
  'BAD_INPUT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'RUN_EXISTS',
  'NOT_VISIBLE',
  'WORKER_KILLED',
  'RUN_LOCKED',
  'MISMATCH',
]);

export interface LabWorkerOptions {
  target: RedisTarget;
  keys: LabKeys;
  settings: LabSettings;
  /** Runs the jobs (WorkerJobRunner: a worker thread per job); its pokes go to `mirror` (and a workbench's hub). */
  runner: JobRunner;
  mirror: RedisEventMirror;
  /** The runs folder of the shared workspace as this machine mounts it. */
  runsDir: string;
  concurrency: number;
  /** Stored on every job it processes ("host:pid" unless given). */
  name: string;
  log: (line: string) => void;
}

interface Active {
  job: Job;
  lease: LeaseState;
  handle: RunningJob | null;
  stopRequested: boolean;
  killReason: string | null;
}

/** What a worker heartbeat says (docs: the estimate of a sweep's time divides by the slots online). */
export interface WorkerBeat {
  name: string;
  slots: number;
  running: number;
  at: number;
}

export const workersKey = (ns: string): string => `${ns}:workers`;
const BEAT_MS = 10_000;

/**
 * One BullMQ Worker (concurrency 1) per slot: BullMQ applies a raised `concurrency` only when one of the running jobs
 * ends (its main loop waits on them), which for hour-long trainings means never. A slot per Worker makes a new
 * concurrency act at once; a lower one closes the extra slots as their jobs end.
 */
export class LabWorker {
  private readonly slots: Worker[] = [];
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly stops: StopChannel;
  private readonly active = new Map<string, Active>();
  private readonly hooks: [string, (...args: never[]) => void][] = [];
  private handingBack = false;
  private started = false;
  private wanted: number;
  private beat: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly o: LabWorkerOptions) {
    this.wanted = o.concurrency;
    this.cmd = new Redis(connectionOptions(o.target, `aimkp:worker-cmd:${o.name}`));
    this.sub = new Redis(connectionOptions(o.target, `aimkp:worker-sub:${o.name}`));
    // They reconnect by themselves; BullMQ's own connections report errors through the slots.
    for (const c of [this.cmd, this.sub]) c.on('error', () => undefined);
    this.stops = new StopChannel(this.cmd, this.sub, o.keys.ns);
  }

  get name(): string {
    return this.o.name;
  }

  /** Listens to an event of every slot's BullMQ Worker (logs, tests). */
  on(event: 'active' | 'completed' | 'failed' | 'stalled', fn: (...args: never[]) => void): void {
    this.hooks.push([event, fn]);
    for (const w of this.slots) w.on(event as 'active', fn as never);
  }

  async start(): Promise<void> {
    await this.stops.listen(
      (r) => this.onControl(r),
      () => void this.resyncControl(),
    );
    this.started = true;
    await this.resize();
    this.beat = setInterval(() => void this.heartbeat(), BEAT_MS);
    this.beat.unref();
    void this.heartbeat();
    // The lease's age is checked here too: a thread that never writes (a long validation) is ended all the same.
    const every = Math.max(200, Math.min(1000, fenceAfterMs(this.o.settings) / 4));
    this.watchdog = setInterval(() => this.checkLeases(), every);
    this.watchdog.unref();
  }

  set concurrency(n: number) {
    this.wanted = n;
    if (this.started) void this.resize().catch((err: Error) => this.o.log(`concurrency: ${err.message}`));
  }

  runningIds(): string[] {
    return [...this.active.keys()];
  }

  /** A kill in this process (the workbench that also takes jobs): ends the run at once. */
  kill(id: string, reason: string): boolean {
    if (!this.active.has(id)) return false;
    this.onControl({ jobId: id, op: 'kill', reason, at: Date.now() });
    return true;
  }

  /**
   * Stops taking jobs, stops the running ones at a step boundary (killed after `timeoutMs`) and hands them back to
   * the queue, then closes the connections.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.handingBack = true;
    if (this.beat) clearInterval(this.beat);
    await Promise.all(this.slots.map((w) => w.pause(true).catch(() => undefined)));
    const timers: NodeJS.Timeout[] = [];
    for (const a of this.active.values()) {
      a.handle?.stop();
      timers.push(setTimeout(() => a.handle?.kill(`did not stop within ${timeoutMs} ms of shutdown`), timeoutMs));
    }
    await Promise.all(this.slots.map((w) => w.close()));
    for (const t of timers) clearTimeout(t);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.cmd.hdel(workersKey(this.o.keys.ns), this.o.name).catch(() => undefined);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  private makeSlot(): Worker {
    const { o } = this;
    const s = o.settings;
    const keep = { count: s.keepFinished, age: s.keepFinishedAgeS };
    const w = new Worker(o.keys.queue, (job, token) => this.process(job, token ?? ''), {
      connection: connectionOptions(o.target, `aimkp:worker:${o.name}`),
      prefix: o.keys.prefix,
      concurrency: 1,
      name: o.name,
      autorun: false,
      lockDuration: s.lockDuration,
      stalledInterval: s.stalledInterval,
      maxStalledCount: s.maxStalledCount,
      removeOnComplete: keep,
      removeOnFail: keep,
    });
    w.on('error', (err) => o.log(`worker: ${err.message}`));
    w.on('locksRenewed', ({ jobIds }) => {
      // Acknowledged now; sent up to one round trip ago: the fence's margin covers it.
      const t = Date.now();
      for (const id of jobIds) this.active.get(id)?.lease.renewed(t);
    });
    w.on('lockRenewalFailed', (ids) => {
      for (const id of ids) {
        const a = this.active.get(id);
        if (!a || a.lease.closed) continue;
        o.log(`job ${id}: lost its lease (lock renewal failed): ending the run without writing`);
        a.lease.close();
        a.handle?.kill('the lease was lost');
      }
    });
    for (const [ev, fn] of this.hooks) w.on(ev as 'active', fn as never);
    return w;
  }

  private async resize(): Promise<void> {
    while (this.slots.length < this.wanted && !this.handingBack) {
      const w = this.makeSlot();
      this.slots.push(w);
      void w.run().catch((err: Error) => this.o.log(`worker slot stopped: ${err.message}`));
      await w.waitUntilReady();
    }
    // close() lets the slot's running job finish first.
    while (this.slots.length > this.wanted) void this.slots.pop()!.close();
  }

  private async heartbeat(): Promise<void> {
    const beat: WorkerBeat = { name: this.o.name, slots: this.wanted, running: this.active.size, at: Date.now() };
    await this.cmd.hset(workersKey(this.o.keys.ns), this.o.name, JSON.stringify(beat)).catch(() => undefined);
  }

  private checkLeases(): void {
    const fence = fenceAfterMs(this.o.settings);
    for (const [id, a] of this.active) {
      if (a.lease.closed || a.lease.ageMs() <= fence) continue;
      this.o.log(`job ${id}: no lease renewal for ${a.lease.ageMs()} ms: fencing myself off`);
      a.lease.close();
      a.handle?.kill('the lease was lost');
    }
  }

  private onControl(r: ControlRequest): void {
    const a = this.active.get(r.jobId);
    if (!a) return;
    if (r.op === 'kill') {
      a.killReason = r.reason;
      a.handle?.kill(r.reason);
    } else {
      a.stopRequested = true;
      a.handle?.stop();
    }
  }

  /** After a reconnect: requests sent while the subscription was down. */
  private async resyncControl(): Promise<void> {
    for (const id of this.active.keys()) {
      const r = await this.stops.pending(id).catch(() => null);
      if (r) this.onControl(r);
    }
  }

  /** A job this worker cannot run here: back to the queue for a while, or failed after too many refusals. */
  private async refuse(job: Job, token: string, why: string): Promise<never> {
    const key = `${this.o.keys.ns}:refusals:${job.id}`;
    const n = await this.cmd.hincrby(key, this.o.name, 1);
    await this.cmd.expire(key, 7 * 24 * 3600);
    const all = await this.cmd.hgetall(key);
    const total = Object.values(all).reduce((a, b) => a + Number(b), 0);
    await job.log(`${this.o.name} cannot take it (${n}×): ${why}`);
    this.o.log(`job ${job.id}: not taken: ${why}`);
    if (total >= this.o.settings.maxRefusals)
      throw new UnrecoverableError(
        encodeError({
          code: 'NOT_VISIBLE',
          message: `no worker could take it after ${total} tries: ${why} (workers: ${Object.keys(all).join(', ')})`,
        }),
      );
    await job.moveToDelayed(Date.now() + this.o.settings.refuseDelayMs, token);
    throw new DelayedError();
  }

  /** The spec to run: a train job whose run this very job already started resumes it. */
  private specToRun(record: JobRecord, runDir: string): JobSpec {
    const spec = record.spec;
    if (!isJobOf(spec, TRAIN_JOB) || !existsSync(join(runDir, RUN_FILES.config))) return spec;
    const meta = readMeta(runDir);
    if (meta.job !== record.id)
      throw new UnrecoverableError(
        encodeError({
          code: 'RUN_EXISTS',
          message: `run ${spec.params.runId} already exists (${meta.job ? `started by job ${meta.job}` : 'not started by this job'}); resume it instead`,
        }),
      );
    return jobSpec(RESUME_JOB, { runId: spec.params.runId, maxSteps: spec.params.maxSteps });
  }

  private async process(job: Job, token: string): Promise<LabJobReturn> {
    const id = job.id!;
    let record: JobRecord;
    try {
      record = toRecord(job, 'active');
    } catch (err) {
      throw new UnrecoverableError(encodeError({ code: 'BAD_INPUT', message: (err as Error).message }));
    }
    // 1. Asked to stop (or kill) while it waited, or between a worker's death and this takeover.
    const pending = await this.stops.pending(id);
    if (pending?.op === 'kill')
      throw new UnrecoverableError(encodeError({ code: 'WORKER_KILLED', message: pending.reason }));
    if (pending) {
      await this.stops.clear(id);
      const begun = job.attemptsStarted > 1 || job.stalledCounter > 0;
      return { outcome: begun ? 'stopped' : 'cancelled', result: null };
    }
    // 2. Can this machine see what the job needs?
    const missing = missingRequirement((job.data as LabJobData).requires, this.o.runsDir);
    if (missing) return this.refuse(job, token, missing);
    // 3. The run, under the lease.
    const runId = runOfSpec(record.spec);
    const trains = kindOfSpec(record.spec).trainsRun && runId !== null;
    const runDir = runId ? join(this.o.runsDir, runId) : null;
    const a: Active = { job, lease: new LeaseState(), handle: null, stopRequested: false, killReason: null };
    this.active.set(id, a);
    let lock: RunLock | null = null;
    try {
      let spec = record.spec;
      if (trains && runDir) {
        spec = this.specToRun(record, runDir);
        const lease: RunLease = { queueKey: queueKeyOf(this.o.keys), jobId: id, token };
        lock = await takeRunLockUnderLease(runDir, lease, this.cmd, `aimkp worker ${this.o.name}: job ${id}`).catch(
          (err: Error & { code?: string }) => {
            throw new UnrecoverableError(encodeError({ code: err.code ?? 'RUN_LOCKED', message: err.message }));
          },
        );
        if (lock.tookOver) this.o.log(`run ${runId}: ${lock.tookOver}`);
        // Taken again after its run completed: the run's end was written, but not the job's (Redis went away, or the
        // lease ran out while the end was being recorded). The run's own record is the result; resuming a completed
        // run would log a second start and end.
        const end = completedRunEnd(runDir);
        if (end) {
          this.o.log(`job ${id}: run ${runId} already completed at step ${end.step}; recording the job's end only`);
          const result = {
            status: 'completed',
            globalStep: end.step,
            epoch: end.epoch,
            bestEpoch: end.best?.epoch ?? null,
            bestScore: end.best?.score ?? null,
          } satisfies TrainJobResult;
          return { outcome: 'completed', result };
        }
        if (isJobOf(spec, TRAIN_JOB)) {
          // Marks the run as this job's: a later take of the job (a retry, a takeover) resumes it.
          const meta = readMeta(runDir);
          writeFileAtomicSync(join(runDir, RUN_META_FILE), JSON.stringify({ ...meta, job: id }, null, 2) + '\n');
        }
      }
      const outcome = await this.run(a, { ...record, spec });
      return await this.settle(a, token, outcome, runId, runDir, trains);
    } finally {
      this.active.delete(id);
      lock?.release();
      if (runId && trains)
        await this.o.mirror.end(runId).catch((err: Error) => this.o.log(`events of ${runId}: ${err.message}`));
    }
  }

  private async run(a: Active, record: JobRecord): Promise<JobOutcome> {
    const { job } = a;
    let lastSent = 0;
    let timer: NodeJS.Timeout | null = null;
    let latest: JobProgressSnapshot | null = null;
    const send = () => {
      timer = null;
      lastSent = Date.now();
      if (latest) void job.updateProgress(latest as unknown as object).catch(() => undefined);
    };
    const onProgress = (p: JobProgressSnapshot) => {
      latest = p;
      if (timer) return;
      timer = setTimeout(send, Math.max(0, lastSent + this.o.settings.progressEveryMs - Date.now()));
    };
    const handle = this.o.runner.start(record, onProgress, {
      runLockHeld: kindOfSpec(record.spec).trainsRun,
      lease: { state: a.lease.buffer, fenceAfterMs: fenceAfterMs(this.o.settings) },
    });
    a.handle = handle;
    // A request that came in while the run was being set up.
    if (a.killReason) handle.kill(a.killReason);
    else if (a.stopRequested) handle.stop();
    const outcome = await handle.done;
    if (timer) {
      clearTimeout(timer);
      send();
    }
    return outcome;
  }

  /** How the job ends in BullMQ: a return value (completed / stopped), a retry, a failure, or back to the queue. */
  private async settle(
    a: Active,
    token: string,
    outcome: JobOutcome,
    runId: string | null,
    runDir: string | null,
    trains: boolean,
  ): Promise<LabJobReturn> {
    const { job } = a;
    const id = job.id!;
    // The training thread's own fence (models' write fence) may close before the watchdog here notices.
    const fencedInThread =
      outcome.state === 'failed' &&
      outcome.error?.code === 'RUN_LOCKED' &&
      /: not writing \(/.test(outcome.error.message);
    if (a.lease.closed || fencedInThread) {
      // Fenced while the lock may still be ours (renewals late, not lost): give the job back, no try used.
      const back = await job.moveToWait(token).then(
        () => true,
        () => false,
      );
      if (back) throw new WaitingError();
      // The lock is someone else's: BullMQ records nothing from here, as it should.
      throw new Error(
        encodeError({ code: 'LEASE_LOST', message: `${this.o.name} lost the lease; another worker took the job` }),
      );
    }
    if (trains && runId && runDir && outcome.state === 'failed' && outcome.error) {
      const e = outcome.error;
      if (e.code === 'WORKER_DIED' || e.code === 'WORKER_KILLED') this.recordDeath(runId, runDir, e);
    }
    if (a.killReason) throw new UnrecoverableError(encodeError({ code: 'WORKER_KILLED', message: a.killReason }));
    if (this.handingBack && !a.stopRequested && outcome.state !== 'completed') {
      // Quitting: the run stopped at a checkpoint (or was cut short); the job goes back for another worker.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (outcome.state === 'failed') {
      const e = outcome.error ?? { code: 'INTERNAL', message: 'the job failed' };
      if (PERMANENT.has(e.code)) throw new UnrecoverableError(encodeError(e));
      throw new Error(encodeError(e));
    }
    if (a.stopRequested) await this.stops.clear(id);
    return { outcome: outcome.state, result: outcome.result ?? null };
  }

  /** The training thread died or was killed: the run's log says why (as the workbench does for its own threads). */
  private recordDeath(runId: string, runDir: string, e: JobError): void {
    if (!existsSync(join(runDir, RUN_FILES.config))) return;
    const ev: ErrorEvent = {
      type: 'error',
      time: new Date().toISOString(),
      run: runDir,
      message: e.message,
      code: e.code,
    };
    try {
      appendFileSync(join(runDir, RUN_FILES.events), JSON.stringify(ev) + '\n');
      this.o.mirror.poke(runId);
    } catch (err) {
      this.o.log(`run ${runId}: cannot record the worker's death: ${(err as Error).message}`);
    }
  }
}
