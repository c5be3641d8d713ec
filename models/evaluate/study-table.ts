// The study's tables (issue 19, protocol): per-seed metrics as CSV (what docs/results.md commits for every table),
// and Δ against a pinned baseline group with Welch's t, df, two-sided p and the 95 % CI, per mode and metric.
import type { EvalMode } from '../lm/contract';
import { CoreError } from '../core-error';
import { welch, type WelchResult } from '../metrics/welch';
import {
  buildReport,
  csvField,
  METRIC_LABEL,
  MODE_LABEL,
  REPORT_METRICS,
  type Convention,
  type RunMetrics,
} from './report';
import type { HeadlineScores } from './score-predictions';

/** How runs form groups: by config.json's preset, or by folder name without its "-s<seed>" tail (sweeps, τ grids). */
export type GroupBy = 'preset' | 'folder';
export const GROUP_BY: readonly GroupBy[] = ['preset', 'folder'];

/**
 * The group a run belongs to. By folder: the name without its "-s<seed>" tail (scripts/study.sh's and sweeps'
 * `<arm>-s<seed>`), also when the workbench's New run added its launch time (`<preset>-s<seed>-<yyyymmdd-hhmmss>[-k]`),
 * so that the seeds of app-made runs of one preset form one group.
 */
export function groupOf(run: Pick<RunMetrics, 'name' | 'preset'>, by: GroupBy): string {
  return by === 'preset' ? run.preset : run.name.replace(/-s\d+(?:-\d{8}-\d{6}(?:-\d+)?)?$/, '');
}

export interface StudyOptions {
  convention: Convention;
  split: string;
  decode: string;
  modes: EvalMode[];
  groupBy: GroupBy;
}

/** One row per run × mode × metric: the numbers every mean, std, t and CI of the study is computed from. */
export function seedsCsv(runs: readonly RunMetrics[], o: StudyOptions): string {
  const lines = ['group,run,preset,seed,mode,metric,convention,split,decode,value_pct,items'];
  for (const r of runs)
    for (const mode of o.modes) {
      const f = r.byMode[mode];
      if (!f) continue;
      for (const m of REPORT_METRICS)
        lines.push(
          [
            csvField(groupOf(r, o.groupBy)),
            csvField(r.name),
            csvField(r.preset),
            r.seed === null ? '' : String(r.seed),
            mode,
            m,
            o.convention,
            csvField(o.split),
            o.decode,
            (100 * (f[o.convention] as HeadlineScores)[m]).toFixed(4),
            String(f.n),
          ].join(','),
        );
    }
  return lines.join('\n') + '\n';
}

export interface DeltaRow {
  group: string;
  mode: EvalMode;
  metric: (typeof REPORT_METRICS)[number];
  /** null when either side has fewer than 2 seeds (no t without a spread). */
  welch: WelchResult | null;
  nBaseline: number;
  nGroup: number;
}

/** Δ = group − baseline for every other group, mode and metric. */
export function deltaRows(runs: readonly RunMetrics[], baseline: string, o: StudyOptions): DeltaRow[] {
  const grouped = runs.map((r) => ({ ...r, preset: groupOf(r, o.groupBy) }));
  const report = buildReport(grouped, o);
  const base = report.groups.find((g) => g.preset === baseline);
  if (!base)
    throw new CoreError(
      'BAD_INPUT',
      `--baseline "${baseline}" is not a group of these runs (groups by ${o.groupBy}: ${report.groups.map((g) => g.preset).join(', ')})`,
      { field: 'baseline' },
    );
  const rows: DeltaRow[] = [];
  for (const g of report.groups) {
    if (g === base) continue;
    for (const mode of o.modes)
      for (const metric of REPORT_METRICS) {
        const a = base.cells[mode][metric]?.values ?? [];
        const b = g.cells[mode][metric]?.values ?? [];
        if (a.length === 0 || b.length === 0) continue;
        rows.push({
          group: g.preset,
          mode,
          metric,
          welch: a.length >= 2 && b.length >= 2 ? welch(a, b) : null,
          nBaseline: a.length,
          nGroup: b.length,
        });
      }
  }
  return rows;
}

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '' : x.toFixed(2));

export function deltaCsv(rows: readonly DeltaRow[], baseline: string): string {
  const lines = [
    'group,baseline,mode,metric,n_group,n_baseline,mean_group,mean_baseline,delta,ci95_lo,ci95_hi,welch_t,df,p',
  ];
  for (const r of rows) {
    const w = r.welch;
    lines.push(
      [
        csvField(r.group),
        csvField(baseline),
        r.mode,
        r.metric,
        r.nGroup,
        r.nBaseline,
        w ? w.meanB.toFixed(4) : '',
        w ? w.meanA.toFixed(4) : '',
        w ? w.delta.toFixed(4) : '',
        w ? w.ci95[0].toFixed(4) : '',
        w ? w.ci95[1].toFixed(4) : '',
        w?.t?.toFixed(4) ?? '',
        w?.df?.toFixed(3) ?? '',
        w?.p?.toFixed(4) ?? '',
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export function deltaMarkdown(rows: readonly DeltaRow[], baseline: string, o: StudyOptions): string {
  const head = `Δ against "${baseline}" (${o.convention === 'aimkp' ? 'AimKP' : 'CMKP'} convention, percent points; split ${o.split}, decode ${o.decode}; Welch's t, 95 % CI = Δ ± t₀.₉₇₅,df · se)`;
  const out = [
    head,
    '',
    '| group | mode | metric | n | Δ | 95 % CI | Welch t | df | p |',
    '|---|---|---|---:|---:|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    const w = r.welch;
    out.push(
      `| ${r.group.replace(/\|/g, '\\|')} | ${MODE_LABEL[r.mode]} | ${METRIC_LABEL[r.metric]} | ${r.nGroup} vs ${r.nBaseline} | ` +
        (w
          ? `${w.delta >= 0 ? '+' : ''}${f2(w.delta)} | [${f2(w.ci95[0])}, ${f2(w.ci95[1])}] | ${f2(w.t)} | ${f2(w.df)} | ${w.p === null ? '' : w.p.toFixed(3)} |`
          : '— | needs ≥ 2 seeds per side | | | |'),
    );
  }
  return out.join('\n') + '\n';
}
