// Why a job failed, in words a user understands. Jobs end with `{ code, message }`: a core error's code (the core's
// CoreError codes, models/core-error.ts) with a message that names the file, line or field; a worker's end
// (WORKER_DIED, WORKER_KILLED, WORKER_ERROR); an interrupted app (APP_CRASHED, APP_QUIT); or INTERNAL, whose message
// is a stack trace. Each code gets a sentence; the core's own message follows where it helps the user, never a stack:
// an internal error names the job and sends the reader to the log, where the supervisor wrote the details.

export interface JobErrorLike {
  code: string;
  message: string;
}

/** What each code means for the user; the job's message (first line) follows after a colon unless `alone`. */
const SENTENCES: Readonly<Record<string, { text: string; alone?: boolean }>> = {
  BAD_INPUT: { text: 'It was given something it cannot use' },
  NOT_FOUND: { text: 'Something it needs was not found' },
  ALREADY_EXISTS: { text: 'Its target already exists' },
  MISMATCH: { text: 'Its inputs do not agree' },
  CHECKPOINT_CORRUPT: { text: 'A checkpoint is damaged' },
  RUN_LOCKED: { text: 'The run is in use by another process' },
  DISK_FULL: { text: 'The disk is full; free some space, then resume' },
  PERMISSION: { text: 'A file or folder may not be written' },
  READ_ONLY: { text: 'The folder is on a read-only disk' },
  IO: { text: 'A file could not be read or written' },
  BACKEND_UNAVAILABLE: { text: 'No compute backend could start' },
  DIVERGED: { text: 'Training diverged (the loss is no longer a number); try a lower learning rate' },
  WORKER_DIED: { text: 'Its worker stopped unexpectedly (out of memory, or a crash)' },
  WORKER_KILLED: { text: 'It was ended by force' },
  WORKER_ERROR: { text: 'It could not start' },
  APP_CRASHED: { text: 'The app ended while it ran; resume it to continue from its last checkpoint', alone: true },
  APP_QUIT: { text: 'The app quit while it ran; resume it to continue from its last checkpoint', alone: true },
  INTERRUPTED: { text: 'It was interrupted; resume it to continue from its last checkpoint', alone: true },
  ABORTED: { text: 'It was stopped on request', alone: true },
};

/** The first line of a message, without a leading "Error:"-style class name and never a stack frame. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0].trim();
  return line.replace(/^[A-Za-z]*Error:\s*/, '');
}

/** A message that is a stack trace or a JavaScript exception, not a sentence written for people. */
function looksInternal(message: string): boolean {
  return /\n\s+at\s/.test(message) || /^(TypeError|ReferenceError|RangeError|SyntaxError|Error):/.test(message.trim());
}

/** The short form of a job id that the log line carries too. */
export function shortJobId(jobId: string): string {
  return jobId.slice(0, 8);
}

/**
 * One sentence saying why the job failed. INTERNAL, and any message that is a stack trace or a JavaScript exception,
 * becomes "an internal error … (details in the log)" with the job's id, so the log line can be found; a code without
 * a sentence of its own reads "It failed: <its message>".
 */
export function failureSentence(error: JobErrorLike | null | undefined, jobId?: string | null): string {
  const job = jobId ? `, job ${shortJobId(jobId)}` : '';
  if (!error) return `It failed without a reason (see the log${job}).`;
  if (error.code === 'INTERNAL' || looksInternal(error.message))
    return `An internal error stopped the job (details in the log${job}).`;
  const known = SENTENCES[error.code] ?? { text: 'It failed' };
  const detail = firstLine(error.message);
  return known.alone || detail === '' ? `${known.text}.` : `${known.text}: ${detail}`;
}
