// How the CLI reports an error: one line on stderr (the CoreError's message, which names the file / field and
// what to do), the exit code of its `code`, and the stack only with --debug (or AIMKP_DEBUG=1). Errors that
// are not CoreErrors are bugs or unexpected system failures: file-system ones are translated into one line
// as well; anything else prints its message plus a pointer to --debug.
import { CoreError, fromFsError, systemErrorCode, type CoreErrorCode } from '../core-error';

/** Exit codes by error code (documented in docs/reliability.md "Errors and exit codes"). */
export const EXIT_CODES: Record<CoreErrorCode, number> = {
  BAD_INPUT: 2,
  NOT_FOUND: 2,
  ALREADY_EXISTS: 2,
  MISMATCH: 2,
  CHECKPOINT_CORRUPT: 3,
  RUN_LOCKED: 4,
  DISK_FULL: 5,
  PERMISSION: 5,
  READ_ONLY: 5,
  IO: 5,
  BACKEND_UNAVAILABLE: 6,
  DIVERGED: 7,
  ABORTED: 130,
  INTERNAL: 1,
  WORKER_DIED: 8,
};

/** Turns anything thrown into a CoreError (system errors translated, others INTERNAL). */
export function asCoreError(err: unknown): CoreError {
  if (err instanceof CoreError) return err;
  if (systemErrorCode(err) !== undefined) return fromFsError(err, 'access');
  const message = err instanceof Error ? err.message : String(err);
  const hint = wasmHeapHint(err);
  if (hint !== undefined) return new CoreError('INTERNAL', `${message}: ${hint}`, { hint }, { cause: err });
  return new CoreError('INTERNAL', message, undefined, { cause: err });
}

const WASM_HEAP_HINT =
  'the wasm backend\'s heap (4 GB at most) ran out: a model or batch this large needs fewer rows per call, e.g. --config \'{"samplesPerCall": 2, "validBatch": 2}\'';

/** What to do after a trap of the wasm backend that a full heap causes (malloc aborting, a write past the heap's end). */
export function wasmHeapHint(err: unknown): string | undefined {
  const full =
    err instanceof WebAssembly.RuntimeError &&
    (err.message.startsWith('Aborted(') || err.message === 'memory access out of bounds');
  return full ? WASM_HEAP_HINT : undefined;
}

export function exitCodeFor(err: CoreError): number {
  return EXIT_CODES[err.code];
}

/** The text printed for an error: one line, or the line plus the stack with `debug`. */
export function formatCliError(err: unknown, debug: boolean): string {
  const core = asCoreError(err);
  // Messages of CLI commands already start with "aimkp <command>:"; core messages start with a path.
  const text = core.message.startsWith('aimkp') ? core.message : `aimkp: ${core.message}`;
  const line =
    core.code === 'INTERNAL' && !debug ? `${text} (internal error; run again with --debug for the stack)` : text;
  if (!debug) return line;
  const original = core.cause instanceof Error ? core.cause : core;
  return `${line}\n[${core.code}]${core.details ? ` ${JSON.stringify(core.details)}` : ''}\n${original.stack ?? ''}`;
}
