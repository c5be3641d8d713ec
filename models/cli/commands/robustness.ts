// `aimkp robustness`: flag parsing and printing around evaluate/robustness-run.ts runRobustness, and the
// side-by-side table of saved reports (--table).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { intFlag, orList, parseCommandArgs, requireFlag, workersFlag, workersFlagHelp } from '../args';
import { CoreError } from '../../core-error';
import type { KeepPattern } from '../../evaluate/perturb';
import { DEFAULT_SUITE, robustnessCompareMarkdown, type RobustnessReport } from '../../evaluate/robustness';
import { runRobustness } from '../../evaluate/robustness-run';
import {
  groupedRobustnessCsv,
  groupedRobustnessMarkdown,
  groupRobustness,
  robustnessSettingsWarnings,
  type RobustnessGrouping,
  type RobustnessInput,
} from '../../evaluate/robustness-table';
import { progressLinePrinter } from '../progress-lines';
import { REPORT_METRICS, type ReportMetric } from '../../../shared/vocabulary';
import { absoluteFlag, parseBatch, parseLimit, parseSplit, parseWhich } from './predict';

const USAGE = `Usage: aimkp robustness --run RUN [--data DIR] [--split test] [--ratios 0,0.25,0.5,0.75,0.9]
                        [--strides 2,4] [--sigmas 0.5,1,2] [--pattern random|spread] [--seed 1]
                        [--limit N] [--which best|last] [--batch 16] [--max-new N] [--cache DIR] [--out FILE]
                        [--workers K]

Test-time robustness suite (greedy decoding, AimKP convention F1@1 / F1@3 / MAP@5 per condition):
  clean              the multimodal prompt, unchanged
  image-mask@r       a share r of the 7×7 image tokens dropped (their features set to 0), per --pattern
  text-mask@r        a share r of the post-text tokens dropped (removed from the text span)
  image-stride@s     the training-time structured image mask (bottom-right token of each s×s block kept)
  text-stride@s      the training-time structured text mask (last token of each window of s kept)
  text-only          image removed from the prompt;   image-only: text removed from the prompt
  image-swap         each item gets another item's image (seeded cyclic derangement)
  text-swap          each item gets another item's post text
  image-noise@σ      Gaussian noise N(0, (σ·std)²) added to the image features, std = the split's feature std
Kept count at ratio r of n tokens: n − ⌊r·n⌋, at least 1. --pattern random (default): a seeded random subset
per item; spread: evenly spaced positions (ending at the last token). Every condition has its own seed.

Writes RUN/robustness/<split>.json and a Markdown table beside it (.md), and prints the table. Compare models by
running the suite on each run (same --seed and --limit) and plotting the curves.

${workersFlagHelp(21)}
                     (each condition's batches spread over the threads; same results for any K)

Side by side (no decoding): aimkp robustness --table FILE... [--metric f1@1|f1@3|map@5] [--group none|preset]
                                                 [--format md|csv]
  --metric NAME       the score shown (default f1@3), in percent
  --group none        one column per saved report (default)
  --group preset      one column per preset (read from RUN/config.json of each RUN/robustness/<split>.json),
                      mean ± sample std (n − 1) over its reports (seeds); header "PRESET (seeds 1,2,3)"; a
                      condition only some of a group's reports have is averaged over those and marked (n=k)
  --format md|csv     Markdown table (default) or long CSV: one row per condition × column with
                      n, mean_pct, std_pct, values_pct, seeds, runs
Reports of another split, suite --seed, --pattern or item count (--limit) are named in a warning on stderr.

Example:
  aimkp robustness --run runs/aimkp-s1 --limit 300
  aimkp robustness --run runs/baseline-s1 --limit 300
  aimkp robustness --table runs/baseline-s1/robustness/test.json runs/aimkp-s1/robustness/test.json
  aimkp robustness --table runs/full/*/robustness/test.json --group preset --metric f1@1

See docs/evaluation.md.`;

const log = (line: string) => process.stderr.write(line + '\n');

function readReport(f: string): RobustnessReport {
  if (!existsSync(f)) throw new CoreError('NOT_FOUND', `robustness report "${f}" does not exist`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(f, 'utf8'));
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${f}: invalid JSON (${(err as Error).message})`);
  }
  const r = v as Partial<RobustnessReport>;
  if (typeof v !== 'object' || v === null || !Array.isArray(r.conditions) || typeof r.run !== 'string')
    throw new CoreError('BAD_INPUT', `${f}: not a robustness report (fields "run" and "conditions" expected)`);
  return r as RobustnessReport;
}

/** The preset and training seed of the run a report belongs to: RUN/robustness/<split>.json → RUN/config.json. */
function reportRunConfig(f: string): { preset: string; seed: number | null } {
  const dir = dirname(resolve(f));
  if (basename(dir) !== 'robustness')
    throw new CoreError(
      'BAD_INPUT',
      `${f}: --group preset needs the report inside its run folder (RUN/robustness/<split>.json), to read RUN/config.json`,
    );
  const config = join(dirname(dir), 'config.json');
  if (!existsSync(config))
    throw new CoreError(
      'NOT_FOUND',
      `${f}: its run folder ${dirname(dir)} has no config.json (--group preset reads the preset from it)`,
    );
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(config, 'utf8'));
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${config} (run folder of ${f}): invalid JSON (${(err as Error).message})`);
  }
  const cfg = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  // "preset" is a name; an object with a name is accepted as well (as in readRunInfo).
  const p = cfg.preset;
  const preset =
    typeof p === 'string'
      ? p
      : typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string'
        ? (p as { name: string }).name
        : '';
  if (preset === '') throw new CoreError('BAD_INPUT', `${config} (run folder of ${f}): no "preset" field`);
  const seed = typeof cfg.seed === 'number' && Number.isFinite(cfg.seed) ? cfg.seed : null;
  return { preset, seed };
}

