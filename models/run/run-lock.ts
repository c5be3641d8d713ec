// One writer per run folder. A writer (training, resume, evaluation writing metrics/ or predictions/) holds
// RUN/run.lock, a small JSON file created with O_EXCL: { pid, host, startedAt, command, token }. A second
// writer is refused with a RUN_LOCKED error naming the holder. A lock whose process is gone (same host, pid
// not alive, or the pid now belongs to a process started after the lock) is stale: it is taken over, and
// the caller is told so. Takeover goes through a short-lived RUN/run.lock.takeover file (also O_EXCL), so
// two processes that both find the same stale lock cannot both take it.
//
// Readers (the supervisor listing runs) call inspectLock(): 'held' = a live writer (running), 'stale' = its
// writer died (interrupted), 'free' = nobody.
//
// Across machines (a shared workspace on NFS/SMB, jobs from a lab queue) a pid says nothing about another host.
// A queue worker therefore writes a `lease` into the lock: the queue job and the token of the Redis lock it holds
// the job under. Whoever can ask the queue (`leaseAlive`) lets the lease decide: held while the queue says the
// token still holds the job, stale once it does not (the worker died or was cut off and the queue moved the job),
// from any host and whatever the pid. Without an answer from the queue the pid rule applies on the lock's own
// host, and a lock of another host is assumed alive.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CoreError, fromFsError, systemErrorCode } from '../core-error';

export const LOCK_FILE = 'run.lock';
const TAKEOVER_FILE = 'run.lock.takeover';
/** A takeover file older than this whose process is gone is itself removed (the taker died mid-takeover). */
const TAKEOVER_STALE_MS = 10_000;
/** An unreadable lock file younger than this may be one being written: it is not replaced yet. */
const UNREADABLE_GRACE_MS = 5_000;

/** The queue job a lock is held under (electron/queue/): its Redis lock key's prefix, the job and its lock token. */
export interface RunLease {
  /** BullMQ key prefix + queue name, e.g. "aimkp:q:runs": the job's lock key is `${queueKey}:${jobId}:lock`. */
  queueKey: string;
  jobId: string;
  token: string;
}

/**
 * Does the queue still hold this lease? true: alive; false: gone (the lock is stale); null: cannot tell (no queue
 * here, or it has not loaded yet): the pid rule decides.
 */
export type LeaseJudge = (lease: RunLease) => boolean | null;

/** What RUN/run.lock holds. */
export interface RunLockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** What holds it, e.g. "aimkp train --resume" or "supervisor: train job 12". */
  command: string;
  /** Random id of this acquisition (so a release never removes someone else's lock). */
  token: string;
  /** Held under a lab queue's job: its lease decides whether the holder lives (see the top of this file). */
  lease?: RunLease;
}

export type LockState =
  /** No lock file. */
  | { state: 'free' }
  /** A live process holds it (on another host: assumed live). */
  | { state: 'held'; holder: RunLockInfo; byThisProcess: boolean }
  /** The holder is gone: the run was interrupted; the next writer takes the lock over. */
  | { state: 'stale'; holder: RunLockInfo; reason: string }
  /** The lock file cannot be read as a lock (e.g. emptied by a crash while it was written). */
  | { state: 'unreadable'; reason: string; ageMs?: number };

export interface RunLock {
  readonly runDir: string;
  readonly info: RunLockInfo;
  /** Set when this acquisition took over a stale lock: a line saying whose and why. */
  readonly tookOver: string | null;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): void;
}

function lockPath(runDir: string): string {
  return join(runDir, LOCK_FILE);
}

function parseLease(v: unknown): RunLease | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const l = v as Partial<RunLease>;
  if (typeof l.queueKey !== 'string' || typeof l.jobId !== 'string' || typeof l.token !== 'string') return undefined;
  return { queueKey: l.queueKey, jobId: l.jobId, token: l.token };
}

function parseLock(text: string): RunLockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<RunLockInfo>;
    if (
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.startedAt === 'string' &&
      typeof v.command === 'string' &&
      typeof v.token === 'string'
    ) {
      const info: RunLockInfo = {
        pid: v.pid,
        host: v.host,
        startedAt: v.startedAt,
        command: v.command,
        token: v.token,
      };
      const lease = parseLease(v.lease);
      if (lease) info.lease = lease;
      return info;
    }
  } catch {
    /* not JSON */
  }
  return null;
}

function readLock(file: string): { info: RunLockInfo | null; mtimeMs: number } | null {
  try {
    const text = readFileSync(file, 'utf8');
    const mtimeMs = statSync(file).mtimeMs;
    return { info: parseLock(text), mtimeMs };
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return null;
    throw fromFsError(err, 'read the run lock', file);
  }
}

