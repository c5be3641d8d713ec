// The core's one error type. Every error the core raises on purpose is a CoreError with a stable `code`
// (what kind of failure: callers branch on it, never on the message), a one-line `message` that names the
// file / line / field and what to do, and optional JSON-safe `details`. The CLI maps codes to exit codes
// (models/cli/cli-error.ts); the service contract sends `{ code, message, details }` as is.

/** Stable error codes. Add new ones at the end; never rename one (the UI and scripts match on them). */
export const CORE_ERROR_CODES = [
  /** A flag, config field, data line or file content is invalid. */
  'BAD_INPUT',
  /** A file or folder the operation needs does not exist. */
  'NOT_FOUND',
  /** The target already holds something (a run folder without --resume). */
  'ALREADY_EXISTS',
  /** Inputs that must agree do not (resume on other train items, another encoder). */
  'MISMATCH',
  /** A checkpoint failed verification (size, checksum, shape, JSON) and no good one could replace it. */
  'CHECKPOINT_CORRUPT',
  /** Another process holds the run's writer lock. */
  'RUN_LOCKED',
  /** No space left on the device (ENOSPC, EDQUOT). */
  'DISK_FULL',
  /** Permission denied (EACCES, EPERM). */
  'PERMISSION',
  /** The file system is read-only (EROFS). */
  'READ_ONLY',
  /** Any other I/O failure (EIO, EMFILE, ...). */
  'IO',
  /** No TensorFlow.js backend could be initialised, or the requested one cannot be switched to. */
  'BACKEND_UNAVAILABLE',
  /** Training diverged (loss not finite). */
  'DIVERGED',
  /** The operation was stopped by its abort signal. */
  'ABORTED',
  /** A bug: an invariant of the core did not hold. */
  'INTERNAL',
  /** A data-parallel worker thread died (crash, out of memory, killed); the message names its rank. */
  'WORKER_DIED',
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/** JSON-safe value (details travel over IPC / WebSocket and into events.jsonl). */
export type CoreJson = null | boolean | number | string | CoreJson[] | { [key: string]: CoreJson };

/** What the error is about. All optional; `hint` says what to do. */
export interface CoreErrorDetails {
  path?: string;
  operation?: string;
  line?: number;
  field?: string;
  hint?: string;
  /** The underlying system error code (ENOSPC, EACCES, ...), when there was one. */
  errno?: string;
  [key: string]: CoreJson | undefined;
}

/** The wire shape of an error (shared/contract's ApiErrorShape has the same fields). */
export interface CoreErrorShape {
  code: CoreErrorCode;
  message: string;
  details?: CoreErrorDetails;
}

export class CoreError extends Error {
  readonly code: CoreErrorCode;
  readonly details: CoreErrorDetails | undefined;

  constructor(code: CoreErrorCode, message: string, details?: CoreErrorDetails, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CoreError';
    this.code = code;
    this.details = details;
  }

  toJSON(): CoreErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isCoreError(err: unknown): err is CoreError {
  return err instanceof CoreError;
}

export function isCoreErrorCode(value: unknown): value is CoreErrorCode {
  return typeof value === 'string' && (CORE_ERROR_CODES as readonly string[]).includes(value);
}

interface SystemErrorLike {
  code?: unknown;
  path?: unknown;
  syscall?: unknown;
  message?: unknown;
}

/** The Node system error code (ENOSPC, EACCES, ...) of `err`, if it has one. */
export function systemErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as SystemErrorLike).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

const FS_CODES: Record<string, { code: CoreErrorCode; what: string; hint: string }> = {
  ENOSPC: {
    code: 'DISK_FULL',
    what: 'no space left on the device',
    hint: 'free some disk space (or choose another folder), then run the same command again; nothing written so far is lost',
  },
  EDQUOT: {
    code: 'DISK_FULL',
    what: 'disk quota exceeded',
    hint: 'free some space within your quota, then run the same command again',
  },
  EACCES: {
    code: 'PERMISSION',
    what: 'permission denied',
    hint: 'check the permissions of the folder, or choose a folder you can write to',
  },
  EPERM: {
    code: 'PERMISSION',
    what: 'operation not permitted',
    hint: 'check the permissions of the folder, or choose a folder you can write to',
  },
  EROFS: { code: 'READ_ONLY', what: 'the file system is read-only', hint: 'choose a folder on a writable disk' },
  ENOENT: { code: 'NOT_FOUND', what: 'no such file or folder', hint: 'check the path' },
  ENOTDIR: { code: 'NOT_FOUND', what: 'a part of the path is not a folder', hint: 'check the path' },
  EISDIR: { code: 'BAD_INPUT', what: 'is a folder, a file was expected', hint: 'give a file path' },
  EMFILE: {
    code: 'IO',
    what: 'too many open files',
    hint: 'close other programs or raise the open-file limit (ulimit -n)',
  },
  EIO: { code: 'IO', what: 'input/output error', hint: 'the disk may be failing; check it and try again' },
};

/**
 * Translates a Node file-system error into a one-line CoreError naming the path, the operation and what to
 * do (used at the core's edges: checkpoint and run-file writes, data loading). A CoreError passes through;
 * an error that is not a system error is returned wrapped as INTERNAL.
 */
export function fromFsError(err: unknown, operation: string, path?: string, hint?: string): CoreError {
  if (err instanceof CoreError) return err;
  const sys = systemErrorCode(err);
  const known = sys === undefined ? undefined : FS_CODES[sys];
  const e = (typeof err === 'object' && err !== null ? err : {}) as SystemErrorLike;
  const where = path ?? (typeof e.path === 'string' ? e.path : undefined);
  if (known) {
    // The caller's hint replaces the generic one for disk-full / permission problems, where it knows the next step.
    const todo = hint !== undefined && known.code !== 'NOT_FOUND' ? hint : known.hint;
    return new CoreError(
      known.code,
      `${where ?? '(unknown path)'}: cannot ${operation}: ${known.what} (${sys}); ${todo}`,
      { path: where, operation, errno: sys, hint: todo },
      { cause: err },
    );
  }
  const msg = typeof e.message === 'string' ? e.message : String(err);
  if (sys !== undefined)
    return new CoreError(
      'IO',
      `${where ?? '(unknown path)'}: cannot ${operation}: ${msg}`,
      { path: where, operation, errno: sys },
      { cause: err },
    );
  return new CoreError(
    'INTERNAL',
    where === undefined ? `${operation}: ${msg}` : `${where}: ${operation}: ${msg}`,
    { path: where, operation },
    { cause: err },
  );
}

/** Runs `fn`, translating file-system errors it throws with fromFsError (CoreErrors and others pass as they are). */
export async function withFsErrors<T>(
  operation: string,
  path: string,
  fn: () => Promise<T>,
  hint?: string,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (systemErrorCode(err) !== undefined && !(err instanceof CoreError))
      throw fromFsError(err, operation, path, hint);
    throw err;
  }
}

/** Synchronous twin of withFsErrors. */
export function withFsErrorsSync<T>(operation: string, path: string, fn: () => T, hint?: string): T {
  try {
    return fn();
  } catch (err) {
    if (systemErrorCode(err) !== undefined && !(err instanceof CoreError))
      throw fromFsError(err, operation, path, hint);
    throw err;
  }
}
