// THE table of job kinds: every kind of work the supervisor runs in a worker thread, each with the params it
// takes (a zod schema, checked when the job is created, when jobs.json is read and when a worker starts it), what it
// runs in the worker, whether it trains a run, where it reports, how the job list shows it and its label. The queue,
// the worker, the prediction worker and the service all dispatch through this table; a job spec is only
// `{ kind, params }`. Code outside the app (a benchmark) adds its own kind with registerJobKind and a worker entry
// that registers it in the worker thread too.
import { z } from 'zod';
import { CoreError } from '../../models/index';
import type { WireJobKind } from '../../shared/contract/common';
import type { JobSpec } from './jobs';
import type { TaskContext, TaskEnd } from './task-context';
import { evaluateTask, EvaluateJobParams, robustnessTask, RobustnessJobParams } from './tasks/evaluate';
import { importTask, ImportJobParams } from './tasks/import-dataset';
import { datasetLoadTask, DatasetLoadJobParams, probeTask, ProbeJobParams } from './tasks/interactive';
import { predictTask, PredictJobParams } from './tasks/predict';
import { ResumeJobParams, runTraining, TrainJobParams } from './tasks/training';

export interface JobKind<P = unknown, R = unknown> {
  /** Its name in a JobSpec (jobs.json, worker messages). */
  readonly name: string;
  /** Its params (plain JSON). */
  readonly params: z.ZodType<P>;
  /** Trains a run: holds the run's lock, is what the run's status follows, stops with a checkpoint, resumable. */
  readonly trainsRun: boolean;
  /** Where its progress goes: the run's own events.jsonl (written by the work), or the job's own stream. */
  readonly reportsOn: 'run' | 'job';
  /** How the job list (jobs.list, job events) names it; null = never queued, only run at once (runInteractive). */
  readonly listedAs: WireJobKind | null;
  /** The run it trains, reads or writes (the job list's runId; guards delete and resume). */
  runOf(params: P): string | null;
  /** What the job is, in a few words (the job list's label). */
  label(params: P): string;
  /** Its work, in the worker thread. */
  run(params: P, ctx: TaskContext): Promise<TaskEnd<R>>;
}

const KINDS = new Map<string, JobKind>();

/** Adds a kind to the table (in each thread that creates or runs its jobs); the same name twice is refused. */
export function registerJobKind<P, R>(kind: JobKind<P, R>): JobKind<P, R> {
  const had = KINDS.get(kind.name);
  if (had !== undefined && had !== kind) throw new Error(`job kind "${kind.name}" is registered twice`);
  KINDS.set(kind.name, kind);
  return kind;
}

// ---- the table ----------------------------------------------------------------------------------------------

export const TRAIN_JOB = registerJobKind({
  name: 'train',
  params: TrainJobParams,
  trainsRun: true,
  reportsOn: 'run',
  listedAs: 'train',
  runOf: (p) => p.runId,
  label: (p) => `train ${p.config.preset} (seed ${p.config.seed}) → ${p.runId}`,
  run: (p, ctx) => runTraining(p, ctx),
});

export const RESUME_JOB = registerJobKind({
  name: 'resume',
  params: ResumeJobParams,
  trainsRun: true,
  reportsOn: 'run',
  listedAs: 'train',
  runOf: (p) => p.runId,
  label: (p) => `resume ${p.runId}`,
  run: (p, ctx) => runTraining(p, ctx),
});

export const EVALUATE_JOB = registerJobKind({
  name: 'evaluate',
  params: EvaluateJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'evaluate',
  runOf: (p) => p.runId,
  label: (p) => `evaluate ${p.runId} ${p.split} ${p.modes.join('+')}, ${p.decode.strategy}`,
  run: evaluateTask,
});

export const ROBUSTNESS_JOB = registerJobKind({
  name: 'robustness',
  params: RobustnessJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'robustness',
  runOf: (p) => p.runId,
  label: (p) => `robustness ${p.runId} ${p.split}`,
  run: robustnessTask,
});

export const PREDICT_JOB = registerJobKind({
  name: 'predict',
  params: PredictJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'predict',
  runOf: () => null,
  label: () => 'predict',
  run: predictTask,
});

export const IMPORT_JOB = registerJobKind({
  name: 'import',
  params: ImportJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'import',
  runOf: () => null,
  label: (p) => `import ${p.name} (${p.source.kind})`,
  run: importTask,
});

export const DATASET_LOAD_JOB = registerJobKind({
  name: 'dataset-load',
  params: DatasetLoadJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: null,
  runOf: () => null,
  label: (p) => `load data set ${p.dir}`,
  run: datasetLoadTask,
});

export const PROBE_JOB = registerJobKind({
  name: 'probe',
  params: ProbeJobParams,
  trainsRun: false,
  reportsOn: 'job',
  listedAs: null,
  runOf: () => null,
  label: () => 'probe the backend',
  run: probeTask,
});

// ---- reading specs through the table --------------------------------------------------------------------------

/** The kind of that name in this thread's table. */
export function jobKindOf(name: string): JobKind | undefined {
  return KINDS.get(name);
}

export function jobKindNames(): string[] {
  return [...KINDS.keys()];
}

/** A spec of this kind, its params checked (defaults filled); BAD_INPUT names the field. */
export function jobSpec<P>(kind: JobKind<P>, params: P, where = `${kind.name} job`): JobSpec<P> {
  return { kind: kind.name, params: checkParams(kind, params, where) };
}

/**
 * Reads an untrusted spec (jobs.json, a worker's init) through the table: its kind must be known in this thread and
 * its params valid. Returns the spec with the params as parsed; BAD_INPUT names `where` and the field.
 */
export function checkJobSpec(raw: unknown, where: string): JobSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CoreError('BAD_INPUT', `${where}: expected a job spec object { kind, params }`, { field: 'spec' });
  const { kind: name, params } = raw as { kind?: unknown; params?: unknown };
  const kind = typeof name === 'string' ? KINDS.get(name) : undefined;
  if (!kind)
    throw new CoreError(
      'BAD_INPUT',
      `${where}: field "kind": unknown job kind ${JSON.stringify(name)} (known: ${jobKindNames().join(', ')})`,
      { field: 'kind' },
    );
  return { kind: kind.name, params: checkParams(kind, params, where) };
}

/** Whether the spec is of this kind (its params then have the kind's type: specs are checked when made and read). */
export function isJobOf<P>(spec: JobSpec, kind: JobKind<P>): spec is JobSpec<P> {
  return spec.kind === kind.name;
}

/** The kind of a checked spec (a spec whose kind is unknown here never got into a job record). */
export function kindOfSpec(spec: JobSpec): JobKind {
  const kind = KINDS.get(spec.kind);
  if (!kind) throw new CoreError('INTERNAL', `job kind "${spec.kind}" is not registered in this thread`);
  return kind;
}

/** The run a job trains, reads or writes, if any. */
export function runOfSpec(spec: JobSpec): string | null {
  return kindOfSpec(spec).runOf(spec.params);
}

function checkParams<P>(kind: JobKind<P>, params: unknown, where: string): P {
  const parsed = kind.params.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = ['params', ...issue.path.map(String)].join('.');
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  throw new CoreError('BAD_INPUT', `${where}: field "${field}": ${issue.message}${more}`, { field });
}
