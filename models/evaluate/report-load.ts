// Reads the metrics files of several runs for `aimkp report`.
import { basename } from 'node:path';
import type { EvalMode } from '../lm/contract';
import { readMetricsFile, type MetricsFile } from './metrics-file';
import type { RunMetrics } from './report';
import { readRunInfo } from './run-info';
import { metricsPath, type DecodeStrategy } from './run-paths';

export interface LoadedRunMetrics {
  runs: RunMetrics[];
  /** Metrics files that were looked for and not found (reported, not fatal). */
  missing: string[];
  /**
   * Runs left out of the report, with why: no metrics file for any asked mode (never evaluated with this split and
   * decoding, e.g. a run that failed), or, with `skipUnreadable`, a folder whose config.json cannot be read.
   */
  skipped: SkippedRun[];
}

export interface SkippedRun {
  dir: string;
  /** Folder name. */
  name: string;
  reason: string;
}

export function loadRunMetrics(
  runDirs: readonly string[],
  opts: {
    split: string;
    decode: DecodeStrategy;
    modes: readonly EvalMode[];
    skipUnreadable?: boolean;
    /** Each run's group label, parallel to runDirs (default its preset). */
    groups?: readonly string[];
  },
): LoadedRunMetrics {
  const missing: string[] = [];
  const skipped: SkippedRun[] = [];
  const runs: RunMetrics[] = [];
  for (const [i, dir] of runDirs.entries()) {
    let info: ReturnType<typeof readRunInfo>;
    try {
      info = readRunInfo(dir);
    } catch (err) {
      if (!opts.skipUnreadable) throw err;
      skipped.push({ dir, name: basename(dir), reason: (err as Error).message });
      continue;
    }
    const byMode: Partial<Record<EvalMode, MetricsFile>> = {};
    const absent: string[] = [];
    for (const mode of opts.modes) {
      const path = metricsPath(info.dir, opts.split, mode, opts.decode);
      const m = readMetricsFile(path);
      if (m) byMode[mode] = m;
      else absent.push(path);
    }
    // A run with no scores at all would only add to its group's n: it is listed as skipped instead.
    if (absent.length === opts.modes.length) {
      skipped.push({
        dir: info.dir,
        name: info.name,
        reason: `not evaluated on ${opts.split} with ${opts.decode} decoding (no metrics/${opts.split}.<mode>.${opts.decode}.json)`,
      });
      continue;
    }
    missing.push(...absent);
    runs.push({ name: info.name, preset: opts.groups?.[i] ?? info.preset, seed: info.seed, byMode });
  }
  return { runs, missing, skipped };
}
