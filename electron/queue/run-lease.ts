// A run trained under a lab job's lease. BullMQ's lease is the job's lock key in Redis (its value the worker's
// token, renewed every lockDuration / 2). The worker writes the lease into the run's lock file (models/run/run-lock.ts),
// so that whoever finds that lock asks Redis instead of a pid on another host: the lock is held while the lock key
// still holds the token. And the worker shares with the training thread when the lease was last renewed, so that
// the thread writes nothing once it may have been taken over (the fence, models' setRunWriteFence).
import { mkdirSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { acquireRunLock, inspectLock, type RunLease, type RunLock } from '../../models/index';

/** Is the lease still held? (the job's lock key still holds the token) */
export async function leaseHeld(redis: Redis, lease: RunLease): Promise<boolean> {
  return (await redis.get(`${lease.queueKey}:${lease.jobId}:lock`)) === lease.token;
}

/**
 * What the main thread shares with the training thread about the lease (job-queue.ts JobRunOptions.lease): the
 * Date.now() of the last acknowledged renewal (BigInt64 at byte 0) and "lost" (Int32 at byte 8).
 */
export class LeaseState {
  readonly buffer = new SharedArrayBuffer(16);
  private readonly renewedAt = new BigInt64Array(this.buffer, 0, 1);
  private readonly lost = new Int32Array(this.buffer, 8, 1);

  constructor() {
    this.renewed();
  }

  renewed(at = Date.now()): void {
    Atomics.store(this.renewedAt, 0, BigInt(Math.round(at)));
  }

  /** The lease is gone (a renewal failed, or it is too old): nothing more may be written. */
  close(): void {
    Atomics.store(this.lost, 0, 1);
  }

  get closed(): boolean {
    return Atomics.load(this.lost, 0) === 1;
  }

  /** Milliseconds since the last acknowledged renewal. */
  ageMs(now = Date.now()): number {
    return now - Number(Atomics.load(this.renewedAt, 0));
  }
}

/**
 * Takes the run's writer lock under `lease` (creating the folder if needed). A lock held under another lease is
 * stale when Redis no longer holds that lease (the worker died, was cut off, or its job ended): it is taken over.
 * Throws RUN_LOCKED naming the holder otherwise.
 */
export async function takeRunLockUnderLease(
  runDir: string,
  lease: RunLease,
  redis: Redis,
  command: string,
): Promise<RunLock> {
  mkdirSync(runDir, { recursive: true });
  const seen = inspectLock(runDir);
  const held = seen.state === 'held' || seen.state === 'stale' ? seen.holder.lease : undefined;
  // Asked once, before the (synchronous) lock protocol, which then judges exactly that lease with the answer.
  const alive = held ? await leaseHeld(redis, held) : null;
  return acquireRunLock(runDir, {
    command,
    lease,
    leaseAlive: (l) => (held && l.token === held.token && l.jobId === held.jobId ? alive : null),
  });
}
