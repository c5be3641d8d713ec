// How many data-parallel ranks a job uses: the caller's number (`--workers K`, TrainOptions.workers), else env
// AIMKP_WORKERS, else every core (os.availableParallelism()). K = 1 runs the single-thread code paths, no pool.
import { availableParallelism } from 'node:os';
import { MAX_WORKERS } from '../../shared/vocabulary';
import { CoreError } from '../core-error';

export { MAX_WORKERS };

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Checks a worker count; `where` names the flag or field in the error. */
export function checkWorkers(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WORKERS)
    throw new CoreError(
      'BAD_INPUT',
      `${where}: expected an integer from 1 to ${MAX_WORKERS} (data-parallel worker threads), got ${JSON.stringify(value)}`,
      { field: 'workers' },
    );
  return value;
}

/** The worker count a job runs with: `requested`, else AIMKP_WORKERS, else the cores. */
export function resolveWorkers(
  requested: number | undefined,
  env: string | undefined = process.env.AIMKP_WORKERS,
): number {
  if (requested !== undefined) return checkWorkers(requested, 'workers');
  const text = env?.trim();
  if (text) return checkWorkers(Number(text), `AIMKP_WORKERS=${text}`);
  return defaultWorkers();
}

/** A resume on `now` workers of a checkpoint whose steps ran on `before`: what to tell the user (null: the same). */
export function workersChange(
  before: number,
  now: number,
): { checkpoint: number; now: number; message: string } | null {
  if (before === now) return null;
  const n = (k: number) => `${k} worker${k === 1 ? '' : 's'}`;
  return {
    checkpoint: before,
    now,
    message: `resumed with ${n(now)}; the checkpoint was written with ${before}: the result matches an uninterrupted run within float tolerance, not bit for bit`,
  };
}
