// `aimkp compare`: flag parsing and printing around evaluate/compare-runs.ts compareRuns.
import { resolve } from 'node:path';
import { intFlag, orList, parseCommandArgs } from '../args';
import { CoreError } from '../../core-error';
import { COMPARE_FILTERS, COMPARE_SORTS, type CompareFilter, type CompareSort } from '../../evaluate/compare';
import { comparisonMarkdown } from '../compare-table';
import { compareRuns } from '../../evaluate/compare-runs';
import { formatPredictionIssues } from '../../evaluate/prediction-file';
import { DECODE_STRATEGIES, EVAL_MODES, isDecodeStrategy, isEvalMode } from '../../evaluate/run-paths';
import { progressLinePrinter } from '../progress-lines';
import { absoluteFlag, logLine, parseSplit, parseWhich } from './predict';

const USAGE = `Usage: aimkp compare RUN_A RUN_B [--data DIR] [--split test] [--mode multimodal] [--decode NAME]
                     [--limit N] [--offset N] [--only wins|losses|diff|ties] [--sort ORDER] [--search TEXT]
                     [--json] [--text-width 60]

Per-case comparison of two runs on the same split and mode: id, post text (truncated), gold, the predictions
of A and B (first decoding repeat), and each run's per-case F1@3 (AimKP convention, averaged over that run's
repeats), then a summary: A better / B better / tie counts and mean F1@3.

RUN_A / RUN_B are run folders (their predictions/<split>.<mode>.<decode>.jsonl is used) or predictions
.jsonl files. A missing predictions file is produced with "aimkp predict" first (needs --data).

Options:
  --data DIR          data set (for the post texts, and to predict when a file is missing)
  --split NAME        default test
  --mode NAME         multimodal (default), text or image
  --decode NAME       ${DECODE_STRATEGIES.join(' | ')}; default: the first of beam-sample, beam, greedy
                      that both runs have
  --only FILTER       wins (A better), losses (B better), diff (either) or ties; wins / losses / diff are
                      sorted by |F1@3 A − F1@3 B| unless --sort says otherwise
  --sort ORDER        data (A's order), abs-diff, a-first (largest A − B first), b-first, id
  --search TEXT       only cases whose id, text, gold or predictions contain TEXT (case-insensitive)
  --limit N           show at most N cases (the summary still covers every case)
  --offset N          skip the first N cases (paging)
  --json              print JSON instead of Markdown

Example:
  aimkp compare runs/aimkp-s1 runs/baseline-s1 --data data/clipart-kp --only wins --limit 20

See docs/evaluation.md.`;

export async function compareCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    'compare',
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      data: { type: 'string' },
      split: { type: 'string' },
      mode: { type: 'string' },
      decode: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      only: { type: 'string' },
      sort: { type: 'string' },
      search: { type: 'string' },
      json: { type: 'boolean' },
      'text-width': { type: 'string' },
      which: { type: 'string' },
      cache: { type: 'string' },
    },
    true,
  );
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 2)
    throw new CoreError(
      'BAD_INPUT',
      'aimkp compare: give exactly two runs (RUN_A RUN_B)\nRun "aimkp compare --help" for usage.',
    );
  const mode = values.mode ?? 'multimodal';
  if (!isEvalMode(mode))
    throw new CoreError('BAD_INPUT', `aimkp compare: --mode must be ${orList(EVAL_MODES)}, got "${mode}"`);
  const only = values.only ?? 'all';
  if (!(COMPARE_FILTERS as readonly string[]).includes(only))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp compare: --only must be one of ${COMPARE_FILTERS.join(', ')}, got "${only}"`,
    );
  if (values.sort !== undefined && !(COMPARE_SORTS as readonly string[]).includes(values.sort))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp compare: --sort must be one of ${COMPARE_SORTS.join(', ')}, got "${values.sort}"`,
    );
  if (values.decode !== undefined && !isDecodeStrategy(values.decode))
    throw new CoreError('BAD_INPUT', `aimkp compare: --decode must be one of ${DECODE_STRATEGIES.join(', ')}`);
  const limit = values.limit === undefined ? undefined : intFlag('compare', values.limit, 'limit', 0);
  const offset = values.offset === undefined ? undefined : intFlag('compare', values.offset, 'offset', 0);
  const c = await compareRuns({
    a: resolve(positionals[0]),
    b: resolve(positionals[1]),
    dataDir: absoluteFlag(values.data),
    split: parseSplit('compare', values.split),
    mode,
    decode: values.decode,
    predictMissing: true,
    which: values.which === undefined ? undefined : parseWhich('compare', values.which),
    cacheDir: absoluteFlag(values.cache),
    filter: only as CompareFilter,
    sort: values.sort as CompareSort | undefined,
    search: values.search,
    offset,
    limit,
    log: logLine,
    onProgress: progressLinePrinter(logLine),
  });
  if (c.issues.length > 0) logLine(formatPredictionIssues(c.issues));
  if (values.json === true) console.log(JSON.stringify(c, null, 2));
  else console.log(comparisonMarkdown(c, intFlag('compare', values['text-width'], 'text-width', 60)).trimEnd());
  return 0;
}
