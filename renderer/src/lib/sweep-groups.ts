// The Runs view's sweep groups: the runs of each sweep (run-meta.json's sweep ref), their progress by status, and
// per cell (preset + grid values, seeds apart) the mean ± std of the best validation score and of a test metric.
import type { RunSummary } from '@shared/contract/service';
import { sweepProgress, type SweepProgress } from '@shared/sweep';
import type { DecodeStrategy, EvalMode, ReportMetric } from '@shared/vocabulary';
import { testScore } from './run-table';
import { meanStd, type MeanStd } from './stats';

export interface SweepCell {
  cell: string;
  runs: RunSummary[];
  best: MeanStd | null;
  test: MeanStd | null;
}

export interface SweepGroup {
  id: string;
  progress: SweepProgress;
  cells: SweepCell[];
  runIds: string[];
}

export function groupBySweep(
  runs: readonly RunSummary[],
  mode: EvalMode,
  metric: ReportMetric,
  decode: DecodeStrategy,
): SweepGroup[] {
  const by = new Map<string, RunSummary[]>();
  for (const r of runs) {
    if (!r.sweep) continue;
    if (!by.has(r.sweep.id)) by.set(r.sweep.id, []);
    by.get(r.sweep.id)!.push(r);
  }
  return [...by.entries()].map(([id, list]) => {
    const sorted = [...list].sort((a, b) => a.sweep!.index - b.sweep!.index);
    const cells = new Map<string, RunSummary[]>();
    for (const r of sorted) {
      if (!cells.has(r.sweep!.cell)) cells.set(r.sweep!.cell, []);
      cells.get(r.sweep!.cell)!.push(r);
    }
    return {
      id,
      progress: sweepProgress(
        sorted.map((r) => r.status),
        Math.max(...sorted.map((r) => r.sweep!.total)),
      ),
      runIds: sorted.map((r) => r.id),
      cells: [...cells.entries()].map(([cell, rs]) => ({
        cell,
        runs: rs,
        best: meanStd(rs.map((r) => r.best?.score ?? Number.NaN)),
        test: meanStd(rs.map((r) => testScore(r, mode, metric, decode)).filter((x): x is number => x !== null)),
      })),
    };
  });
}
