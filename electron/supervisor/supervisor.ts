// The training supervisor: owns the workspace, the job queue, the job workers and the event streams. Plain
// Node (no electron import): the Electron main process, the browser-mode server and the tests all create one.
//
//   service (electron/service/) ── Supervisor ──┬─ InProcessJobQueue ── WorkerJobRunner ── worker threads ── core
//                                               ├─ RunRegistry (runs/<id>/ folders)
//                                               └─ EventHub (events.jsonl tails → batched subscribers, replay)
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  acquireRunLock,
  breakRunLock,
  CoreError,
  inspectLock,
  RUN_FILES,
  writeFileAtomicSync,
  type RunLease,
  type RunLock,
  type TrainConfig,
} from '../../models/index';
import type { SweepRef } from '../../shared/sweep';
import type { ErrorEvent, ProgressEvent } from '../../shared/training-events';
import { isFinishedJobState, type RunStatus } from '../../shared/vocabulary';
import type { WireJobKind } from '../../shared/contract/common';
import {
  EVENT_SCHEMA_VERSION,
  wrapTrainingEvent,
  type JobStateData,
  type ServiceEvent,
} from '../../shared/contract/events';
import { EventHub } from './event-hub';
import {
  InProcessJobQueue,
  type JobChange,
  type JobQueue,
  type ManagedJobQueue,
  type QueueFactoryOptions,
} from './job-queue';
import { jobSpec, kindOfSpec, RESUME_JOB, runOfSpec, TRAIN_JOB, type JobKind } from './job-kinds';
import type { JobProgressSnapshot, JobRecord } from './jobs';
import { RUN_META_FILE, RunRegistry, type RunFileSummary } from './run-registry';
import type { SeqEvent } from './run-event-log';
import { defaultWorkerEntry, WorkerJobRunner, type WorkerEntry } from './worker-runner';
import { PredictServer } from './predict-server';
import type { PredictJobParams, PredictJobResult } from './tasks/predict';
import {
  checkRunId,
  ensureWorkspace,
  readSettings,
  writeSettings,
  type WorkspacePaths,
  type WorkspaceSettings,
} from './workspace';

export interface SupervisorOptions {
  /** Workspace folder (default: defaultWorkspaceRoot()). */
  workspace: string;
  /** Overrides settings.json's concurrency for this process. */
  concurrency?: number;
  /** Worker script (tests pass the .ts entry; default: next to this module). */
  workerEntry?: WorkerEntry;
  /** Per-worker JS heap cap in MB. */
  workerHeapMb?: number;
  /** How long shutdown() waits for a job to reach a step boundary before killing it. */
  shutdownTimeoutMs?: number;
  /** Informational lines (worker logs, read errors). */
  log?: (line: string) => void;
  /** The job queue (default: InProcessJobQueue, persisted in jobs.json). */
  createQueue?: (o: QueueFactoryOptions) => ManagedJobQueue;
  /**
   * Several workbenches (on several machines) use this workspace at once, each with its own supervisor: a lab
   * queue's setting. The supervisor's lock and its own job list are then per host (hosts/<host>/), not per workspace.
   */
  sharedWorkspace?: boolean;
}

export type { RunStatus } from '../../shared/vocabulary';

export interface RunView extends RunFileSummary {
  /** The status the UI shows for a run: its files plus what the supervisor's jobs know. */
  status: RunStatus;
  /** The job that runs or last ran this run (this workspace's queue). */
  job: JobRecord | null;
  /** Seq of the last event the supervisor has read (subscribe from here for what comes next). */
  lastSeq: number;
  /** Why it failed or was interrupted. */
  reason: { code: string; message: string } | null;
}

export interface ServiceEventBatch {
  events: ServiceEvent[];
  replay: boolean;
}

