// jobs.json: the persisted job list. Read back on start (a job that was running when the app died becomes
// interrupted: job-queue.ts), each record checked, its spec read through the job-kind table. Files of earlier
// versions still load: v1 (before the table) kept training fields at the top of the spec and named other work
// `{ kind: 'task', task, runId?, params }`. A record that cannot be read (a kind this app does not know, say the
// benchmark's) is left out of the list with a message naming the file, the record and the field; the file as it
// was read is kept beside it (jobs.json.bak) before the list is next saved.
import { copyFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { CoreError } from '../../models/index';
import { PROGRESS_PHASES, type JsonValue, type ProgressPhase, type ProgressUnit } from '../../shared/training-events';
import { JOB_STATES } from '../../shared/vocabulary';
import { checkJobSpec } from './job-kinds';
import type { JobRecord } from './jobs';

export const JOBS_FILE_FORMAT = 'aimkp-jobs-v2';
const V1_FORMAT = 'aimkp-jobs-v1';

export interface StoredJobs {
  format: typeof JOBS_FILE_FORMAT;
  jobs: JobRecord[];
}

const StoredRecord = z.object({
  id: z.string().min(1),
  spec: z.unknown(),
  state: z.enum(JOB_STATES),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  progress: z
    .object({
      phase: z.custom<ProgressPhase>((v) => (PROGRESS_PHASES as readonly unknown[]).includes(v), 'a progress phase'),
      done: z.number().nullable(),
      total: z.number().nullable(),
      // Display only: any name a kind reported is kept.
      unit: z.custom<ProgressUnit | null>((v) => v === null || typeof v === 'string', 'a unit name or null'),
      message: z.string(),
    })
    .nullable(),
  // Parsed from JSON text, so JSON.
  result: z.custom<JsonValue>(() => true).nullable(),
});

export interface ReadJobs {
  jobs: JobRecord[];
  /** One line per record left out: file, record, field, reason. */
  problems: string[];
}

/** The job list in `file` (empty when there is none); BAD_INPUT when the file itself cannot be read as a job list. */
export function readJobsFile(file: string): ReadJobs {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { jobs: [], problems: [] };
  }
  let stored: { format?: unknown; jobs?: unknown };
  try {
    stored = JSON.parse(text) as typeof stored;
  } catch (err) {
    throw new CoreError(
      'BAD_INPUT',
      `${file}: invalid JSON (${(err as Error).message}); move it away to start with an empty job list`,
      { path: file },
    );
  }
  const format = stored?.format;
  if ((format !== JOBS_FILE_FORMAT && format !== V1_FORMAT) || !Array.isArray(stored.jobs))
    throw new CoreError(
      'BAD_INPUT',
      `${file}: field "format": expected "${JOBS_FILE_FORMAT}" (or "${V1_FORMAT}" of earlier versions) with a "jobs" list`,
      { path: file, field: 'format' },
    );
  const jobs: JobRecord[] = [];
  const problems: string[] = [];
  stored.jobs.forEach((raw: unknown, i: number) => {
    const id = (raw as { id?: unknown } | null)?.id;
    const where = `${file}: jobs[${i}]${typeof id === 'string' ? ` (job ${id})` : ''}`;
    const record = StoredRecord.safeParse(raw);
    if (!record.success) {
      const issue = record.error.issues[0];
      problems.push(`${where}: field "${issue.path.join('.')}": ${issue.message}`);
      return;
    }
    try {
      const spec = checkJobSpec(format === V1_FORMAT ? upgradeV1Spec(record.data.spec) : record.data.spec, where);
      jobs.push({ ...record.data, spec });
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  if (problems.length > 0) {
    const kept = `${file}.bak`;
    copyFileSync(file, kept);
    for (let k = 0; k < problems.length; k++)
      problems[k] += `; left out of the job list (the file as read is kept as ${kept})`;
  }
  return { jobs, problems };
}

export function jobsFileText(jobs: JobRecord[]): string {
  const stored: StoredJobs = { format: JOBS_FILE_FORMAT, jobs };
  return JSON.stringify(stored) + '\n';
}

/**
 * A v1 spec in today's shape: `{ kind: 'task', task, runId?, params }` → `{ kind: task, params: { ...params, runId } }`
 * (the run id now lives in the params of the kinds that have one); any other `{ kind, ...fields }` →
 * `{ kind, params: fields }`.
 */
export function upgradeV1Spec(spec: unknown): unknown {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return spec;
  const { kind, ...fields } = spec as Record<string, unknown>;
  if (kind !== 'task') return { kind, params: fields };
  const { task, runId, params } = fields;
  const withRun =
    typeof runId === 'string' && typeof params === 'object' && params !== null && !Array.isArray(params)
      ? { ...params, runId }
      : params;
  return { kind: task, params: withRun };
}
