// Runs each job in its own worker thread: a job that throws, runs out of memory or is killed takes only its
// worker down; the supervisor records the reason and goes on. A stop is a shared-memory flag (seen between two
// training steps even while the worker's event loop is busy) plus a message.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { runOfSpec } from './job-kinds';
import type { JobOutcome, JobRunner, JobRunOptions, RunningJob } from './job-queue';
import type { JobProgressSnapshot, JobRecord } from './jobs';
import { isFromWorker, type ToWorker, type WorkerInit } from './worker-protocol';
import type { WorkspacePaths, WorkspaceSettings } from './workspace';

export interface WorkerEntry {
  /** File (path or file: URL) of the worker script. */
  file: string | URL;
  /** Node flags for the worker (['--import', 'tsx'] for a .ts entry). */
  execArgv: string[];
}

/**
 * The worker script next to this module: worker-dev.mjs (which loads worker-entry.ts through tsx) when running
 * from source (tests, tsx), worker.js when bundled (dist-electron/ holds main.js and worker.js side by side).
 */
export function defaultWorkerEntry(): WorkerEntry {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { file: new URL('./worker-dev.mjs', here), execArgv: [] };
  const bundled = new URL('./worker.js', here);
  if (existsSync(fileURLToPath(bundled))) return { file: bundled, execArgv: [] };
  return { file: new URL('./worker-entry.js', here), execArgv: [] };
}

export interface WorkerRunnerOptions {
  paths: WorkspacePaths;
  settings: () => WorkspaceSettings;
  entry?: WorkerEntry;
  /** A worker wrote to runs/<runId>/events.jsonl. */
  onPoke: (runId: string) => void;
  onLog?: (jobId: string, line: string) => void;
  /** Old-generation heap cap per worker in MB (undefined = Node's default). */
  maxOldGenerationSizeMb?: number;
}

/** The worker of each running job, for tests and for `kill`. */
export class WorkerJobRunner implements JobRunner {
  readonly workers = new Map<string, Worker>();

  constructor(private readonly options: WorkerRunnerOptions) {}

  start(job: JobRecord, onProgress: (p: JobProgressSnapshot) => void, options: JobRunOptions = {}): RunningJob {
    const runId = runOfSpec(job.spec);
    const entry = this.options.entry ?? defaultWorkerEntry();
    const stopFlag = new SharedArrayBuffer(4);
    const init: WorkerInit = {
      mode: 'job',
      jobId: job.id,
      spec: job.spec,
      runsDir: this.options.paths.runs,
      datasetsDir: this.options.paths.datasets,
      cacheDir: this.options.paths.cache,
      backend: this.options.settings().backend,
      stopFlag,
      runLockHeld: options.runLockHeld === true,
      lease: options.lease ?? null,
    };
    const worker = new Worker(entry.file, {
      workerData: init,
      execArgv: entry.execArgv,
      resourceLimits: this.options.maxOldGenerationSizeMb
        ? { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb }
        : undefined,
      stdout: false,
      stderr: false,
    });
    this.workers.set(job.id, worker);
    let settled = false;
    let killedFor: string | null = null;
    let lastError: Error | null = null;
    let resolveDone!: (o: JobOutcome) => void;
    const done = new Promise<JobOutcome>((r) => (resolveDone = r));
    const finish = (o: JobOutcome) => {
      if (settled) return;
      settled = true;
      this.workers.delete(job.id);
      resolveDone(o);
    };

    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      switch (m.t) {
        case 'poke':
          this.options.onPoke(m.runId);
          break;
        case 'progress':
          onProgress(m.progress);
          break;
        case 'log':
          this.options.onLog?.(job.id, m.line);
          break;
        case 'done':
          if (runId) this.options.onPoke(runId);
          finish(m.outcome);
          void worker.terminate();
          break;
      }
    });
    worker.on('error', (err) => {
      // Uncaught exception or ERR_WORKER_OUT_OF_MEMORY: the thread is gone; 'exit' follows.
      lastError = err;
    });
    worker.on('exit', (code) => {
      if (runId) this.options.onPoke(runId);
      const why =
        killedFor ??
        (lastError ? describeWorkerError(lastError) : `the worker exited with code ${code} before the job finished`);
      finish({ state: 'failed', error: { code: killedFor ? 'WORKER_KILLED' : 'WORKER_DIED', message: why } });
    });

    const stop = () => {
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      const m: ToWorker = { t: 'stop' };
      worker.postMessage(m);
    };
    const kill = (reason: string) => {
      if (settled) return;
      killedFor = reason;
      void worker.terminate();
    };
    return { stop, kill, done };
  }
}

function describeWorkerError(err: Error): string {
  const code = (err as Error & { code?: string }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY')
    return 'the worker ran out of memory (the JavaScript heap limit); try a smaller batch size or model';
  return `the worker crashed: ${err.message}`;
}