const JOB_STREAM = /^job:([A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;

export class Supervisor {
  paths: WorkspacePaths;
  private settingsNow: WorkspaceSettings;
  readonly queue: ManagedJobQueue;
  readonly runner: WorkerJobRunner;
  readonly hub: EventHub;
  readonly registry: RunRegistry;
  /** The long-lived worker that answers predictions with models kept loaded. */
  readonly predictor: PredictServer;
  /** Runs whose stop was requested (status 'stopping' until their job ends). */
  private readonly stopping = new Set<string>();
  private readonly log: (line: string) => void;
  private closed = false;
  /** One supervisor per workspace (jobs.json has one writer): <workspace>/run.lock, taken over when stale. */
  private readonly workspaceLock: RunLock;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log ?? (() => undefined);
    this.paths = ensureWorkspace(options.workspace);
    // One supervisor per workspace, or with a shared workspace one per host (each keeps its own job list there).
    const own = options.sharedWorkspace === true ? join(this.paths.root, 'hosts', hostname()) : this.paths.root;
    mkdirSync(own, { recursive: true });
    this.workspaceLock = acquireRunLock(own, { command: 'aimkp workbench supervisor' });
    mkdirSync(join(this.paths.root, 'jobs'), { recursive: true });
    this.settingsNow = readSettings(this.paths);
    if (options.concurrency !== undefined) this.settingsNow = { ...this.settingsNow, concurrency: options.concurrency };
    this.registry = new RunRegistry(this.paths.runs, (lease) => this.leaseAlive(lease));
    this.hub = new EventHub({
      fileOf: (id) => this.streamFile(id),
      onError: (id, err) => this.log(`events of ${id}: ${(err as Error).message}`),
      // Run streams of a lab queue also read their Redis stream (runs trained on other machines).
      sourceOf: (id, file) =>
        this.queue?.lab && !JOB_STREAM.test(id) ? this.queue.lab.eventSource(id, file, () => this.hub.poke(id)) : file,
    });
    const makeRunner = (alsoPoke?: (runId: string) => void) =>
      new WorkerJobRunner({
        paths: this.paths,
        settings: () => this.settingsNow,
        entry: options.workerEntry,
        maxOldGenerationSizeMb: options.workerHeapMb,
        onPoke: (runId) => {
          this.hub.poke(runId);
          alsoPoke?.(runId);
        },
        onLog: (jobId, line) => this.log(`[job ${jobId.slice(0, 8)}] ${line}`),
      });
    this.runner = makeRunner();
    this.predictor = new PredictServer({
      entry: () => options.workerEntry ?? defaultWorkerEntry(),
      paths: () => this.paths,
      backend: () => this.settingsNow.backend,
      log: this.log,
    });
    const queueOptions: QueueFactoryOptions = {
      runner: this.runner,
      createRunner: makeRunner,
      runsDir: this.paths.runs,
      concurrency: this.settingsNow.concurrency,
      file: join(own, 'jobs.json'),
      onPrune: (ids) => {
        for (const id of ids) rmSync(join(this.paths.root, 'jobs', id), { recursive: true, force: true });
      },
      onLoadProblem: (message) => this.log(message),
    };
    this.queue = options.createQueue ? options.createQueue(queueOptions) : new InProcessJobQueue(queueOptions);
    this.queue.onChange((c) => this.onJobChange(c));
    this.queue.start();
  }

  get settings(): WorkspaceSettings {
    return { ...this.settingsNow };
  }

  /** The queue as its interface (what a distributed queue would also offer). */
  get jobs(): JobQueue {
    return this.queue;
  }

  async setSettings(change: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
    const next = { ...this.settingsNow, ...change };
    await writeSettings(this.paths, next);
    this.settingsNow = next;
    if (change.concurrency !== undefined) this.queue.setConcurrency(next.concurrency);
    return this.settings;
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  /** Queues a new training run in runs/<runId>. */
  startTraining(o: {
    runId: string;
    dataDir: string;
    config: TrainConfig;
    maxSteps?: number;
    name?: string;
    tags?: string[];
    /** The sweep it belongs to (kept in run-meta.json: the Runs view's group). */
    sweep?: SweepRef;
  }): JobRecord {
    this.open();
    const runId = checkRunId(o.runId);
    const dir = this.registry.dirOf(runId);
    if (existsSync(dir))
      throw new CoreError('ALREADY_EXISTS', `run ${runId}: ${dir} already exists; choose another name, or resume it`, {
        path: dir,
        field: 'runId',
      });
    this.refuseIfActive(runId);
    // Checked before anything is written: a refused spec leaves no folder.
    const spec = jobSpec(TRAIN_JOB, { runId, dataDir: o.dataDir, config: o.config, maxSteps: o.maxSteps });
    // run-meta.json first: the folder is the app's from the start (name, tags) even before config.json exists.
    mkdirSync(dir, { recursive: true });
    writeMetaSync(dir, { name: o.name, tags: o.tags ?? [], origin: 'app', sweep: o.sweep });
    try {
      return this.queue.enqueue(spec);
    } catch (err) {
      // Nothing was queued: the folder (only run-meta.json) must not stay behind as a run nobody can start.
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Queues the continuation of a stopped, interrupted or failed run from its last checkpoint. */
  resume(runId: string, o: { maxSteps?: number } = {}): JobRecord {
    this.open();
    checkRunId(runId);
    if (!this.registry.exists(runId))
      throw new CoreError('NOT_FOUND', `run ${runId}: no such run (no config.json in ${this.registry.dirOf(runId)})`, {
        field: 'id',
      });
    this.refuseIfActive(runId);
    const lock = inspectLock(this.registry.dirOf(runId), { leaseAlive: (l) => this.leaseAlive(l) });
    if (lock.state === 'held' && !lock.byThisProcess)
      throw new CoreError(
        'RUN_LOCKED',
        `run ${runId}: in use by "${lock.holder.command}" (pid ${lock.holder.pid}); stop it first`,
        { field: 'id' },
      );
    const s = this.registry.summary(runId);
    if (s.state === 'completed')
      throw new CoreError('BAD_INPUT', `run ${runId}: already completed (${s.epochs} epochs); nothing to resume`, {
        field: 'id',
      });
    return this.queue.enqueue(jobSpec(RESUME_JOB, { runId, maxSteps: o.maxSteps }));
  }

  /** Stops the run's job: a queued one is cancelled, a running one stops at the next step with a checkpoint. */
  stop(runId: string): JobRecord | null {
    const job = this.activeJobOf(runId);
    if (!job) return null;
    if (job.state === 'running') this.stopping.add(runId);
    this.queue.cancel(job.id);
    return this.queue.get(job.id) ?? null;
  }

  /** Deletes a run folder (refused while a job uses it or another process holds its lock). */
  deleteRun(runId: string): void {
    checkRunId(runId);
    const dir = this.registry.dirOf(runId);
    if (!existsSync(dir)) throw new CoreError('NOT_FOUND', `run ${runId}: no such run`, { field: 'id' });
    this.refuseIfActive(runId);
    const lock = inspectLock(dir, { leaseAlive: (l) => this.leaseAlive(l) });
    if (lock.state === 'held')
      throw new CoreError(
        'RUN_LOCKED',
        `run ${runId}: in use by "${lock.holder.command}" (pid ${lock.holder.pid}); stop it first`,
        { field: 'id' },
      );
    rmSync(dir, { recursive: true, force: true });
    this.hub.forget(runId);
  }

  listRuns(): RunView[] {
    return this.registry
      .list()
      .runs.map((s) => this.view(s))
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  }

  getRun(runId: string): RunView {
    checkRunId(runId);
    if (!this.registry.exists(runId)) {
      // A queued run has no config.json yet: show it from its job.
      const job = this.activeJobOf(runId);
      if (job) throw new CoreError('NOT_FOUND', `run ${runId}: queued, not started yet`, { field: 'id' });
      throw new CoreError('NOT_FOUND', `run ${runId}: no such run`, { field: 'id' });
    }
    return this.view(this.registry.summary(runId));
  }

  /** The queued or running job of a run, if any. */
  activeJobOf(runId: string): JobRecord | undefined {
    return this.queue
      .list()
      .find((j) => (j.state === 'queued' || j.state === 'running') && runOfSpec(j.spec) === runId);
  }

  /** The newest job of a run (any state). */
  lastJobOf(runId: string): JobRecord | undefined {
    return this.queue.list().find((j) => kindOfSpec(j.spec).trainsRun && runOfSpec(j.spec) === runId);
  }

  // ---- other jobs ---------------------------------------------------------------------------------------

  /** Queues a job of the job-kind table (evaluate, robustness, import, ...; training through startTraining / resume). */
  enqueue<P, R>(kind: JobKind<P, R>, params: P): JobRecord {
    this.open();
    if (kind.trainsRun)
      throw new CoreError('BAD_INPUT', `${kind.name} jobs are queued by startTraining() / resume() (they own a run)`);
    return this.queue.enqueue(jobSpec(kind, params));
  }

  /**
   * Runs a short job in its own worker now, outside the queue (loading a data set, probing the backend: they must
   * not wait behind a training). Resolves with the job's result; rejects with its error.
   */
  async runInteractive<P, R>(kind: JobKind<P, R>, params: P, signal?: AbortSignal): Promise<R> {
    this.open();
    const job: JobRecord = {
      id: `interactive-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      spec: jobSpec(kind, params),
      state: 'running',
      createdAt: new Date().toISOString(),
      startedAt: null,
      endedAt: null,
      error: null,
      progress: null,
      result: null,
    };
    const handle = this.runner.start(job, () => undefined);
    const onAbort = () => handle.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const outcome = await handle.done;
      if (outcome.state === 'failed')
        throw Object.assign(new Error(outcome.error?.message ?? `${kind.name} failed`), {
          code: outcome.error?.code ?? 'INTERNAL',
        });
      if (outcome.state === 'stopped') throw new CoreError('ABORTED', `${kind.name}: stopped by request`);
      // The kind's own result type: what its work returned, structured-cloned from the worker.
      return (outcome.result ?? null) as R;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One case with the chosen runs, in the prediction worker (models stay loaded between calls). */
  predict(params: PredictJobParams, signal?: AbortSignal): Promise<PredictJobResult> {
    this.open();
    return this.predictor.predict(params, signal);
  }

  /** Resolves when the job has finished (any final state). */
  waitForJob(jobId: string): Promise<JobRecord> {
    return new Promise((resolve, reject) => {
      const now = this.queue.get(jobId);
      if (!now) return reject(new CoreError('NOT_FOUND', `job ${jobId}: no such job`));
      if (isFinishedJobState(now.state)) return resolve(now);
      const off = this.queue.onChange(({ job }) => {
        if (job.id === jobId && isFinishedJobState(job.state)) {
          off();
          // Let the end-of-job bookkeeping (error line, last poke) finish first.
          setImmediate(() => resolve(job));
        }
      });
    });
  }

  /** Ends a running job at once (its worker is terminated): it fails with `reason`. Tests and a "force stop". */
  kill(jobId: string, reason = 'killed by request'): boolean {
    return this.queue.kill(jobId, reason);
  }

  // ---- events -------------------------------------------------------------------------------------------

  /** Events of a stream (run id or job:<id>) with seq > sinceSeq, from disk. */
  async eventsSince(streamId: string, sinceSeq: number, limit?: number): Promise<ServiceEvent[]> {
    const events = await this.hub.eventsSince(this.checkStream(streamId), sinceSeq, limit);
    return events.map((e) => toServiceEvent(streamId, e));
  }

  /** Seq of the last event the supervisor has read from the stream (reads what is new first). */
  async lastSeq(streamId: string): Promise<number> {
    await this.hub.flushNow(this.checkStream(streamId));
    return this.hub.logOf(streamId).lastSeq;
  }

  /**
   * Batches of a stream ('*' = every stream the supervisor tails), ≤ 20 per second per stream, nothing lost:
   * history after `since` first (replay: true), then live. For '*', `since` maps stream ids to seqs.
   */
  subscribe(
    streamId: string | '*',
    onBatch: (batch: ServiceEventBatch) => void,
    since?: number | Record<string, number>,
  ): () => void {
    if (streamId !== '*') this.checkStream(streamId);
    if (typeof since === 'object') for (const id of Object.keys(since)) this.checkStream(id);
    return this.hub.subscribe(
      streamId,
      (b) => onBatch({ events: b.events.map((e) => toServiceEvent(b.runId, e)), replay: b.replay }),
      since,
    );
  }

  /** The events.jsonl of a stream id. */
  streamFile(streamId: string): string {
    const m = JOB_STREAM.exec(streamId);
    if (m) return join(this.paths.root, 'jobs', m[1], 'events.jsonl');
    return join(this.paths.runs, streamId, RUN_FILES.events);
  }

  /** The stream that reports a job: its run's for training (kinds that report on the run), job:<id> otherwise. */
  streamOf(job: JobRecord): string {
    const runId = runOfSpec(job.spec);
    return kindOfSpec(job.spec).reportsOn === 'run' && runId !== null ? runId : `job:${job.id}`;
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------

  /** Stops running jobs at a step boundary (training writes a checkpoint), waits for them, saves jobs.json. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.predictor.close();
      await this.queue.shutdown(this.options.shutdownTimeoutMs ?? 60_000);
      this.hub.close();
    } finally {
      this.workspaceLock.release();
    }
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private open(): void {
    if (this.closed) throw new CoreError('BAD_INPUT', 'the supervisor has shut down');
  }

  /** A run lock held under a lab queue's lease: does the queue still hold it? (null: no lab queue, or not known yet) */
  private leaseAlive(lease: RunLease): boolean | null {
    return this.queue?.lab ? this.queue.lab.leaseAlive(lease) : null;
  }

  private checkStream(streamId: string): string {
    if (JOB_STREAM.test(streamId)) return streamId;
    return checkRunId(streamId);
  }

  private refuseIfActive(runId: string): void {
    const active = this.activeJobOf(runId);
    if (active)
      throw new CoreError('RUN_LOCKED', `run ${runId}: job ${active.id} is ${active.state} on it; stop it first`, {
        field: 'id',
      });
  }

  private view(s: RunFileSummary): RunView {
    const active = this.activeJobOf(s.id);
    const last = active ?? this.lastJobOf(s.id) ?? null;
    let status: RunStatus;
    let reason: RunView['reason'] = null;
    if (active) status = active.state === 'queued' ? 'queued' : this.stopping.has(s.id) ? 'stopping' : 'running';
    else if (s.lock.state === 'held' && !s.lock.byThisProcess)
      status = 'running'; // another process (aimkp train) writes it
    else if (s.state === 'open' || s.state === 'created') {
      // Started but never ended: the app or the CLI died while it ran (a stale lock says so too).
      status = 'interrupted';
      reason =
        last?.error ??
        (s.lock.state === 'stale'
          ? { code: 'INTERRUPTED', message: s.lock.reason }
          : {
              code: 'INTERRUPTED',
              message: 'the run ended without a run-end event (the process that trained it stopped)',
            });
    } else if (s.state === 'failed') {
      status = 'failed';
      reason = s.error;
    } else if (s.state === 'stopped' && last?.state === 'interrupted') {
      status = 'interrupted';
      reason = last.error;
    } else status = s.state;
    return { ...s, status, job: last, lastSeq: this.hub.logOf(s.id).lastSeq, reason };
  }

  private onJobChange({ job, previous }: JobChange): void {
    const kind = kindOfSpec(job.spec);
    const runId = kind.runOf(job.spec.params);
    const training = kind.trainsRun;
    if (isFinishedJobState(job.state) && runId) this.stopping.delete(runId);
    // A new run stopped or cancelled before it wrote config.json leaves nothing worth keeping: its folder (only
    // run-meta.json) goes, so it is not a half-run nobody can resume.
    if (kind === TRAIN_JOB && (job.state === 'stopped' || job.state === 'cancelled') && runId) {
      const dir = this.registry.dirOf(runId);
      if (!existsSync(join(dir, RUN_FILES.config))) rmSync(dir, { recursive: true, force: true });
    }
    // A lab queue's job (it has a `worker` field) is looked after by the worker process that ran it; a workbench
    // never writes into a run another machine trains. Its run stream is tailed, though, so that every subscriber
    // (the Runs list too) sees its events.
    const labJob = job.worker !== undefined;
    if (labJob && training && runId) this.hub.poke(runId);
    if (
      !labJob &&
      runId &&
      job.state === 'failed' &&
      previous === 'running' &&
      job.error &&
      (job.error.code === 'WORKER_DIED' || job.error.code === 'WORKER_KILLED')
    ) {
      this.recordWorkerDeath(runId, job, training);
    }
    if (kind.reportsOn === 'job' && (previous !== job.state || job.progress))
      this.writeJobStream(job, runId, previous !== job.state);
  }

  /**
   * A worker died while it used a run (training, or an evaluation writing metrics/): the run lock it held (this
   * pid, so it would never look stale) is released; a training's log also says why it ended (an error line).
   */
  private recordWorkerDeath(runId: string, job: JobRecord, training: boolean): void {
    const dir = this.registry.dirOf(runId);
    try {
      const lock = inspectLock(dir);
      if (lock.state === 'held' && lock.byThisProcess && !this.activeJobOf(runId)) breakRunLock(dir, lock.holder.token);
    } catch (err) {
      this.log(`run ${runId}: cannot release the lock of the dead worker: ${(err as Error).message}`);
    }
    if (!training || !existsSync(join(dir, RUN_FILES.config))) return;
    const ev: ErrorEvent = {
      type: 'error',
      time: new Date().toISOString(),
      run: dir,
      message: job.error!.message,
      code: job.error!.code,
    };
    try {
      appendFileSync(join(dir, RUN_FILES.events), JSON.stringify(ev) + '\n');
      this.hub.poke(runId);
    } catch (err) {
      this.log(`run ${runId}: cannot record the worker's death in events.jsonl: ${(err as Error).message}`);
    }
  }

  /** jobs/<id>/events.jsonl: a job's state changes and progress, for jobs that belong to no run stream. */
  private writeJobStream(job: JobRecord, runId: string | null, stateChanged: boolean): void {
    const file = this.streamFile(`job:${job.id}`);
    const lines: string[] = [];
    const time = new Date().toISOString();
    if (stateChanged) {
      const data: JobStateData = {
        jobId: job.id,
        kind: listedKindOf(job),
        state: job.state,
        runId,
        error: job.error,
      };
      lines.push(JSON.stringify({ type: 'job', time, data }));
    } else if (job.progress) {
      lines.push(JSON.stringify(progressEvent(job.progress, time, runId ? this.registry.dirOf(runId) : '')));
    }
    try {
      mkdirSync(join(this.paths.root, 'jobs', job.id), { recursive: true });
      appendFileSync(file, lines.join('\n') + '\n');
      this.hub.poke(`job:${job.id}`);
    } catch (err) {
      this.log(`job ${job.id}: cannot write its event stream: ${(err as Error).message}`);
    }
  }
}

function progressEvent(p: JobProgressSnapshot, time: string, run: string): ProgressEvent {
  return {
    type: 'progress',
    time,
    run,
    phase: p.phase,
    done: p.done,
    total: p.total,
    unit: p.unit,
    message: p.message,
  };
}

function writeMetaSync(dir: string, meta: { name?: string; tags: string[]; origin: 'app'; sweep?: SweepRef }): void {
  const clean: Record<string, unknown> = { tags: meta.tags, origin: meta.origin };
  if (meta.name !== undefined) clean.name = meta.name;
  if (meta.sweep !== undefined) clean.sweep = meta.sweep;
  writeFileAtomicSync(join(dir, RUN_META_FILE), JSON.stringify(clean, null, 2) + '\n');
}

/** How the job list names a queued job's kind (only kinds with a listed name are ever queued). */
export function listedKindOf(job: JobRecord): WireJobKind {
  const kind = kindOfSpec(job.spec);
  if (kind.listedAs === null)
    throw new CoreError('INTERNAL', `job ${job.id}: kind "${kind.name}" runs outside the queue and has no listed name`);
  return kind.listedAs;
}

export function toServiceEvent(streamId: string, e: SeqEvent): ServiceEvent {
  if (e.event.type === 'job')
    return {
      v: EVENT_SCHEMA_VERSION,
      runId: streamId,
      seq: e.seq,
      time: e.event.time,
      kind: 'job',
      data: e.event.data,
    };
  return wrapTrainingEvent(streamId, e.seq, e.event);
}
