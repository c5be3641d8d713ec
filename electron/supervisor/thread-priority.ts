// Training and evaluation jobs run at a lower CPU priority than the main thread and the UI, so that while every
// core trains the event loop and the charts still get a core first (issue 17: loop p99 ≤ 20 ms, live update p95
// ≤ 16 ms). On Linux a nice value belongs to a thread, and threads created afterwards inherit it: lowering the job's
// worker thread lowers its data-parallel pool workers too, and nothing else. Elsewhere setpriority(0) would lower
// the whole process (main thread included), so it is left alone there.
import { getPriority, setPriority } from 'node:os';

/** The nice value jobs run at (0 = normal, 19 = lowest); 10 leaves the UI a clear precedence. */
export const JOB_NICE = 10;

/** Lowers the calling thread's priority (Linux only); says what it did, or why not. Never throws. */
export function lowerThreadPriority(nice = JOB_NICE, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'linux') return `job priority unchanged (per-thread priority is Linux-only; ${platform})`;
  try {
    // Raising the nice value needs no privilege; it is never lowered back (a thread cannot without CAP_SYS_NICE).
    if (getPriority() < nice) setPriority(nice);
    return `job thread at nice ${getPriority()}`;
  } catch (err) {
    return `job priority unchanged: ${(err as Error).message}`;
  }
}
