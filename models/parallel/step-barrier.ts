// The two meeting points of a data-parallel optimizer step, on counters in shared memory rather than messages:
// WRITTEN (every rank's gradient is in its slot: the range sums may read them) and SUMMED (every range of the sum is
// written: every rank may read all of it). Each rank adds 1 to a phase's counter and waits until it reaches
// seq · K (the counters only grow, so no reset between steps). Workers block in Atomics.wait (no spinning: a waiting
// rank leaves its core to the others); rank 0 waits with Atomics.waitAsync, so its event loop still sees a worker
// that dies. A rank that fails sets ABORTED and wakes everyone, so no rank waits for a gradient that never comes.
/// <reference lib="es2024.sharedmemory" />
import { CoreError } from '../core-error';

export const WRITTEN = 0;
export const SUMMED = 1;
const ABORTED = 2;
const FIELDS = 3;

export type StepPhase = typeof WRITTEN | typeof SUMMED;

/** The shared counters of a replica set (one per setModel: a new model starts at generation 0). */
export function newStepControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(FIELDS * 4));
}

/** The message of the error a rank throws when another failed (the other's error is the one to report). */
export const STEP_ABORTED = 'data-parallel step: another rank failed';

function aborted(phase: StepPhase): CoreError {
  return new CoreError(
    'INTERNAL',
    `${STEP_ABORTED} while this one waited for ${phase === WRITTEN ? 'the gradients' : 'the summed gradient'}`,
  );
}

/** Workers: arrive at `phase` of step `seq` and block until all `ranks` have. */
export function arriveAndWait(control: Int32Array, phase: StepPhase, seq: number, ranks: number): void {
  const target = seq * ranks;
  let seen = Atomics.add(control, phase, 1) + 1;
  if (seen === target) Atomics.notify(control, phase);
  while (seen < target) {
    if (Atomics.load(control, ABORTED) !== 0) throw aborted(phase);
    Atomics.wait(control, phase, seen);
    seen = Atomics.load(control, phase);
  }
  if (Atomics.load(control, ABORTED) !== 0) throw aborted(phase);
}

/**
 * Rank 0: arrive at `phase` of step `seq` and wait (without blocking the event loop) until all `ranks` have, or
 * until `failed` rejects (a worker's reply carrying its error, or the pool's WORKER_DIED).
 */
export async function arrive(
  control: Int32Array,
  phase: StepPhase,
  seq: number,
  ranks: number,
  failed: Promise<never>,
): Promise<void> {
  const target = seq * ranks;
  let seen = Atomics.add(control, phase, 1) + 1;
  if (seen === target) Atomics.notify(control, phase);
  while (seen < target) {
    if (Atomics.load(control, ABORTED) !== 0) throw aborted(phase);
    const w = Atomics.waitAsync(control, phase, seen);
    if (w.async) await Promise.race([w.value, failed]);
    seen = Atomics.load(control, phase);
  }
  if (Atomics.load(control, ABORTED) !== 0) throw aborted(phase);
}

/** A rank failed mid-step: every waiting rank wakes and fails too (the job then ends or calls setModel again). */
export function abortStep(control: Int32Array): void {
  Atomics.store(control, ABORTED, 1);
  Atomics.notify(control, WRITTEN);
  Atomics.notify(control, SUMMED);
}
