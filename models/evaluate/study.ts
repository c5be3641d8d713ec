// A study as the workbench's Study view shows it (issue 19): runs grouped into arms by folder name without the
// "-s<seed>" tail (the rule of `aimkp report --group-by folder`, study-table.ts groupOf), per arm × mode × metric
// the mean, sample std, t-based 95 % CI and every seed's value; Δ against a pinned baseline arm with Welch's t,
// df, p and 95 % CI (study-table.ts deltaRows → metrics/welch.ts); the gradient filter's acceptance per epoch and
// modality pooled over each arm's seeds (filter-stats.ts), beside the paper's Fig. 7; and every run left out, with why.
import type { EvalMode } from '../lm/contract';
import { CoreError } from '../core-error';
import { meanCi95, type MeanCi } from '../metrics/welch';
import { readFilterChecks, poolFilterChecks, type FilterChecks, type FilterEpochStat } from './filter-stats';
import { REPORT_METRICS, type Convention, type ReportMetric } from './report';
import { loadRunMetrics } from './report-load';
import { EVAL_MODES, type DecodeStrategy } from './run-paths';
import type { HeadlineScores } from './score-predictions';
import { deltaRows, groupOf } from './study-table';

export interface StudyReportOptions {
  /** Absolute run folders. */
  runDirs: readonly string[];
  split: string;
  decode: DecodeStrategy;
  convention: Convention;
  modes?: readonly EvalMode[];
  /** The pinned baseline arm; undefined = the first arm whose name contains "baseline" (none: no Δ). */
  baseline?: string | null;
  /** How a run's filter checks are read (default readFilterChecks; the service passes a cached reader). */
  readChecks?: (runDir: string) => FilterChecks[];
}

/** One seed's score in a cell, percent. */
export interface StudySeedValue {
  run: string;
  seed: number | null;
  value: number;
  /** Test items the evaluation scored (seeds scored on different item counts are not comparable). */
  items: number;
}

export interface StudyCell extends MeanCi {
  seeds: StudySeedValue[];
}

export interface StudyArm {
  arm: string;
  runs: { run: string; seed: number | null; preset: string }[];
  cells: Record<EvalMode, Partial<Record<ReportMetric, StudyCell>>>;
  /** The filter per 1-based epoch and modality, pooled over the arm's runs that trained with it ([]: none did). */
  acceptance: FilterEpochStat[];
  /** How many of the arm's runs the acceptance pools. */
  filterRuns: number;
}

export interface StudyDelta {
  arm: string;
  mode: EvalMode;
  metric: ReportMetric;
  nArm: number;
  nBaseline: number;
  meanArm: number;
  meanBaseline: number;
  /** meanArm − meanBaseline, percent points. */
  delta: number;
  /** Welch's test; null when either side has fewer than 2 seeds. se = 0 (both constant) gives t, df, p null. */
  welch: { se: number; t: number | null; df: number | null; p: number | null; ci95: [number, number] } | null;
}

export interface StudyLeftOut {
  run: string;
  reason: string;
  /** The modes it is left out of (all of them when the run has no score at all). */
  modes: EvalMode[];
}

export interface StudyReport {
  split: string;
  decode: DecodeStrategy;
  convention: Convention;
  modes: EvalMode[];
  arms: StudyArm[];
  baseline: string | null;
  deltas: StudyDelta[];
  leftOut: StudyLeftOut[];
}

