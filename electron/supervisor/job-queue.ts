// The job queue behind an interface: the in-process implementation here runs jobs through a JobRunner
// (workers on this machine) with a fixed number at a time and persists every state change to jobs.json; a
// distributed queue (jobs on other machines) can implement the same interface later.
import { randomUUID } from 'node:crypto';
import { CoreError, writeFileAtomic, type RunLease } from '../../models/index';
import type { JsonValue } from '../../shared/training-events';
import { isFinishedJobState } from '../../shared/vocabulary';
import { checkJobSpec, kindOfSpec } from './job-kinds';
import type { EventSource } from './event-hub';
import type { JobError, JobProgressSnapshot, JobRecord, JobSpec, JobState } from './jobs';
import { jobsFileText, readJobsFile } from './jobs-file';
import type { RunEventLog } from './run-event-log';

export type JobChange = { job: JobRecord; previous: JobState | null };
export type JobListener = (change: JobChange) => void;

export interface JobQueue {
  /**
   * Adds a job; it starts when a slot is free (in the order enqueued). Its spec is checked through the job-kind
   * table (a known kind that may be queued, valid params); BAD_INPUT names the field.
   */
  enqueue(spec: JobSpec): JobRecord;
  /** Queued: cancelled. Running: asked to stop at the next step boundary (training saves a checkpoint). */
  cancel(id: string): boolean;
  get(id: string): JobRecord | undefined;
  /** Newest first. */
  list(): JobRecord[];
  onChange(listener: JobListener): () => void;
}

/**
 * What the supervisor needs of a queue besides JobQueue: its life cycle and its knobs. InProcessJobQueue is one;
 * a distributed queue (jobs run by workers on other machines) would be another, passed as SupervisorOptions.createQueue.
 */
export interface ManagedJobQueue extends JobQueue {
  /** Starts queued jobs (those restored from storage included). */
  start(): void;
  setConcurrency(n: number): void;
  /** Ends a running job at once; it fails with `reason`. */
  kill(id: string, reason: string): boolean;
  runningIds(): string[];
  /** Stops running jobs at their next step boundary (recorded interrupted), waits up to timeoutMs each, then kills. */
  shutdown(timeoutMs: number): Promise<void>;
  /** Set by a queue shared by several machines (electron/queue/): what the supervisor asks it besides jobs. */
  readonly lab?: LabQueueHooks;
}

/** What a lab queue (runs trained on other machines, a workspace shared by several workbenches) offers. */
export interface LabQueueHooks {
  /** Whether the queue still holds a run lock's lease: true / false, null while it cannot tell yet. */
  leaseAlive(lease: RunLease): boolean | null;
  /** A run stream's event source: its events.jsonl and its Redis stream (events of runs trained elsewhere). */
  eventSource(streamId: string, file: RunEventLog, poke: () => void): EventSource;
}

export interface QueueFactoryOptions {
  runner: JobRunner;
  /** Another runner like `runner` whose workers' pokes (events.jsonl grew) also reach `onPoke` (a lab queue's mirror). */
  createRunner: (onPoke: (runId: string) => void) => JobRunner;
  /** The workspace's runs folder. */
  runsDir: string;
  concurrency: number;
  /** jobs.json of the workspace (per host when the workspace is shared). */
  file: string;
  onPrune: (jobIds: string[]) => void;
  /** A record of jobs.json that could not be read (left out of the list): file, record, field, reason. */
  onLoadProblem: (message: string) => void;
}

/** How a job ended, as the runner reports it. */
export interface JobOutcome {
  state: Extract<JobState, 'completed' | 'stopped' | 'failed'>;
  error?: JobError;
  result?: JsonValue;
}

export interface RunningJob {
  /** Ask for a stop at the next step boundary. */
  stop(): void;
  /** Ends the job at once (worker terminated); the outcome is 'failed'. */
  kill(reason: string): void;
  readonly done: Promise<JobOutcome>;
}

/** How a runner starts a job beyond its record: what a lab worker (electron/queue/) adds. */
export interface JobRunOptions {
  /** The caller holds the run's writer lock (taken under the queue's lease): the work must not take it again. */
  runLockHeld?: boolean;
  /**
   * The lease the job runs under: `renewedAt` (BigInt64Array[1] over this buffer) is the Date.now() of the last
   * renewal the queue acknowledged, `closed` (Int32Array[1] at byte 8) is set to 1 when the lease is lost. The work's
   * thread writes nothing into the run once either says so (models' setRunWriteFence).
   */
  lease?: { state: SharedArrayBuffer; fenceAfterMs: number };
}

export interface JobRunner {
  start(job: JobRecord, onProgress: (p: JobProgressSnapshot) => void, options?: JobRunOptions): RunningJob;
}

export interface InProcessQueueOptions {
  runner: JobRunner;
  concurrency: number;
  /** jobs.json; null = not persisted. */
  file: string | null;
  /** Finished jobs kept in the list (oldest dropped first). */
  keepFinished?: number;
  /** Told which finished jobs were dropped from the list (their stream folders can go). */
  onPrune?: (jobIds: string[]) => void;
  /** Told of each record of jobs.json that could not be read (left out of the list). */
  onLoadProblem?: (message: string) => void;
}

