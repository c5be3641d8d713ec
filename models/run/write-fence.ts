// A fence on the writes into run folders, per thread. A lab worker (electron/queue/) runs a training under a
// lease it must keep renewing; once its last renewal is too old, another worker may already own the run, so this
// thread must not write one more byte into it (events.jsonl, config.json, checkpoints). The worker installs a check
// here; the run-folder writers call it before each write. Nothing is installed in the CLI or the in-process
// queue's workers: the check is then free.
import { CoreError } from '../core-error';

/** Returns why writing is no longer allowed, or null while it is. Must be cheap and synchronous. */
export type RunWriteFence = () => string | null;

let fence: RunWriteFence | null = null;

/** Installs (or with null removes) this thread's fence. */
export function setRunWriteFence(check: RunWriteFence | null): void {
  fence = check;
}

/** Throws RUN_LOCKED (nothing is written) when this thread's fence is closed. */
export function checkRunWriteFence(operation: string, path: string): void {
  const why = fence?.();
  if (why == null) return;
  throw new CoreError('RUN_LOCKED', `${path}: not writing (${operation}): ${why}`, {
    path,
    operation,
    reason: 'lease-lost',
    hint: 'another worker has taken the run over (or will): it resumes from the last checkpoint',
  });
}
