// The worker threads of data parallelism: ranks 1..K-1 (rank 0 is the calling thread). Requests are numbered;
// a worker answers each with a reply (or an error, which stays that request's failure). A worker that dies — an
// uncaught exception, out of memory, terminate() — fails every pending and later request with a CoreError
// 'WORKER_DIED' that names its rank, so a job never waits on a dead thread. close() terminates every worker.
import { Worker } from 'node:worker_threads';
import { CoreError, isCoreError, type CoreErrorCode, CORE_ERROR_CODES } from '../core-error';
import { poolWorkerEntry } from './pool-entry';
import type { EncodeProgress } from '../vision/feature-cache';
import type { FromPoolWorker, PoolRequest, PoolWorkerInit, ToPoolWorker } from './pool-protocol';

interface Pending {
  rank: number;
  kind: PoolRequest['t'];
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (p: EncodeProgress) => void;
}

/** Test hooks: see every pool started and every request posted (e.g. to terminate a worker mid-step). */
export interface PoolObserver {
  started?(pool: WorkerPool): void;
  posted?(pool: WorkerPool, rank: number, kind: PoolRequest['t']): void;
}

let observer: PoolObserver | null = null;

/** Tests only: observe the pools started from now on (null stops observing). */
export function observePools(o: PoolObserver | null): void {
  observer = o;
}

export interface PoolOptions {
  /** K: rank 0 plus K-1 worker threads. */
  ranks: number;
  backend: PoolWorkerInit['backend'];
  /** The worker script (default: pool-entry.ts's). */
  entry?: URL;
}

export class WorkerPool {
  readonly ranks: number;
  /** Resolves when every worker has its backend (rejects with the first failure). */
  readonly ready: Promise<void>;
  private readonly workers: (Worker | null)[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: CoreError | null = null;
  private closing = false;
  private readonly exited: Promise<void>[] = [];

  constructor(options: PoolOptions) {
    this.ranks = options.ranks;
    const entry = options.entry ?? poolWorkerEntry();
    this.workers = [null];
    const readies: Promise<void>[] = [];
    for (let rank = 1; rank < options.ranks; rank++) {
      const init: PoolWorkerInit = { rank, ranks: options.ranks, backend: options.backend };
      const worker = new Worker(entry, { workerData: init });
      this.workers.push(worker);
      readies.push(this.watch(worker, rank));
    }
    this.ready = Promise.all(readies).then(() => undefined);
    // The failure reaches whoever awaits a request; an unobserved `ready` must not crash the process.
    this.ready.catch(() => undefined);
    observer?.started?.(this);
  }

  /** Sends `request` to `rank`; resolves with its reply. `transfer`: buffers handed over (not copied). */
  request<T>(
    rank: number,
    request: PoolRequest,
    options: { transfer?: ArrayBuffer[]; onProgress?: (p: EncodeProgress) => void } = {},
  ): { id: number; reply: Promise<T> } {
    const worker = this.workers[rank];
    if (rank < 1 || rank >= this.ranks || worker === undefined)
      throw new CoreError('INTERNAL', `data-parallel pool: no worker of rank ${rank} (ranks 1..${this.ranks - 1})`);
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (worker === null || this.closing)
        return reject(new CoreError('INTERNAL', `data-parallel pool: used after close (rank ${rank})`));
      this.pending.set(id, {
        rank,
        kind: request.t,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: options.onProgress,
      });
      const message: ToPoolWorker = { t: 'request', id, request };
      worker.postMessage(message, options.transfer ?? []);
    });
    // Callers that stop listening (an aborted decode) must not leave an unhandled rejection behind.
    reply.catch(() => undefined);
    observer?.posted?.(this, rank, request.t);
    return { id, reply };
  }

  /** Asks the worker to stop the request (image encoding looks at it between images). */
  cancel(rank: number, id: number): void {
    const m: ToPoolWorker = { t: 'cancel', id };
    this.workers[rank]?.postMessage(m);
  }

  /** The failure that ended the pool (a worker died), if any. */
  get failed(): CoreError | null {
    return this.failure;
  }

  /** Worker threads still running. */
  get live(): number {
    return this.workers.filter((w) => w !== null).length;
  }

  /** Tests: kills one worker as a crash would (its requests then fail with WORKER_DIED). */
  terminateRank(rank: number): Promise<number> {
    const w = this.workers[rank];
    if (!w) return Promise.resolve(0);
    return w.terminate();
  }

  /** Terminates every worker and waits until they are gone; pending requests fail. Idempotent. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      for (const w of this.workers) void w?.terminate();
      this.rejectAll(this.failure ?? new CoreError('ABORTED', 'data-parallel pool closed'));
    }
    await Promise.all(this.exited);
  }

  private watch(worker: Worker, rank: number): Promise<void> {
    let lastError: Error | null = null;
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
    worker.on('message', (m: FromPoolWorker) => {
      switch (m.t) {
        case 'ready':
          resolveReady();
          break;
        case 'init-failed': {
          const err = new CoreError(
            codeOf(m.error.code, 'BACKEND_UNAVAILABLE'),
            `data-parallel worker rank ${rank}: ${m.error.message}`,
          );
          this.fail(err);
          rejectReady(err);
          break;
        }
        case 'progress':
          this.pending.get(m.id)?.onProgress?.(m.value);
          break;
        case 'reply': {
          const p = this.pending.get(m.id);
          if (!p) break;
          this.pending.delete(m.id);
          if (m.ok) p.resolve(m.value);
          else {
            const err = new CoreError(
              codeOf(m.error.code, 'INTERNAL'),
              `data-parallel worker rank ${rank}: ${m.error.message}`,
            );
            if (m.error.stack) err.stack = `${err.message}\n(worker stack) ${m.error.stack}`;
            p.reject(err);
          }
          break;
        }
      }
    });
    worker.on('error', (err) => {
      lastError = err;
    });
    this.exited.push(
      new Promise<void>((resolve) =>
        worker.once('exit', (code) => {
          this.workers[rank] = null;
          if (!this.closing) {
            const why = lastError
              ? describeWorkerError(lastError)
              : `exited with code ${code}${code === 1 ? ' (terminated)' : ''}`;
            const busy = [...this.pending.values()].find((p) => p.rank === rank);
            const err = new CoreError(
              'WORKER_DIED',
              `data-parallel worker rank ${rank} of ${this.ranks} died${busy ? ` during a ${busy.kind} request` : ''}: ${why}; the job stopped (resume a training with --resume, or rerun with --workers 1)`,
              { rank },
            );
            this.fail(err);
            rejectReady(err);
          }
          resolve();
        }),
      ),
    );
    return ready;
  }

  private fail(err: CoreError): void {
    if (this.failure === null) this.failure = err;
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

function codeOf(code: string, fallback: CoreErrorCode): CoreErrorCode {
  return (CORE_ERROR_CODES as readonly string[]).includes(code) ? (code as CoreErrorCode) : fallback;
}

function describeWorkerError(err: Error): string {
  const code = (err as Error & { code?: string }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return 'out of memory (the JavaScript heap limit)';
  return isCoreError(err) ? err.message : `uncaught ${err.name}: ${err.message}`;
}
