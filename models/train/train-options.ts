// What train() takes and returns (models/train/trainer.ts). Its own module so that the run setup, the stages
// built on the trainer (align, pretrain) and the callers share the one declaration without importing the loop.
import type { BackendRequest } from '../tf/backend';
import type { TrainingEvent } from '../../shared/training-events';
import type { TrainConfig } from '../run/train-config';

export interface TrainOptions {
  /** The run folder (created). Absolute from the app; a relative path is taken against the working directory. */
  runDir: string;
  /** Required for a new run; on --resume the run's saved config is used. */
  config?: TrainConfig;
  /** Data-set folder; on resume defaults to the one in config.json. */
  dataDir?: string;
  resume?: boolean;
  backend?: BackendRequest;
  /** Feature cache folder (default <data>/.cache). */
  cacheDir?: string;
  onEvent?: (event: TrainingEvent) => void;
  /** Informational lines (the CLI prints them to stderr). */
  log?: (line: string) => void;
  /** Stop after this global step, with a checkpoint: the run can be resumed (tests, time-boxed runs). */
  maxSteps?: number;
  /**
   * Aborting stops within one optimizer step (or one validation batch), writes checkpoints/last and returns
   * status 'stopped' (resumable). An abort while preparing (before the first step) throws CoreError 'ABORTED'.
   */
  signal?: AbortSignal;
  /**
   * Data-parallel ranks (this thread + K-1 worker threads; models/parallel/). Default env AIMKP_WORKERS, else the
   * cores. 1 = the single-thread path. A fixed K is deterministic and resumes exactly; a resume with another K is
   * said (log and run-start) and matches within float tolerance.
   */
  workers?: number;
  /** Who holds the run's writer lock, as shown to a refused second writer (default "aimkp train"). */
  lockCommand?: string;
  /** The caller already holds RUN/run.lock (models/run/run-lock.ts); the trainer does not take it. */
  lockHeldByCaller?: boolean;
}

export interface TrainResult {
  status: 'completed' | 'stopped';
  runDir: string;
  globalStep: number;
  epoch: number;
  bestEpoch: number | null;
  bestScore: number | null;
  /** Loss of every step this process ran, in order (global steps are 1-based). */
  losses: { step: number; loss: number }[];
}