/** Arms in natural order ("aimkp-e4" < "aimkp-e6" < "aimkp-e10"). */
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export function studyReport(o: StudyReportOptions): StudyReport {
  const modes = [...(o.modes ?? EVAL_MODES)];
  const readChecks = o.readChecks ?? readFilterChecks;
  const dirs = [...o.runDirs];
  const loaded = loadRunMetrics(dirs, { split: o.split, decode: o.decode, modes, skipUnreadable: true });
  const leftOut: StudyLeftOut[] = loaded.skipped.map((s) => ({ run: s.name, reason: s.reason, modes }));
  const dirOf = new Map(dirs.map((d) => [d.split(/[\\/]/).filter(Boolean).pop() ?? d, d]));

  const armNames = [...new Set(loaded.runs.map((r) => groupOf(r, 'folder')))].sort(byName);
  const arms: StudyArm[] = armNames.map((arm) => {
    const members = loaded.runs
      .filter((r) => groupOf(r, 'folder') === arm)
      .sort((a, b) => (a.seed ?? Infinity) - (b.seed ?? Infinity) || byName(a.name, b.name));
    const cells = { multimodal: {}, text: {}, image: {} } as StudyArm['cells'];
    for (const mode of modes)
      for (const metric of REPORT_METRICS) {
        const seeds: StudySeedValue[] = [];
        for (const r of members) {
          const f = r.byMode[mode];
          if (f)
            seeds.push({
              run: r.name,
              seed: r.seed,
              value: 100 * (f[o.convention] as HeadlineScores)[metric],
              items: f.n,
            });
        }
        if (seeds.length > 0) cells[mode][metric] = { ...meanCi95(seeds.map((s) => s.value)), seeds };
      }
    const checks = members.map((r) => readChecksOf(r.name)).filter((c) => c.length > 0);
    return {
      arm,
      runs: members.map((r) => ({ run: r.name, seed: r.seed, preset: r.preset })),
      cells,
      acceptance: poolFilterChecks(checks),
      filterRuns: checks.length,
    };
  });

  function readChecksOf(run: string): FilterChecks[] {
    const dir = dirOf.get(run);
    if (dir === undefined) return [];
    try {
      return readChecks(dir);
    } catch (err) {
      // Scores without the filter's record still count; the run is named with why its acceptance is missing.
      leftOut.push({ run, reason: `acceptance not read: ${(err as Error).message}`, modes: [] });
      return [];
    }
  }

  for (const r of loaded.runs) {
    const absent = modes.filter((m) => !r.byMode[m]);
    if (absent.length > 0)
      leftOut.push({
        run: r.name,
        reason: `not evaluated on ${o.split} with ${o.decode} decoding in ${absent.join(', ')} (no metrics/${o.split}.<mode>.${o.decode}.json)`,
        modes: absent,
      });
  }

  const baseline =
    o.baseline === undefined || o.baseline === null
      ? o.baseline === null
        ? null
        : (armNames.find((a) => /baseline/i.test(a)) ?? null)
      : o.baseline;
  if (baseline !== null && !armNames.includes(baseline))
    throw new CoreError(
      'BAD_INPUT',
      `baseline "${baseline}" is not an arm of this study (arms: ${armNames.join(', ') || 'none with scores'})`,
      { field: 'baseline' },
    );
  const deltas: StudyDelta[] =
    baseline === null
      ? []
      : deltaRows(loaded.runs, baseline, {
          convention: o.convention,
          split: o.split,
          decode: o.decode,
          modes,
          groupBy: 'folder',
        })
          .map((d): StudyDelta => {
            const armCell = arms.find((a) => a.arm === d.group)!.cells[d.mode][d.metric]!;
            const baseCell = arms.find((a) => a.arm === baseline)!.cells[d.mode][d.metric]!;
            const w = d.welch;
            return {
              arm: d.group,
              mode: d.mode,
              metric: d.metric,
              nArm: d.nGroup,
              nBaseline: d.nBaseline,
              meanArm: armCell.mean,
              meanBaseline: baseCell.mean,
              delta: armCell.mean - baseCell.mean,
              welch: w ? { se: w.se, t: w.t, df: w.df, p: w.p, ci95: w.ci95 } : null,
            };
          })
          .sort((a, b) => byName(a.arm, b.arm));
  leftOut.sort((a, b) => byName(a.run, b.run));
  return { split: o.split, decode: o.decode, convention: o.convention, modes, arms, baseline, deltas, leftOut };
}
