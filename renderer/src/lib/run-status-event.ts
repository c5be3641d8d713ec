// A run's status as one live event says it is now, before the coalesced runs.list reload (300 ms later) confirms it:
// without it the status bar counted a run that had just failed as running for that long.
import type { RunSummary, ServiceEvent } from '@shared/contract/service';

type Status = RunSummary['status'];

/** The status `e` implies for its run, or null when it implies none (the list reload decides). */
export function statusFromEvent(e: ServiceEvent): Status | null {
  if (e.kind === 'run-end') return e.data.status;
  // A stop ends a training with an ABORTED error event (resumable: the run registry reads it as stopped).
  if (e.kind === 'error') return e.data.code === 'ABORTED' ? 'stopped' : 'failed';
  if (e.kind === 'job' && e.data.kind === 'train') {
    const s = e.data.state;
    if (s === 'failed' || s === 'interrupted' || s === 'stopped' || s === 'completed') return s;
  }
  return null;
}
