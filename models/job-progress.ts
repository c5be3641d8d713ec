// Typed progress of a core job (shared/training-events.ts ProgressEvent): one event per phase change,
// counted updates at most every `minIntervalMs` (the last one of a phase always), and the final done /
// stopped / failed. The CLI turns them into stderr lines; the supervisor forwards them to the UI.
import { isCoreError } from './core-error';
import { isAbortError } from './abort';
import type { ProgressEvent, ProgressListener, ProgressPhase, ProgressUnit } from '../shared/training-events';

/** What every long core job accepts besides its own options. */
export interface JobOptions {
  /** Aborting stops the job at the next batch / image boundary; it then throws a CoreError 'ABORTED'. */
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Informational notes (data issues, capped settings); the CLI prints them to stderr. */
  log?: (line: string) => void;
}

export class JobProgress {
  private phaseName: ProgressPhase = 'preparing';
  private unit: ProgressUnit | null = null;
  private total: number | null = null;
  private label = '';
  private last = 0;

  constructor(
    private readonly run: string,
    private readonly listener: ProgressListener | undefined,
    private readonly minIntervalMs = 250,
  ) {}

  /** Enters a phase (emitted at once). `total` and `unit` make later update() calls counted; `done` starts at 0. */
  phase(
    phase: ProgressPhase,
    message: string,
    total: number | null = null,
    unit: ProgressUnit | null = null,
    done = 0,
  ): void {
    this.phaseName = phase;
    this.total = total;
    this.unit = unit;
    this.label = message;
    this.last = performance.now();
    this.emit({ done: total === null ? null : done, message });
  }

  /** `done` of the phase's total; throttled except for the last one. */
  update(done: number, detail = '', images?: ProgressEvent['images']): void {
    const now = performance.now();
    if (this.total !== null && done < this.total && now - this.last < this.minIntervalMs) return;
    this.last = now;
    this.emit({ done, message: detail === '' ? this.label : `${this.label} ${detail}`, images });
  }

  done(message = 'done'): void {
    this.phaseName = 'done';
    this.total = null;
    this.unit = null;
    this.emit({ done: null, message });
  }

  /** Reports the error that ends the job ('stopped' for an abort) and returns it, for `throw progress.fail(err)`. */
  fail(err: unknown): unknown {
    const stopped = isAbortError(err);
    this.phaseName = stopped ? 'stopped' : 'failed';
    this.total = null;
    this.unit = null;
    const message = err instanceof Error ? err.message : String(err);
    this.emit({ done: null, message, error: { code: isCoreError(err) ? err.code : 'INTERNAL', message } });
    return err;
  }

  private emit(
    fields: Pick<ProgressEvent, 'done' | 'message'> & Partial<Pick<ProgressEvent, 'images' | 'error'>>,
  ): void {
    if (this.listener === undefined) return;
    const e: ProgressEvent = {
      type: 'progress',
      time: new Date().toISOString(),
      run: this.run,
      phase: this.phaseName,
      done: fields.done,
      total: this.total,
      unit: this.unit,
      message: fields.message,
    };
    if (fields.images !== undefined) e.images = fields.images;
    if (fields.error !== undefined) e.error = fields.error;
    this.listener(e);
  }
}

/** Runs a job body, reporting its failure (or stop) through `progress` before rethrowing. */
export async function withJobProgress<T>(progress: JobProgress, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw progress.fail(err);
  }
}
