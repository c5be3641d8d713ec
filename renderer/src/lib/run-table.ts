// Rows of the Runs table: per run, the best validation score and the test scores per mode; per preset group, the
// mean ± std over its runs; and deltas against a pinned baseline run.
import type { RunSummary } from '@shared/contract/service';
import { EVAL_MODES, REPORT_METRICS, type DecodeStrategy, type EvalMode, type ReportMetric } from '@shared/vocabulary';
import { meanStd, type MeanStd } from './stats';

/** A run's test evaluation for a mode and decoding, or undefined. */
export function testEval(
  run: RunSummary,
  mode: EvalMode,
  decode: DecodeStrategy = 'greedy',
): RunSummary['test'][number] | undefined {
  return run.test.find((m) => m.mode === mode && m.split === 'test' && m.decode === decode);
}

/** A run's test score for a mode, metric and decoding (fraction), or null when not evaluated. */
export function testScore(
  run: RunSummary,
  mode: EvalMode,
  metric: ReportMetric,
  decode: DecodeStrategy = 'greedy',
): number | null {
  const t = testEval(run, mode, decode);
  return t ? t.scores[metric] : null;
}

export interface PresetGroup {
  preset: string;
  runs: RunSummary[];
  best: MeanStd | null;
  test: Record<EvalMode, Record<ReportMetric, MeanStd | null>>;
}

export function groupByPreset(runs: readonly RunSummary[], decode: DecodeStrategy = 'greedy'): PresetGroup[] {
  const by = new Map<string, RunSummary[]>();
  for (const r of runs) {
    if (!by.has(r.preset)) by.set(r.preset, []);
    by.get(r.preset)!.push(r);
  }
  return [...by.entries()].map(([preset, list]) => {
    const test = {} as PresetGroup['test'];
    for (const mode of EVAL_MODES) {
      test[mode] = {} as Record<ReportMetric, MeanStd | null>;
      for (const metric of REPORT_METRICS)
        test[mode][metric] = meanStd(
          list.map((r) => testScore(r, mode, metric, decode)).filter((x): x is number => x !== null),
        );
    }
    return { preset, runs: list, best: meanStd(list.map((r) => r.best?.score ?? Number.NaN)), test };
  });
}

/** other − baseline for one mode/metric, or null when either is missing. */
export function delta(
  run: RunSummary,
  baseline: RunSummary | null,
  mode: EvalMode,
  metric: ReportMetric,
  decode: DecodeStrategy = 'greedy',
): number | null {
  if (!baseline || baseline.id === run.id) return null;
  const a = testScore(run, mode, metric, decode);
  const b = testScore(baseline, mode, metric, decode);
  return a === null || b === null ? null : a - b;
}
