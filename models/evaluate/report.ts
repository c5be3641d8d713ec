// `aimkp report`: mean ± sample std over seeds of runs grouped by preset, by evaluation mode.
import type { EvalMode } from '../lm/contract';
import type { MetricsFile } from './metrics-file';
import type { HeadlineScores } from './score-predictions';
import { CONVENTIONS, REPORT_METRICS, type Convention, type ReportMetric } from '../../shared/vocabulary';

export { CONVENTIONS, REPORT_METRICS, type Convention, type ReportMetric };
export const METRIC_LABEL: Record<ReportMetric, string> = { 'f1@1': 'F1@1', 'f1@3': 'F1@3', 'map@5': 'MAP@5' };
export const MODE_LABEL: Record<EvalMode, string> = {
  multimodal: 'multimodal',
  text: 'text-only',
  image: 'image-only',
};

/** One run's metrics for each mode it has been evaluated in. */
export interface RunMetrics {
  name: string;
  preset: string;
  seed: number | null;
  byMode: Partial<Record<EvalMode, MetricsFile>>;
}

export interface Stat {
  /** Number of runs (seeds) averaged. */
  n: number;
  /** Percent (×100). */
  mean: number;
  /** Sample standard deviation (n − 1 denominator), percent; null when n < 2. */
  std: number | null;
  values: number[];
}

export interface ReportGroup {
  preset: string;
  runs: string[];
  seeds: (number | null)[];
  cells: Record<EvalMode, Partial<Record<ReportMetric, Stat>>>;
}

export interface Report {
  convention: Convention;
  split: string;
  decode: string;
  modes: EvalMode[];
  groups: ReportGroup[];
}

/** Mean and sample standard deviation (n − 1). std is null for a single value. */
export function meanStd(values: readonly number[]): { mean: number; std: number | null } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null };
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

/** Groups runs by preset (in first-seen order) and aggregates each metric per mode across the group's runs. */
export function buildReport(
  runs: readonly RunMetrics[],
  opts: { convention: Convention; split: string; decode: string; modes: EvalMode[] },
): Report {
  const order: string[] = [];
  const byPreset = new Map<string, RunMetrics[]>();
  for (const r of runs) {
    if (!byPreset.has(r.preset)) {
      byPreset.set(r.preset, []);
      order.push(r.preset);
    }
    byPreset.get(r.preset)!.push(r);
  }
  const groups = order.map((preset): ReportGroup => {
    const members = byPreset.get(preset)!;
    const cells = { multimodal: {}, text: {}, image: {} } as Record<EvalMode, Partial<Record<ReportMetric, Stat>>>;
    for (const mode of opts.modes) {
      for (const metric of REPORT_METRICS) {
        const values = members
          .map((m) => m.byMode[mode])
          .filter((f): f is MetricsFile => f !== undefined)
          .map((f) => 100 * (f[opts.convention] as HeadlineScores)[metric]);
        if (values.length === 0) continue;
        const { mean, std } = meanStd(values);
        cells[mode][metric] = { n: values.length, mean, std, values };
      }
    }
    return { preset, runs: members.map((m) => m.name), seeds: members.map((m) => m.seed), cells };
  });
  return { ...opts, groups };
}

const fmt = (x: number) => x.toFixed(2);

function cellText(stat: Stat | undefined, groupN: number, pm: string): string {
  if (!stat) return '—';
  const base = stat.std === null ? fmt(stat.mean) : `${fmt(stat.mean)} ${pm} ${fmt(stat.std)}`;
  // A mode evaluated on fewer runs than the group has says so.
  return stat.n === groupN ? base : `${base} (n=${stat.n})`;
}

function seedText(g: ReportGroup): string {
  return g.seeds.map((s) => (s === null ? '?' : String(s))).join(',');
}