function trainingSeedOrNull(f: string): number | null {
  try {
    return reportRunConfig(f).seed;
  } catch {
    return null;
  }
}

const isReportMetric = (m: string): m is ReportMetric => (REPORT_METRICS as readonly string[]).includes(m);

function printTable(files: string[], metric: string, group: string, format: string): number {
  if (files.length === 0)
    throw new CoreError('BAD_INPUT', 'aimkp robustness --table: give one or more robustness JSON files');
  if (!isReportMetric(metric))
    throw new CoreError('BAD_INPUT', `aimkp robustness: --metric must be ${orList(REPORT_METRICS)}, got "${metric}"`);
  if (group !== 'none' && group !== 'preset')
    throw new CoreError('BAD_INPUT', `aimkp robustness: --group must be none or preset, got "${group}"`);
  if (format !== 'md' && format !== 'csv')
    throw new CoreError('BAD_INPUT', `aimkp robustness: --format must be md or csv, got "${format}"`);
  const reports = files.map(readReport);
  if (group === 'none' && format === 'md') {
    // Today's table, unchanged (its own in-table warning); stderr names the files that differ.
    for (const w of robustnessSettingsWarnings(files.map((file, i) => ({ file, report: reports[i] })))) log(w);
    console.log(robustnessCompareMarkdown(reports, metric).trimEnd());
    return 0;
  }
  const inputs = files.map((file, i): RobustnessInput => {
    if (group === 'preset') return { file, report: reports[i], ...reportRunConfig(file) };
    // One column per report: labelled by its run; the training seed when its run folder's config.json says.
    return { file, report: reports[i], preset: reports[i].run, seed: trainingSeedOrNull(file) };
  });
  const grouped = groupRobustness(inputs, metric, group as RobustnessGrouping);
  for (const w of grouped.warnings) log(w);
  console.log((format === 'csv' ? groupedRobustnessCsv(grouped) : groupedRobustnessMarkdown(grouped)).trimEnd());
  return 0;
}

function numberList(
  command: string,
  flag: string,
  value: string | undefined,
  fallback: number[],
  check: (x: number) => boolean,
  what: string,
): number[] {
  if (value === undefined) return fallback;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  for (const x of list)
    if (!Number.isFinite(x) || !check(x))
      throw new CoreError(
        'BAD_INPUT',
        `aimkp ${command}: --${flag} must be a comma-separated list of ${what}, got "${value}"`,
      );
  return list;
}

export async function robustnessCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    'robustness',
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      run: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string' },
      ratios: { type: 'string' },
      strides: { type: 'string' },
      sigmas: { type: 'string' },
      pattern: { type: 'string' },
      seed: { type: 'string' },
      limit: { type: 'string' },
      which: { type: 'string' },
      batch: { type: 'string' },
      'max-new': { type: 'string' },
      out: { type: 'string' },
      cache: { type: 'string' },
      workers: { type: 'string' },
      table: { type: 'boolean' },
      metric: { type: 'string' },
      group: { type: 'string' },
      format: { type: 'string' },
    },
    true,
  );
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.table === true)
    return printTable(positionals, values.metric ?? 'f1@3', values.group ?? 'none', values.format ?? 'md');
  for (const flag of ['group', 'format'] as const)
    if (values[flag] !== undefined) throw new CoreError('BAD_INPUT', `aimkp robustness: --${flag} goes with --table`);
  if (positionals.length > 0)
    throw new CoreError(
      'BAD_INPUT',
      `aimkp robustness: unexpected argument "${positionals[0]}" (report files go with --table)`,
    );
  const ratios = numberList(
    'robustness',
    'ratios',
    values.ratios,
    DEFAULT_SUITE.ratios,
    (x) => x >= 0 && x <= 1,
    'ratios in [0, 1]',
  );
  const strides = numberList(
    'robustness',
    'strides',
    values.strides,
    DEFAULT_SUITE.strides,
    (x) => Number.isInteger(x) && x >= 2,
    'integer strides >= 2',
  );
  const sigmas = numberList(
    'robustness',
    'sigmas',
    values.sigmas,
    DEFAULT_SUITE.sigmas,
    (x) => x >= 0,
    'non-negative numbers',
  );
  const pattern = (values.pattern ?? DEFAULT_SUITE.pattern) as KeepPattern;
  if (pattern !== 'random' && pattern !== 'spread')
    throw new CoreError('BAD_INPUT', `aimkp robustness: --pattern must be random or spread, got "${values.pattern}"`);
  const r = await runRobustness({
    runDir: resolve(requireFlag('robustness', values.run, 'run')),
    dataDir: absoluteFlag(values.data),
    split: parseSplit('robustness', values.split),
    which: parseWhich('robustness', values.which),
    limit: parseLimit('robustness', values.limit),
    batchSize: parseBatch('robustness', values.batch, 16),
    maxNewTokens: values['max-new'] === undefined ? undefined : intFlag('robustness', values['max-new'], 'max-new', 0),
    suite: { ratios, strides, sigmas, pattern, seed: intFlag('robustness', values.seed, 'seed', DEFAULT_SUITE.seed) },
    cacheDir: absoluteFlag(values.cache),
    workers: workersFlag('robustness', values.workers),
    out: absoluteFlag(values.out),
    log,
    onProgress: progressLinePrinter(log),
  });
  console.log(r.markdown.trimEnd());
  log(`robustness: wrote ${r.file}`);
  return 0;
}