/** Linux: when the process `pid` started (ms since the epoch), from /proc; null where /proc is not there. */
function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) comes after the parenthesised command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!Number.isFinite(ticks) || !btime) return null;
    // USER_HZ is 100 on every Linux configuration Node supports.
    return Number(btime[1]) * 1000 + (ticks / 100) * 1000;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return systemErrorCode(err) === 'EPERM';
  }
}

/** Why `holder` is stale, or null when its process is (or may be) alive. */
function staleReason(holder: RunLockInfo, leaseAlive?: LeaseJudge): string | null {
  if (holder.lease && leaseAlive) {
    const alive = leaseAlive(holder.lease);
    if (alive === true) return null;
    if (alive === false)
      return `its lease on queue job ${holder.lease.jobId} is gone (the job ended, or the queue found its worker dead and moved it)`;
  }
  if (holder.host !== hostname()) return null; // another machine: cannot check, assume alive
  if (!pidAlive(holder.pid)) return `process ${holder.pid} on ${holder.host} is no longer running`;
  const started = processStartMs(holder.pid);
  const lockedAt = Date.parse(holder.startedAt);
  // The pid was reused: the live process started after the lock was taken (2 s slack for clock rounding).
  if (started !== null && Number.isFinite(lockedAt) && started > lockedAt + 2000)
    return `process ${holder.pid} on ${holder.host} is a newer process than the one that took the lock`;
  return null;
}

export function describeHolder(h: RunLockInfo): string {
  return `"${h.command}" (pid ${h.pid} on ${h.host}, since ${h.startedAt}${h.lease ? `, queue job ${h.lease.jobId}` : ''})`;
}

/**
 * What the lock of `runDir` says: free, held by a live writer, or stale (its writer died). Never changes anything.
 * `leaseAlive` judges locks held under a queue lease (see the top of this file).
 */
export function inspectLock(runDir: string, options: { leaseAlive?: LeaseJudge } = {}): LockState {
  const got = readLock(lockPath(runDir));
  if (got === null) return { state: 'free' };
  if (got.info === null)
    return {
      state: 'unreadable',
      reason: `${lockPath(runDir)} is not a valid lock file`,
      ageMs: Date.now() - got.mtimeMs,
    };
  const reason = staleReason(got.info, options.leaseAlive);
  if (reason !== null) return { state: 'stale', holder: got.info, reason };
  return {
    state: 'held',
    holder: got.info,
    byThisProcess: got.info.pid === process.pid && got.info.host === hostname(),
  };
}

/** Tokens of the locks this process holds, released at exit (a clean exit or an uncaught error; kill -9 leaves a stale lock). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [file, token] of held) removeIfOurs(file, token);
  });
}

function removeIfOurs(file: string, token: string): void {
  try {
    const got = readLock(file);
    if (got?.info?.token === token) rmSync(file, { force: true });
  } catch {
    /* best effort at exit */
  }
  held.delete(file);
}

/** O_EXCL create of `file` with `text`; false if it exists. */
function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if (systemErrorCode(err) === 'EEXIST') return false;
    throw fromFsError(err, 'create the run lock', file);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw fromFsError(err, 'write the run lock', file);
  }
  closeSync(fd);
  return true;
}

export interface AcquireOptions {
  /** Shown to whoever is refused, e.g. "aimkp train". */
  command: string;
  /** Held under this queue job (written into the lock; electron/queue/). */
  lease?: RunLease;
  /** Judges a lock found held under a lease (see inspectLock). */
  leaseAlive?: LeaseJudge;
}

/**
 * Takes the writer lock of `runDir` (which must exist). Throws CoreError RUN_LOCKED naming the holder when
 * a live writer has it (this process included: one writer per run, even across worker threads). A stale
 * lock is taken over; `tookOver` says whose it was.
 */
