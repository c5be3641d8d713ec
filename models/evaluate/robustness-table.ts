// `aimkp robustness --table --group preset`: saved robustness reports grouped by preset (one group per preset,
// its reports = its seeds), mean ± sample std per condition. Pure: the CLI reads the files and config.json.
import { csvField, meanStd, METRIC_LABEL } from './report';
import type { RobustnessMetric, RobustnessReport } from './robustness';

/** One saved report with what its run folder's config.json says about it. */
export interface RobustnessInput {
  /** The report file as given (names it in warnings and in the CSV). */
  file: string;
  report: RobustnessReport;
  /** config.json "preset". */
  preset: string;
  /** config.json "seed" (the training seed); null when not recorded. */
  seed: number | null;
}

export type RobustnessGrouping = 'preset' | 'none';

export interface RobustnessStat {
  /** Reports that have the condition. */
  n: number;
  /** Percent (×100). */
  mean: number;
  /** Sample standard deviation (n − 1), percent; null when n < 2. */
  std: number | null;
  /** Percent, aligned with seeds / runs. */
  values: number[];
  seeds: (number | null)[];
  runs: string[];
}

export interface RobustnessColumn {
  /** The preset (--group preset) or the report's run name (--group none). */
  label: string;
  /** Training seeds of the group's reports, ascending (unknown last). */
  seeds: (number | null)[];
  runs: string[];
  files: string[];
}

export interface RobustnessRow {
  condition: string;
  /** One per column; null when no report of the group has the condition. */
  cells: (RobustnessStat | null)[];
}

