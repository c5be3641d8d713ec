import { orList, parseCommandArgs } from '../args';
import { CoreError } from '../../core-error';
import type { EvalMode } from '../../lm/contract';
import { resolve } from 'node:path';
import { CONVENTIONS, type Convention } from '../../evaluate/report';
import { reportRuns } from '../../evaluate/report-runs';
import { loadRunMetrics } from '../../evaluate/report-load';
import { deltaCsv, deltaMarkdown, deltaRows, GROUP_BY, seedsCsv, type GroupBy } from '../../evaluate/study-table';

const FORMATS = ['md', 'csv', 'latex', 'seeds-csv', 'delta-md', 'delta-csv'];
import { DECODE_STRATEGIES, EVAL_MODES, isDecodeStrategy, isEvalMode } from '../../evaluate/run-paths';
import { writeFileAtomicSync as writeFileAtomic } from '../../fs/atomic-write';

const USAGE = `Usage: aimkp report RUN... [--format md|csv|latex|seeds-csv|delta-md|delta-csv] [--split test]
                    [--decode beam-sample] [--modes multimodal,text,image] [--convention aimkp|cmkp]
                    [--group-by preset|folder] [--baseline GROUP] [--out FILE]

Groups the runs by preset (config.json "preset") and prints, per preset and evaluation mode, the mean ± sample
standard deviation (n − 1) over the group's runs (seeds) of F1@1, F1@3 and MAP@5, in percent. It reads
RUN/metrics/<split>.<mode>.<decode>.json as written by "aimkp eval --run"; missing files are listed on stderr and
left out (a cell averaged over fewer runs than its group shows "(n=k)"); a run with no metrics file for any mode is
skipped (listed on stderr) rather than counted in its group.

Options:
  --format md|csv|latex   Markdown table (default), long CSV (one row per preset × mode × metric), LaTeX (booktabs)
          seeds-csv       one row per run × mode × metric: the per-seed numbers behind every table
          delta-md|delta-csv
                          Δ = group − baseline per mode and metric with Welch's t, df, two-sided p and the 95 % CI
                          (needs --baseline; ≥ 2 seeds per side)
  --group-by preset|folder
                          by config.json's preset (md, csv, latex: always) or by folder name without its -s<seed>
                          tail (default of seeds-csv and the delta formats, so that runs of one preset with other
                          settings, e.g. a tau_t × tau_v grid, stay apart)
  --baseline GROUP        the pinned baseline group of the delta formats
  --split NAME            default test
  --decode NAME           which decoding's metrics: ${DECODE_STRATEGIES.join(' | ')} (default beam-sample)
  --modes LIST            default multimodal,text,image
  --convention NAME       aimkp (default, the paper's numbers) or cmkp
  --out FILE              also write the table to FILE

Example:
  aimkp report runs/baseline-s1 runs/baseline-s2 runs/aimkp-s1 runs/aimkp-s2 --format latex

See docs/evaluation.md.`;

export async function reportCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    'report',
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      format: { type: 'string' },
      split: { type: 'string' },
      decode: { type: 'string' },
      modes: { type: 'string' },
      convention: { type: 'string' },
      'group-by': { type: 'string' },
      baseline: { type: 'string' },
      out: { type: 'string' },
    },
    true,
  );
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0)
    throw new CoreError(
      'BAD_INPUT',
      'aimkp report: give at least one run folder\nRun "aimkp report --help" for usage.',
    );
  const format = values.format ?? 'md';
  if (!FORMATS.includes(format))
    throw new CoreError('BAD_INPUT', `aimkp report: --format must be ${orList(FORMATS)}, got "${format}"`);
  const groupBy = (values['group-by'] ??
    (format === 'md' || format === 'csv' || format === 'latex' ? 'preset' : 'folder')) as GroupBy;
  if (!GROUP_BY.includes(groupBy))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp report: --group-by must be ${orList(GROUP_BY)}, got "${values['group-by']}"`,
    );
  if (format.startsWith('delta') && values.baseline === undefined)
    throw new CoreError('BAD_INPUT', `aimkp report: --format ${format} needs --baseline GROUP (the pinned baseline)`);
  const decode = values.decode ?? 'beam-sample';
  if (!isDecodeStrategy(decode))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp report: --decode must be one of ${DECODE_STRATEGIES.join(', ')}, got "${decode}"`,
    );
  const convention = (values.convention ?? 'aimkp') as Convention;
  if (!CONVENTIONS.includes(convention))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp report: --convention must be ${orList(CONVENTIONS)}, got "${values.convention}"`,
    );
  const modes = parseModes('report', values.modes);
  const split = values.split ?? 'test';

  const runDirs = positionals.map((p) => resolve(p));
  let text: string;
  if (format === 'md' || format === 'csv' || format === 'latex') {
    if (values['group-by'] === 'folder')
      throw new CoreError('BAD_INPUT', 'aimkp report: --group-by folder applies to the seeds-csv and delta formats');
    const r = reportRuns({ runDirs, split, decode, modes, convention });
    for (const path of r.missing)
      console.error(`aimkp report: no metrics file ${path} (left out; run "aimkp eval --run" first)`);
    for (const s of r.skipped) console.error(`aimkp report: skipped ${s.dir}: ${s.reason}`);
    text = format === 'csv' ? r.csv : format === 'latex' ? r.latex : r.markdown;
  } else {
    const loaded = loadRunMetrics(runDirs, { split, decode, modes });
    for (const path of loaded.missing)
      console.error(`aimkp report: no metrics file ${path} (left out; run "aimkp eval --run" first)`);
    const o = { convention, split, decode, modes, groupBy };
    if (format === 'seeds-csv') text = seedsCsv(loaded.runs, o);
    else {
      const rows = deltaRows(loaded.runs, values.baseline!, o);
      text = format === 'delta-csv' ? deltaCsv(rows, values.baseline!) : deltaMarkdown(rows, values.baseline!, o);
    }
  }
  if (values.out) writeFileAtomic(values.out, text);
  console.log(text.trimEnd());
  return 0;
}

/** Parses a comma-separated --modes list. */
export function parseModes(command: string, value: string | undefined): EvalMode[] {
  if (value === undefined) return [...EVAL_MODES];
  const modes = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const m of modes)
    if (!isEvalMode(m))
      throw new CoreError(
        'BAD_INPUT',
        `aimkp ${command}: --modes: unknown mode "${m}" (expected ${EVAL_MODES.join(', ')})`,
      );
  if (modes.length === 0) throw new CoreError('BAD_INPUT', `aimkp ${command}: --modes is empty`);
  return modes as EvalMode[];
}
