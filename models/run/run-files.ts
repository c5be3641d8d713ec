// The run folder's small files: config.json (resolved config + what the run was built with), tokenizer.json,
// and the append-only events.jsonl. Layout: docs/training.md "Run folder".
import {
  appendFileSync,
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError, fromFsError, withFsErrors } from '../core-error';
import type { LmConfig } from '../lm/contract';
import type { TrainingEvent } from '../../shared/training-events';
import type { TrainConfig } from './train-config';
import { writeFileAtomic } from '../fs/atomic-write';
import { checkRunWriteFence } from './write-fence';
import { VERSION } from '../version';

export const RUN_FILES = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  events: 'events.jsonl',
  checkpoints: 'checkpoints',
  last: join('checkpoints', 'last'),
  best: 'best',
} as const;

/** config.json: the resolved TrainConfig plus the facts needed to rebuild the model and check a resume. */
export interface RunConfig extends TrainConfig {
  format: 'aimkp-run-v1';
  /** Data-set folder as given (resolved to an absolute path). */
  dataDir: string;
  lm: LmConfig;
  /** Prompt template ids (derivable from tokenizer.json; stored so loaders need not re-derive them). */
  template: { prefix: number[]; instruction: number[]; eos: number; pad: number };
  encoderId: string;
  /** Train items used and a hash of their ids (resume refuses another train split). */
  trainItems: number;
  trainFingerprint: string;
  backend: string;
  createdAt: string;
  version: string;
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  checkRunWriteFence('write', file);
  await withFsErrors('write', file, () =>
    writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { fsync: true }),
  );
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fromFsError(err, 'read', file);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${file}: invalid JSON (${(err as Error).message})`);
  }
}

export function readRunConfig(runDir: string): RunConfig {
  const file = join(runDir, RUN_FILES.config);
  if (!existsSync(file)) throw new CoreError('NOT_FOUND', `${runDir}: not a run folder (no ${RUN_FILES.config})`);
  const c = readJson(file) as Partial<RunConfig>;
  if (c.format !== 'aimkp-run-v1')
    throw new CoreError(
      'BAD_INPUT',
      `${file}: field "format": expected "aimkp-run-v1", got ${JSON.stringify(c.format)}`,
    );
  for (const field of ['lm', 'template', 'encoder', 'preset'] as const) {
    if (c[field] === undefined) throw new CoreError('BAD_INPUT', `${file}: field "${field}" missing`);
  }
  return c as RunConfig;
}

export async function ensureRunDir(runDir: string): Promise<void> {
  await withFsErrors('create the run folder', runDir, () =>
    mkdir(join(runDir, RUN_FILES.checkpoints), { recursive: true }),
  );
}

/**
 * Cuts a partial last line (an append interrupted by a crash or a full disk) off a JSONL file, so the next
 * append starts on a line of its own. Returns the number of bytes removed.
 */
export function repairJsonlTail(file: string): number {
  if (!existsSync(file)) return 0;
  const size = statSync(file).size;
  if (size === 0) return 0;
  const fd = openSync(file, 'r+');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 16));
    let end = size;
    // Scan back for the last newline, 64 KiB at a time.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      if (end === size && chunk[n - 1] === 0x0a) return 0;
      const at = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (at >= 0) {
        ftruncateSync(fd, start + at + 1);
        return size - (start + at + 1);
      }
      end = start;
    }
    ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Appends events to events.jsonl (one synchronous append per event: ordered and on disk when the call returns). */
export class EventLog {
  /** Bytes of a partial last line removed when the log was opened (an earlier writer died mid-append). */
  readonly repairedBytes: number;

  constructor(readonly file: string) {
    try {
      this.repairedBytes = repairJsonlTail(file);
    } catch (err) {
      throw fromFsError(err, 'open the event log', file);
    }
  }

  append(event: TrainingEvent): void {
    checkRunWriteFence('append to the event log', this.file);
    try {
      appendFileSync(this.file, JSON.stringify(event) + '\n');
    } catch (err) {
      throw fromFsError(
        err,
        'append to the event log',
        this.file,
        'free some disk space (or fix the folder), then continue with --resume',
      );
    }
  }
}

/** The workbench version for config.json (models/version.ts: a bundled worker has no package.json to read). */
export function packageVersion(): string {
  return VERSION;
}