export interface GroupedRobustness {
  metric: RobustnessMetric;
  grouping: RobustnessGrouping;
  columns: RobustnessColumn[];
  rows: RobustnessRow[];
  /** Splits and item counts of the reports (one value each when they agree). */
  splits: string[];
  items: number[];
  /** Problems that do not stop the table (printed on stderr by the CLI). */
  warnings: string[];
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
const seedText = (s: number | null) => (s === null ? '?' : String(s));

/**
 * The reports' suite settings that must agree for their conditions to be the same draws: split, --seed,
 * --pattern and the item count (what --limit leaves). One warning per differing setting, naming the files.
 */
export function robustnessSettingsWarnings(inputs: readonly Pick<RobustnessInput, 'file' | 'report'>[]): string[] {
  const settings: [string, (r: RobustnessReport) => unknown][] = [
    ['split', (r) => r.split],
    ['suite seed (--seed)', (r) => r.seed],
    ['mask pattern (--pattern)', (r) => r.maskPattern],
    ['item count (--limit)', (r) => r.n],
  ];
  const out: string[] = [];
  for (const [what, get] of settings) {
    const byValue = new Map<string, string[]>();
    for (const { file, report } of inputs) {
      const v = get(report);
      // Older or hand-made reports may lack a setting: nothing to compare.
      if (v === undefined || v === null) continue;
      const key = String(v);
      byValue.set(key, [...(byValue.get(key) ?? []), file]);
    }
    if (byValue.size > 1)
      out.push(
        `warning: the robustness reports differ in ${what}: ${[...byValue].map(([v, files]) => `${v} (${files.join(', ')})`).join('; ')}`,
      );
  }
  return out;
}

/**
 * Groups the reports (by preset, in first-seen order; or one column per report) and aggregates `metric` per
 * condition over each group. Rows: the union of the conditions, in the first report's order (then any others
 * as first seen). A condition some reports of a group lack is averaged over those that have it.
 */
export function groupRobustness(
  inputs: readonly RobustnessInput[],
  metric: RobustnessMetric,
  grouping: RobustnessGrouping = 'preset',
): GroupedRobustness {
  const order: string[] = [];
  const members = new Map<string, RobustnessInput[]>();
  inputs.forEach((input, i) => {
    const key = grouping === 'preset' ? input.preset : String(i);
    if (!members.has(key)) {
      members.set(key, []);
      order.push(key);
    }
    members.get(key)!.push(input);
  });
  const warnings = robustnessSettingsWarnings(inputs);
  const groups = order.map((key) => {
    // Ascending training seed (stable: unknown seeds keep their order, last), so "seeds 1,2,10" reads naturally.
    const list = [...members.get(key)!].sort((a, b) =>
      a.seed === null ? (b.seed === null ? 0 : 1) : b.seed === null ? -1 : a.seed - b.seed,
    );
    if (grouping === 'preset') {
      const seen = new Map<number, string[]>();
      for (const m of list) if (m.seed !== null) seen.set(m.seed, [...(seen.get(m.seed) ?? []), m.file]);
      for (const [seed, files] of seen)
        if (files.length > 1)
          warnings.push(
            `warning: preset ${key}: seed ${seed} appears in ${files.length} reports (${files.join(', ')}); each is counted`,
          );
    }
    return list;
  });
  const columns = groups.map((list): RobustnessColumn => ({
    label: grouping === 'preset' ? list[0].preset : list[0].report.run,
    seeds: list.map((m) => m.seed),
    runs: list.map((m) => m.report.run),
    files: list.map((m) => m.file),
  }));
  const names: string[] = [];
  for (const { report } of inputs) for (const c of report.conditions) if (!names.includes(c.name)) names.push(c.name);
  const rows = names.map((condition): RobustnessRow => ({
    condition,
    cells: groups.map((list) => {
      const have = list.flatMap((m) => {
        const c = m.report.conditions.find((x) => x.name === condition);
        return c ? [{ m, value: 100 * c.aimkp[metric] }] : [];
      });
      if (have.length === 0) return null;
      const values = have.map((h) => h.value);
      const { mean, std } = meanStd(values);
      return {
        n: have.length,
        mean,
        std,
        values,
        seeds: have.map((h) => h.m.seed),
        runs: have.map((h) => h.m.report.run),
      };
    }),
  }));
  return {
    metric,
    grouping,
    columns,
    rows,
    splits: unique(inputs.map((x) => x.report.split)),
    items: unique(inputs.map((x) => x.report.n)),
    warnings,
  };
}

const fmt = (x: number) => x.toFixed(2);

function columnHeader(c: RobustnessColumn): string {
  const seeds = c.seeds.map(seedText).join(',');
  return c.seeds.length === 1 ? `${c.label} (seed ${seeds}; n=1)` : `${c.label} (seeds ${seeds})`;
}

/** "mean ± std", "mean" for one report; "(n=k)" when fewer of the group's reports than all have the condition. */
export function robustnessCellText(stat: RobustnessStat | null, groupSize: number): string {
  if (stat === null) return '—';
  const base = stat.std === null ? fmt(stat.mean) : `${fmt(stat.mean)} ± ${fmt(stat.std)}`;
  return stat.n === groupSize ? base : `${base} (n=${stat.n})`;
}

/** Markdown: one row per condition, one column per preset. */
export function groupedRobustnessMarkdown(g: GroupedRobustness): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const split = g.splits.length === 1 ? `split ${g.splits[0]}` : `splits ${g.splits.join(', ')}`;
  const items = g.items.length === 1 ? `${g.items[0]} items` : `${g.items.join('/')} items`;
  const lines = [
    `${METRIC_LABEL[g.metric]} by condition (AimKP convention, %, greedy decoding); columns: presets, mean ± sample std over seeds (n − 1); ${split}, ${items}`,
    '',
    `| condition | ${g.columns.map((c) => esc(columnHeader(c))).join(' | ')} |`,
    `|---|${g.columns.map(() => '---:').join('|')}|`,
  ];
  for (const row of g.rows)
    lines.push(
      `| ${esc(row.condition)} | ${row.cells.map((s, i) => robustnessCellText(s, g.columns[i].seeds.length)).join(' | ')} |`,
    );
  return lines.join('\n') + '\n';
}

/** Long CSV: one row per condition × column (a condition none of the group's reports has is left out). */
export function groupedRobustnessCsv(g: GroupedRobustness): string {
  const lines = [
    `condition,${g.grouping === 'preset' ? 'preset' : 'run'},metric,n,mean_pct,std_pct,values_pct,seeds,runs`,
  ];
  for (const row of g.rows) {
    row.cells.forEach((s, i) => {
      if (s === null) return;
      lines.push(
        [
          csvField(row.condition),
          csvField(g.columns[i].label),
          g.metric,
          String(s.n),
          s.mean.toFixed(4),
          s.std === null ? '' : s.std.toFixed(4),
          csvField(s.values.map((v) => v.toFixed(4)).join(';')),
          csvField(s.seeds.map(seedText).join(';')),
          csvField(s.runs.join(';')),
        ].join(','),
      );
    });
  }
  return lines.join('\n') + '\n';
}
