// Stopping long core jobs: a stop takes effect at the next unit boundary (optimizer step, batch of
// decoding, image). The work between boundaries is synchronous TF.js code, so the job must hand the event
// loop a turn at each boundary, or an abort fired from a timer or an IPC message would not run until the
// job ends.
import { CoreError } from './core-error';

/** The error an aborted evaluation, prediction or encoding job throws (training returns status 'stopped' instead). */
export function abortedError(what: string): CoreError {
  return new CoreError('ABORTED', `${what}: stopped by request`, { operation: what });
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(what);
}

/**
 * One event-loop turn through the timers phase (a 0 ms timeout, not setImmediate: an immediate scheduled from
 * the poll phase runs before due timers, so a timer-fired abort could be missed for one more unit of work).
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A unit boundary: lets pending callbacks (a stop request among them) run, then throws ABORTED if stopped. */
export async function checkpointAbort(signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal === undefined) return;
  await yieldToEventLoop();
  throwIfAborted(signal, what);
}

export function isAbortError(err: unknown): boolean {
  return err instanceof CoreError && err.code === 'ABORTED';
}