function caption(r: Report): string {
  return `${r.convention === 'aimkp' ? 'AimKP' : 'CMKP'} convention, percent; mean ± sample std over seeds (n = runs); split ${r.split}, decode ${r.decode}`;
}

export function reportMarkdown(r: Report): string {
  const head = ['preset', 'n', 'seeds'];
  for (const mode of r.modes) for (const m of REPORT_METRICS) head.push(`${MODE_LABEL[mode]} ${METRIC_LABEL[m]}`);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = r.groups.map((g) => {
    const cells = [esc(g.preset), String(g.runs.length), seedText(g)];
    for (const mode of r.modes)
      for (const m of REPORT_METRICS) cells.push(cellText(g.cells[mode][m], g.runs.length, '±'));
    return `| ${cells.join(' | ')} |`;
  });
  return (
    [
      `Scores (${caption(r)})`,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map((_, i) => (i < 1 ? '---' : '---:')).join('|')}|`,
      ...rows,
    ].join('\n') + '\n'
  );
}

/** One CSV field, quoted when it holds a quote, comma or newline (RFC 4180). */
export function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Long CSV: one row per preset × mode × metric. Empty std when n < 2. */
export function reportCsv(r: Report): string {
  const lines = ['preset,mode,metric,convention,n,mean_pct,std_pct,values_pct,runs'];
  for (const g of r.groups) {
    for (const mode of r.modes) {
      for (const m of REPORT_METRICS) {
        const s = g.cells[mode][m];
        if (!s) continue;
        lines.push(
          [
            csvField(g.preset),
            mode,
            m,
            r.convention,
            String(s.n),
            s.mean.toFixed(4),
            s.std === null ? '' : s.std.toFixed(4),
            csvField(s.values.map((v) => v.toFixed(4)).join(';')),
            csvField(g.runs.join(';')),
          ].join(','),
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}

function latexEscape(s: string): string {
  return s.replace(/([\\{}&%$#_^~])/g, (c) =>
    c === '\\' ? '\\textbackslash{}' : c === '^' ? '\\^{}' : c === '~' ? '\\~{}' : `\\${c}`,
  );
}

/** A booktabs table: one row per preset, three columns per mode. */
export function reportLatex(r: Report): string {
  const nm = REPORT_METRICS.length;
  const cols = 'l' + 'r' + 'c'.repeat(nm * r.modes.length);
  const modeHead = r.modes.map((m) => `\\multicolumn{${nm}}{c}{${MODE_LABEL[m]}}`).join(' & ');
  const rules = r.modes.map((_, i) => `\\cmidrule(lr){${3 + i * nm}-${2 + (i + 1) * nm}}`).join(' ');
  const metricHead = r.modes.map(() => REPORT_METRICS.map((m) => METRIC_LABEL[m]).join(' & ')).join(' & ');
  const rows = r.groups.map((g) => {
    const cells = [latexEscape(g.preset), String(g.runs.length)];
    for (const mode of r.modes) {
      for (const m of REPORT_METRICS) {
        const s = g.cells[mode][m];
        if (!s) cells.push('--');
        else {
          const base = s.std === null ? `$${fmt(s.mean)}$` : `$${fmt(s.mean)} \\pm ${fmt(s.std)}$`;
          cells.push(s.n === g.runs.length ? base : `${base}\\textsuperscript{n=${s.n}}`);
        }
      }
    }
    return `${cells.join(' & ')} \\\\`;
  });
  return (
    [
      '\\begin{table}[t]',
      '\\centering',
      `\\begin{tabular}{${cols}}`,
      '\\toprule',
      ` & & ${modeHead} \\\\`,
      rules,
      `Preset & $n$ & ${metricHead} \\\\`,
      '\\midrule',
      ...rows,
      '\\bottomrule',
      '\\end{tabular}',
      `\\caption{${latexEscape(caption(r)).replace('±', '$\\pm$')}}`,
      '\\end{table}',
    ].join('\n') + '\n'
  );
}
