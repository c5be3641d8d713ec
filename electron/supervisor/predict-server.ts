// The long-lived prediction worker ("Try it"): one worker thread that keeps the chosen runs' models loaded, so
// a prediction costs the decoding, not the loading. Started on the first request, ended after IDLE_MS without
// one (its memory back), restarted on the next request; a worker that dies fails the requests in flight with
// the reason and the next request starts a fresh one. Runs outside the job queue: it never waits behind a
// training. What it runs is the predict kind of the job-kind table, as a queued job would.
import { Worker } from 'node:worker_threads';
import { jobSpec, PREDICT_JOB } from './job-kinds';
import type { JobOutcome } from './job-queue';
import type { PredictJobParams, PredictJobResult } from './tasks/predict';
import { isFromWorker, type PredictServerInit, type ToWorker } from './worker-protocol';
import type { WorkerEntry } from './worker-runner';
import type { WorkspacePaths, WorkspaceSettings } from './workspace';

export const PREDICT_IDLE_MS = 10 * 60_000;

interface Pending {
  worker: Worker;
  settle: (outcome: JobOutcome) => void;
  reject: (e: Error) => void;
}

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

export class PredictServer {
  private worker: Worker | null = null;
  private backend: WorkspaceSettings['backend'] | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  constructor(
    private readonly o: {
      entry: () => WorkerEntry;
      paths: () => WorkspacePaths;
      backend: () => WorkspaceSettings['backend'];
      idleMs?: number;
      log?: (line: string) => void;
    },
  ) {}

  /** Whether a worker is up (tests). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  predict(params: PredictJobParams, signal?: AbortSignal): Promise<PredictJobResult> {
    if (signal?.aborted) return Promise.reject(failure('ABORTED', 'prediction: stopped by request'));
    const spec = jobSpec(PREDICT_JOB, params);
    const worker = this.ensure();
    const id = this.nextId++;
    this.touch();
    return new Promise<PredictJobResult>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ t: 'cancel', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        worker,
        settle: (outcome) => {
          done();
          // A cancelled prediction still answers with what it has (each run's error says ABORTED).
          if (outcome.state !== 'failed' && outcome.result !== undefined)
            resolve(outcome.result as unknown as PredictJobResult);
          else if (outcome.state === 'failed')
            reject(failure(outcome.error?.code ?? 'INTERNAL', outcome.error?.message ?? 'the prediction failed'));
          else reject(failure('ABORTED', 'prediction: stopped by request'));
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      worker.postMessage({ t: 'run', id, spec } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private ensure(): Worker {
    const backend = this.o.backend();
    if (this.worker && this.backend === backend) return this.worker;
    // A backend change in the settings: the next prediction uses a fresh worker on the new one.
    if (this.worker) void this.close();
    const entry = this.o.entry();
    const paths = this.o.paths();
    const init: PredictServerInit = {
      mode: 'predict-server',
      runsDir: paths.runs,
      datasetsDir: paths.datasets,
      cacheDir: paths.cache,
      backend,
    };
    const worker = new Worker(entry.file, { workerData: init, execArgv: entry.execArgv });
    this.worker = worker;
    this.backend = backend;
    let lastError: Error | null = null;
    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      if (m.t === 'log') this.o.log?.(`[predict] ${m.line}`);
      if (m.t !== 'ran') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.settle(m.outcome);
      this.touch();
    });
    worker.on('error', (err) => (lastError = err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      const why = lastError
        ? `the prediction worker crashed: ${lastError.message}`
        : `the prediction worker exited (code ${code})`;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(failure('WORKER_DIED', why));
      }
    });
    return worker;
  }

  private touch(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.pending.size === 0) void this.close();
    }, this.o.idleMs ?? PREDICT_IDLE_MS);
    this.idle.unref();
  }
}
