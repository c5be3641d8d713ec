import { orList, parseCommandArgs } from '../args';
import { CoreError } from '../../core-error';
import type { EvalMode } from '../../lm/contract';
import { resolve } from 'node:path';
import { CONVENTIONS, type Convention } from '../../evaluate/report';
import { reportRuns } from '../../evaluate/report-runs';
import { DECODE_STRATEGIES, EVAL_MODES, isDecodeStrategy, isEvalMode } from '../../evaluate/run-paths';
import { writeFileAtomicSync as writeFileAtomic } from '../../fs/atomic-write';

const USAGE = `Usage: aimkp report RUN... [--format md|csv|latex] [--split test] [--decode beam-sample]
                    [--modes multimodal,text,image] [--convention aimkp|cmkp] [--out FILE]

Groups the runs by preset (config.json "preset") and prints, per preset and evaluation mode, the mean ± sample
standard deviation (n − 1) over the group's runs (seeds) of F1@1, F1@3 and MAP@5, in percent. It reads
RUN/metrics/<split>.<mode>.<decode>.json as written by "aimkp eval --run"; missing files are listed on stderr and
left out (a cell averaged over fewer runs than its group shows "(n=k)"); a run with no metrics file for any mode is
skipped (listed on stderr) rather than counted in its group.

Options:
  --format md|csv|latex   Markdown table (default), long CSV (one row per preset × mode × metric), LaTeX (booktabs)
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
  if (!['md', 'csv', 'latex'].includes(format))
    throw new CoreError('BAD_INPUT', `aimkp report: --format must be md, csv or latex, got "${format}"`);
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

  const r = reportRuns({ runDirs: positionals.map((p) => resolve(p)), split, decode, modes, convention });
  for (const path of r.missing)
    console.error(`aimkp report: no metrics file ${path} (left out; run "aimkp eval --run" first)`);
  for (const s of r.skipped) console.error(`aimkp report: skipped ${s.dir}: ${s.reason}`);
  const text = format === 'csv' ? r.csv : format === 'latex' ? r.latex : r.markdown;
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
