// The long-lived prediction worker ("Try it"): one worker thread that keeps the chosen runs' models loaded, so
// a prediction costs the decoding, not the loading. Started on the first request, ended after IDLE_MS without
// one (its memory back), restarted on the next request; a worker that dies fails the requests in flight with
// the reason and the next request starts a fresh one. Runs outside the job queue: it never waits behind a
// training.
import { Worker } from 'node:worker_threads';
import { isFromWorker, type PredictServerInit, type ToWorker } from './worker-protocol';
import type { PredictTaskParams, PredictTaskResult } from './service-tasks';
import type { WorkerEntry } from './worker-runner';
import type { WorkspaceSettings } from './workspace';

export const PREDICT_IDLE_MS = 10 * 60_000;

interface Pending {
  worker: Worker;
  resolve: (r: PredictTaskResult) => void;
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
      cacheDir: () => string;
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

  predict(params: PredictTaskParams, signal?: AbortSignal): Promise<PredictTaskResult> {
    if (signal?.aborted) return Promise.reject(failure('ABORTED', 'prediction: stopped by request'));
    const worker = this.ensure();
    const id = this.nextId++;
    this.touch();
    return new Promise<PredictTaskResult>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ t: 'cancel', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        worker,
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      worker.postMessage({ t: 'predict', id, params } satisfies ToWorker);
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
    const init: PredictServerInit = { mode: 'predict-server', cacheDir: this.o.cacheDir(), backend };
    const worker = new Worker(entry.file, { workerData: init, execArgv: entry.execArgv });
    this.worker = worker;
    this.backend = backend;
    let lastError: Error | null = null;
    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      if (m.t === 'log') this.o.log?.(`[predict] ${m.line}`);
      if (m.t !== 'predicted' && m.t !== 'predict-failed') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.t === 'predicted') p?.resolve(m.result);
      else p?.reject(failure(m.error.code, m.error.message));
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