export function acquireRunLock(runDir: string, options: AcquireOptions): RunLock {
  const file = lockPath(runDir);
  if (!existsSync(runDir))
    throw new CoreError('NOT_FOUND', `run folder "${runDir}" does not exist`, {
      path: runDir,
      operation: 'lock the run',
    });
  const info: RunLockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command,
    token: randomBytes(8).toString('hex'),
  };
  if (options.lease) info.lease = options.lease;
  const text = JSON.stringify(info) + '\n';
  let tookOver: string | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, text)) {
      held.set(file, info.token);
      installExitHook();
      return makeLock(runDir, file, info, tookOver);
    }
    const current = inspectLock(runDir, options);
    if (current.state === 'free') continue; // released between our create and our read: try again
    if (current.state === 'held') {
      throw new CoreError(
        'RUN_LOCKED',
        `${runDir}: the run is in use by ${describeHolder(current.holder)}; wait for it to finish or stop it, then try again`,
        {
          path: file,
          operation: 'lock the run',
          holderPid: current.holder.pid,
          holderHost: current.holder.host,
          holderCommand: current.holder.command,
          holderSince: current.holder.startedAt,
          hint: 'one writer per run: stop the other process first',
        },
      );
    }
    // A lock file is empty for an instant between its O_EXCL create and its write: a young one is being written.
    if (current.state === 'unreadable' && (current.ageMs ?? Infinity) < UNREADABLE_GRACE_MS) {
      throw new CoreError(
        'RUN_LOCKED',
        `${runDir}: another process is taking the run lock right now; try again in a moment`,
        { path: file, operation: 'lock the run' },
      );
    }
    const why =
      current.state === 'stale'
        ? `took over the lock of ${describeHolder(current.holder)}: ${current.reason}`
        : `replaced an unreadable lock file (${current.reason})`;
    if (takeOver(runDir, file, current, options.leaseAlive)) tookOver = why;
  }
  throw new CoreError(
    'RUN_LOCKED',
    `${runDir}: could not take the run lock (other processes kept changing ${file}); try again`,
    { path: file, operation: 'lock the run' },
  );
}

/** Removes the stale lock `seen`, under the takeover file; true when this process removed it. */
function takeOver(runDir: string, file: string, seen: LockState, leaseAlive: LeaseJudge | undefined): boolean {
  const takeoverFile = join(runDir, TAKEOVER_FILE);
  if (
    !createExclusive(takeoverFile, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }))
  ) {
    clearDeadTakeover(takeoverFile);
    return false;
  }
  try {
    // Re-check under the takeover file: the lock may have been replaced by a live writer meanwhile.
    const now = inspectLock(runDir, { leaseAlive });
    const sameLock =
      (now.state === 'stale' && seen.state === 'stale' && now.holder.token === seen.holder.token) ||
      (now.state === 'unreadable' && seen.state === 'unreadable');
    if (!sameLock) return false;
    rmSync(file, { force: true });
    return true;
  } finally {
    rmSync(takeoverFile, { force: true });
  }
}

function clearDeadTakeover(takeoverFile: string): void {
  try {
    const st = statSync(takeoverFile);
    const v = JSON.parse(readFileSync(takeoverFile, 'utf8')) as { pid?: number; host?: string };
    const dead = v.host === hostname() && typeof v.pid === 'number' && !pidAlive(v.pid);
    if (dead || Date.now() - st.mtimeMs > TAKEOVER_STALE_MS) rmSync(takeoverFile, { force: true });
  } catch {
    /* gone already, or half-written: the age check runs again on the next attempt */
  }
}

function makeLock(runDir: string, file: string, info: RunLockInfo, tookOver: string | null): RunLock {
  let released = false;
  return {
    runDir,
    info,
    tookOver,
    release() {
      if (released) return;
      released = true;
      removeIfOurs(file, info.token);
    },
  };
}

/** Runs `fn` holding the run's writer lock (released afterwards, also on errors). */
export async function withRunLock<T>(
  runDir: string,
  options: AcquireOptions & { onTakeover?: (line: string) => void },
  fn: (lock: RunLock) => Promise<T>,
): Promise<T> {
  const lock = acquireRunLock(runDir, options);
  if (lock.tookOver !== null) options.onTakeover?.(lock.tookOver);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

/**
 * Removes a lock whose holder the caller knows is dead although its pid lives on (the supervisor, when a
 * worker thread of its own process died). Only removes the lock with this token; returns whether it did.
 */
export function breakRunLock(runDir: string, token: string): boolean {
  const file = lockPath(runDir);
  const got = readLock(file);
  if (got?.info?.token !== token) return false;
  rmSync(file, { force: true });
  held.delete(file);
  return true;
}

/** True when `runDir` has a lock file (any state). */
export function hasLockFile(runDir: string): boolean {
  return existsSync(lockPath(runDir));
}

/**
 * Creates `runDir` if needed and takes its writer lock. The release also removes the folder again when this
 * call created it and nothing else was written there (a run that failed before it started leaves nothing).
 */
export async function acquireRunDirLock(runDir: string, options: AcquireOptions): Promise<RunLock> {
  const created = !existsSync(runDir);
  try {
    await mkdir(runDir, { recursive: true });
  } catch (err) {
    throw fromFsError(err, 'create the run folder', runDir);
  }
  let lock: RunLock;
  try {
    lock = acquireRunLock(runDir, options);
  } catch (err) {
    if (created) await rmdir(runDir).catch(() => undefined);
    throw err;
  }
  if (!created) return lock;
  return {
    runDir: lock.runDir,
    info: lock.info,
    tookOver: lock.tookOver,
    release() {
      lock.release();
      try {
        if (readdirSync(runDir).length === 0) rmdirSync(runDir);
      } catch {
        /* not empty, or already gone */
      }
    },
  };
}