export class InProcessJobQueue implements ManagedJobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly running = new Map<string, RunningJob>();
  private readonly listeners = new Set<JobListener>();
  private concurrency: number;
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;
  /** Nothing starts until start(), nor after shutdown(). */
  private paused = true;

  constructor(private readonly options: InProcessQueueOptions) {
    this.concurrency = options.concurrency;
    if (options.file) this.load(options.file);
  }

  enqueue(spec: JobSpec): JobRecord {
    const checked = checkJobSpec(spec, `${String(spec.kind)} job`);
    if (kindOfSpec(checked).listedAs === null)
      throw new CoreError('BAD_INPUT', `job kind "${checked.kind}" runs at once, outside the queue (runInteractive)`, {
        field: 'kind',
      });
    const job: JobRecord = {
      id: randomUUID(),
      spec: checked,
      state: 'queued',
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      error: null,
      progress: null,
      result: null,
    };
    this.jobs.set(job.id, job);
    this.changed(job, null);
    this.pump();
    return job;
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    if (job.state === 'queued') {
      this.transition(job, 'cancelled');
      return true;
    }
    const handle = this.running.get(id);
    if (handle) {
      handle.stop();
      return true;
    }
    return false;
  }

  /** Ends a running job at once (its worker is terminated): it is marked failed with `reason`. */
  kill(id: string, reason: string): boolean {
    const handle = this.running.get(id);
    if (!handle) return false;
    handle.kill(reason);
    return true;
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list(): JobRecord[] {
    return [...this.jobs.values()].reverse();
  }

  onChange(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setConcurrency(n: number): void {
    if (!Number.isInteger(n) || n < 1)
      throw new CoreError('BAD_INPUT', `concurrency: expected an integer ≥ 1, got ${n}`, { field: 'concurrency' });
    this.concurrency = n;
    this.pump();
  }

  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops every running job at its next step boundary and waits for them (training writes a checkpoint);
   * they are recorded as interrupted, so they resume after the next start. Queued jobs stay queued. Jobs that
   * do not end within `timeoutMs` are killed.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.paused = true;
    const pending = [...this.running.entries()].map(([id, handle]) => {
      const job = this.jobs.get(id)!;
      job.error = {
        code: 'APP_QUIT',
        message: 'the app quit while the job ran; resume it to continue from its last checkpoint',
      };
      handle.stop();
      const timer = setTimeout(() => handle.kill(`did not stop within ${timeoutMs} ms of quitting`), timeoutMs);
      return handle.done.finally(() => clearTimeout(timer));
    });
    await Promise.allSettled(pending);
    // Let the done-handlers record the final states, then write the file.
    await new Promise((r) => setImmediate(r));
    await this.flushSaves();
  }

  /** Waits for pending jobs.json writes. */
  async flushSaves(): Promise<void> {
    for (;;) {
      const current = this.saving;
      await current;
      if (current === this.saving) return;
    }
  }

  /** Starts queued jobs (those loaded from jobs.json included); call once listeners are attached. */
  start(): void {
    this.paused = false;
    this.pump();
  }

  private pump(): void {
    if (this.paused) return;
    for (const job of this.jobs.values()) {
      if (this.running.size >= this.concurrency) return;
      if (job.state !== 'queued') continue;
      this.startJob(job);
    }
  }

  private startJob(job: JobRecord): void {
    job.startedAt = new Date().toISOString();
    job.endedAt = null;
    job.error = null;
    let handle: RunningJob;
    try {
      handle = this.options.runner.start(job, (p) => {
        job.progress = p;
        this.changed(job, job.state, false);
      });
    } catch (err) {
      job.error = { code: 'WORKER_ERROR', message: `could not start the job: ${(err as Error).message}` };
      this.transition(job, 'failed');
      return;
    }
    this.running.set(job.id, handle);
    this.transition(job, 'running');
    handle.done
      .catch((err: unknown): JobOutcome => ({
        state: 'failed',
        error: { code: 'INTERNAL', message: (err as Error).message },
      }))
      .then((outcome) => {
        this.running.delete(job.id);
        const quitting = this.paused && job.error?.code === 'APP_QUIT';
        if (outcome.result !== undefined) job.result = outcome.result;
        if (outcome.state === 'failed') job.error = outcome.error ?? { code: 'INTERNAL', message: 'the job failed' };
        else if (!quitting) job.error = null;
        this.transition(job, quitting && outcome.state !== 'failed' ? 'interrupted' : outcome.state);
        this.pump();
      });
  }

  private transition(job: JobRecord, state: JobState): void {
    const previous = job.state;
    job.state = state;
    if (isFinishedJobState(state)) job.endedAt = new Date().toISOString();
    this.changed(job, previous);
  }

  private changed(job: JobRecord, previous: JobState | null, persist = true): void {
    for (const l of this.listeners) {
      try {
        l({ job, previous });
      } catch {
        // A listener's failure must not stop the queue.
      }
    }
    if (persist) this.save();
  }

  private load(file: string): void {
    const { jobs, problems } = readJobsFile(file);
    for (const p of problems) this.options.onLoadProblem?.(p);
    for (const job of jobs) {
      // A job that was running when the app ended without a shutdown (crash, kill): interrupted.
      if (job.state === 'running') {
        job.state = 'interrupted';
        job.endedAt = job.endedAt ?? new Date().toISOString();
        job.error = {
          code: 'APP_CRASHED',
          message: 'the app ended while the job ran; resume it to continue from its last checkpoint',
        };
      }
      this.jobs.set(job.id, job);
    }
  }

  private save(): void {
    const file = this.options.file;
    if (!file) return;
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      const keep = this.options.keepFinished ?? 200;
      const all = [...this.jobs.values()];
      const finished = all.filter((j) => isFinishedJobState(j.state));
      const dropped = finished.slice(0, Math.max(0, finished.length - keep)).map((j) => j.id);
      for (const id of dropped) this.jobs.delete(id);
      if (dropped.length > 0) this.options.onPrune?.(dropped);
      try {
        await writeFileAtomic(file, jobsFileText([...this.jobs.values()]));
      } catch {
        // Disk full or read-only: the queue keeps working in memory; the next change tries again.
      }
    });
  }
}
