// Across runs: mean ± sample std over seeds per preset and mode, from the runs' metrics files (the CLI
// `aimkp report` and the workbench's report view call this).
import type { EvalMode } from '../lm/contract';
import { CoreError } from '../core-error';
import { absolutePath } from '../paths';
import {
  buildReport,
  CONVENTIONS,
  reportCsv,
  reportLatex,
  reportMarkdown,
  type Convention,
  type Report,
} from './report';
import { loadRunMetrics } from './report-load';
import { DECODE_STRATEGIES, EVAL_MODES, type DecodeStrategy } from './run-paths';

export interface ReportRunsOptions {
  /** Run folders, absolute. */
  runDirs: string[];
  /** Default 'test'. */
  split?: string;
  /** Default 'beam-sample'. */
  decode?: DecodeStrategy;
  /** Default: all three. */
  modes?: EvalMode[];
  /** Default 'aimkp'. */
  convention?: Convention;
  /**
   * The group of each run, parallel to runDirs (a sweep's cells: one preset with different overrides); default each
   * run's preset. Rows keep the label as their `preset`.
   */
  groups?: string[];
}

export interface ReportRunsResult {
  report: Report;
  /** Metrics files looked for and not found (those runs are left out of that cell). */
  missing: string[];
  markdown: string;
  csv: string;
  latex: string;
}

export function reportRuns(options: ReportRunsOptions): ReportRunsResult {
  if (options.runDirs.length === 0)
    throw new CoreError('BAD_INPUT', 'runDirs: give at least one run folder', { field: 'runDirs' });
  const runDirs = options.runDirs.map((d, i) => absolutePath(d, `runDirs[${i}]`));
  const split = options.split ?? 'test';
  const decode = options.decode ?? 'beam-sample';
  if (!DECODE_STRATEGIES.includes(decode))
    throw new CoreError('BAD_INPUT', `decode must be one of ${DECODE_STRATEGIES.join(', ')}`, { field: 'decode' });
  const modes = options.modes ?? [...EVAL_MODES];
  if (modes.length === 0 || modes.some((m) => !EVAL_MODES.includes(m)))
    throw new CoreError('BAD_INPUT', `modes must be a non-empty list of ${EVAL_MODES.join(', ')}`, { field: 'modes' });
  const convention = options.convention ?? 'aimkp';
  if (!CONVENTIONS.includes(convention))
    throw new CoreError('BAD_INPUT', `convention must be ${CONVENTIONS.join(' or ')}`, { field: 'convention' });
  if (options.groups !== undefined && options.groups.length !== runDirs.length)
    throw new CoreError('BAD_INPUT', `groups: expected one label per run folder (${runDirs.length})`, {
      field: 'groups',
    });
  const loaded = loadRunMetrics(runDirs, { split, decode, modes });
  const runs = options.groups ? loaded.runs.map((r, i) => ({ ...r, preset: options.groups![i] })) : loaded.runs;
  const report = buildReport(runs, { convention, split, decode, modes });
  return {
    report,
    missing: loaded.missing,
    markdown: reportMarkdown(report),
    csv: reportCsv(report),
    latex: reportLatex(report),
  };
}
