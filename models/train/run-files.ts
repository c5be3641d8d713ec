// The run folder's small files: config.json (resolved config + what the run was built with), tokenizer.json,
// and the append-only events.jsonl. Layout: docs/training.md "Run folder".
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError } from '../core-error';
import type { LmConfig } from '../lm/contract';
import type { TrainingEvent } from '../../shared/training-events';
import type { TrainConfig } from './train-config';
import { writeFileAtomic } from '../fs/atomic-write';

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
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { fsync: true });
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${file}: cannot read (${(err as Error).message})`);
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
  if (c.format !== 'aimkp-run-v1') throw new CoreError('BAD_INPUT', `${file}: field "format": expected "aimkp-run-v1", got ${JSON.stringify(c.format)}`);
  for (const field of ['lm', 'template', 'encoder', 'preset'] as const) {
    if (c[field] === undefined) throw new CoreError('BAD_INPUT', `${file}: field "${field}" missing`);
  }
  return c as RunConfig;
}

export async function ensureRunDir(runDir: string): Promise<void> {
  await mkdir(join(runDir, RUN_FILES.checkpoints), { recursive: true });
}

/** Appends events to events.jsonl (one synchronous append per event: ordered and on disk when the call returns). */
export class EventLog {
  constructor(readonly file: string) {}

  append(event: TrainingEvent): void {
    appendFileSync(this.file, JSON.stringify(event) + '\n');
  }
}

/** The package version for config.json. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
