// The lab queue's knobs and key names, in one place: the lease (BullMQ's job lock) and how fast a dead worker's job
// is taken over, retries, retention, and where our own keys live in Redis.

export interface LabSettings {
  /** The lease: a job's lock lives this long unless renewed (BullMQ renews it every lockDuration / 2). */
  lockDuration: number;
  /** How often (across all workers) running jobs are checked for expired locks. */
  stalledInterval: number;
  /** A job whose worker died more often than this fails (WORKER_DIED) instead of being taken over again. */
  maxStalledCount: number;
  /** Tries of a job that fails with an error (each later try resumes the run from its checkpoint). */
  attempts: number;
  /** First retry after this long, doubling. */
  backoffMs: number;
  /** Finished jobs kept in Redis (per state), and for how long. */
  keepFinished: number;
  keepFinishedAgeS: number;
  /** Progress written into Redis at most this often per job. */
  progressEveryMs: number;
  /** A job this worker cannot see the inputs of goes back for this long; after maxRefusals refusals it fails. */
  refuseDelayMs: number;
  maxRefusals: number;
  /** How often a workbench re-reads the whole job list from Redis (events missed while disconnected). */
  resyncMs: number;
}

/**
 * Measured (docs/sweeps.md): kill -9 of a worker → another resumes the run after ≤ lockDuration + stalledInterval
 * (≈ 23 s with these; ≈ 43 s with BullMQ's defaults of 30 s / 15 s). Training runs in worker threads, so the event
 * loop that renews the lock stays free. A worker stops writing once its last renewal is older than 3/4 of
 * lockDuration (15 s: also the longest Redis outage that running trainings ride out; after a longer one they go
 * back to the queue and resume from their checkpoints).
 */
export const RECOMMENDED: LabSettings = {
  lockDuration: 20_000,
  stalledInterval: 5_000,
  maxStalledCount: 2,
  attempts: 3,
  backoffMs: 10_000,
  keepFinished: 5_000,
  keepFinishedAgeS: 30 * 24 * 3600,
  progressEveryMs: 500,
  refuseDelayMs: 5_000,
  maxRefusals: 20,
  resyncMs: 30_000,
};

/** The fence: a worker writes nothing more into a run once its lease was last renewed this long ago. */
export function fenceAfterMs(s: Pick<LabSettings, 'lockDuration'>): number {
  // Renewals come every lockDuration / 2; nobody can take the job over before lockDuration (+ a stalled check).
  return Math.round((s.lockDuration * 3) / 4);
}

/** Where the lab's keys live. Every workbench and worker of one lab uses the same. */
export interface LabKeys {
  /** BullMQ's key prefix: its keys are `${prefix}:${queue}:…`. */
  prefix: string;
  /** The BullMQ queue of training jobs. */
  queue: string;
  /** Our own keys: `${ns}:ctl:<jobId>`, `${ns}:ev:<runId>`, `${ns}:cancelled:<queue>`, `${ns}:refusals:<jobId>`. */
  ns: string;
}

export const LAB_KEYS: LabKeys = { prefix: 'aimkp:q', queue: 'runs', ns: 'aimkp' };

/** BullMQ's lock key of a job (what a run lock's lease names). */
export function queueKeyOf(k: LabKeys): string {
  return `${k.prefix}:${k.queue}`;
}

/** Settings from a partial override, every value checked (the worker CLI's flags). */
export function labSettings(over: Partial<LabSettings> = {}): LabSettings {
  const s = { ...RECOMMENDED, ...over };
  for (const [k, v] of Object.entries(s))
    if (!Number.isFinite(v) || v < 0) throw new Error(`lab setting ${k}: expected a number ≥ 0, got ${String(v)}`);
  if (s.attempts < 1) throw new Error('lab setting attempts: at least 1');
  if (s.lockDuration < 1000) throw new Error('lab setting lockDuration: at least 1000 ms');
  return s;
}
