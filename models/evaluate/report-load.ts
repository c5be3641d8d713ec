// Reads the metrics files of several runs for `aimkp report`.
import type { EvalMode } from '../lm/contract';
import { readMetricsFile, type MetricsFile } from './metrics-file';
import type { RunMetrics } from './report';
import { readRunInfo } from './run-info';
import { metricsPath, type DecodeStrategy } from './run-paths';

export interface LoadedRunMetrics {
  runs: RunMetrics[];
  /** Metrics files that were looked for and not found (reported, not fatal). */
  missing: string[];
}

export function loadRunMetrics(
  runDirs: readonly string[],
  opts: { split: string; decode: DecodeStrategy; modes: readonly EvalMode[] },
): LoadedRunMetrics {
  const missing: string[] = [];
  const runs = runDirs.map((dir): RunMetrics => {
    const info = readRunInfo(dir);
    const byMode: Partial<Record<EvalMode, MetricsFile>> = {};
    for (const mode of opts.modes) {
      const path = metricsPath(info.dir, opts.split, mode, opts.decode);
      const m = readMetricsFile(path);
      if (m) byMode[mode] = m;
      else missing.push(path);
    }
    return { name: info.name, preset: info.preset, seed: info.seed, byMode };
  });
  return { runs, missing };
}
