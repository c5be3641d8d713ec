// What a job kind's work receives in its worker thread (job-kinds.ts `run`), and how it reports its end. The
// work never touches the supervisor's state, only the files of the workspace and these callbacks.
import type { Predictor } from '../../models/index';
import type { JobProgressSnapshot } from './jobs';
import type { WorkspaceSettings } from './workspace';

export interface TaskContext {
  runsDir: string;
  datasetsDir: string;
  cacheDir: string;
  backend: WorkspaceSettings['backend'];
  /** Aborted when the supervisor asks for a stop. */
  signal: AbortSignal;
  /** Checks the shared stop flag (works while the event loop is busy) and aborts `signal` when it is set. */
  checkStop(): boolean;
  /** New lines were appended to runs/<runId>/events.jsonl. */
  poke(runId: string): void;
  progress(p: JobProgressSnapshot): void;
  log(line: string): void;
  /** Where a prediction gets a run's loaded model: opened per job, or kept loaded by the prediction worker. */
  predictors: PredictorSource;
  /** The run's writer lock is held by whoever started the job (a lab worker, under its lease): do not take it. */
  runLockHeld: boolean;
}

export interface PredictorSource {
  get(runDir: string): Promise<Predictor>;
  release(p: Predictor): void;
}

/** How a kind's work ended: completed, or stopped (asked to, or a training's maxSteps), with its JSON-safe result. */
export interface TaskEnd<R> {
  state: 'completed' | 'stopped';
  result?: R;
}

/** The usual end: stopped when a stop was asked for while it ran, else completed. */
export function ended<R>(ctx: Pick<TaskContext, 'signal'>, result: R): TaskEnd<R> {
  return { state: ctx.signal.aborted ? 'stopped' : 'completed', result };
}
