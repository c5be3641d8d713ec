import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { intFlag, parseCommandArgs } from '../args';
import { CoreError } from '../../core-error';
import { compareRecords, comparisonMarkdown, type CompareFilter } from '../../evaluate/compare';
import { formatPredictionIssues, readPredictionFile } from '../../evaluate/prediction-file';
import { DECODE_STRATEGIES, isDecodeStrategy, isEvalMode, predictionsPath, type DecodeStrategy } from '../../evaluate/run-paths';
import { loadTexts } from '../../evaluate/texts';
import { SPLITS, type Split } from '../../data/manifest-types';
import type { EvalMode } from '../../lm/contract';

const USAGE = `Usage: aimkp compare RUN_A RUN_B [--data DIR] [--split test] [--mode multimodal] [--decode NAME]
                     [--limit N] [--only wins|losses|diff] [--json] [--text-width 60]

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
  --only FILTER       wins (A better), losses (B better) or diff (either); sorted by |F1@3 A − F1@3 B|
  --limit N           show at most N cases (the summary still covers every case)
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
      only: { type: 'string' },
      json: { type: 'boolean' },
      'text-width': { type: 'string' },
      which: { type: 'string' },
    },
    true,
  );
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 2) throw new CoreError('BAD_INPUT', 'aimkp compare: give exactly two runs (RUN_A RUN_B)\nRun "aimkp compare --help" for usage.');
  const split = (values.split ?? 'test') as Split;
  if (!SPLITS.includes(split)) throw new CoreError('BAD_INPUT', `aimkp compare: --split must be one of ${SPLITS.join(', ')}`);
  const mode = values.mode ?? 'multimodal';
  if (!isEvalMode(mode)) throw new CoreError('BAD_INPUT', `aimkp compare: --mode must be multimodal, text or image, got "${mode}"`);
  const only = values.only ?? 'all';
  if (!['all', 'wins', 'losses', 'diff'].includes(only)) throw new CoreError('BAD_INPUT', `aimkp compare: --only must be wins, losses or diff, got "${only}"`);
  if (values.decode !== undefined && !isDecodeStrategy(values.decode)) throw new CoreError('BAD_INPUT', `aimkp compare: --decode must be one of ${DECODE_STRATEGIES.join(', ')}`);
  const limit = values.limit === undefined ? undefined : intFlag('compare', values.limit, 'limit', 0);
  const [runA, runB] = positionals;

  const decode = values.decode ?? pickDecode([runA, runB], split, mode);
  const files: string[] = [];
  for (const run of [runA, runB]) {
    const file = isFile(run) ? run : predictionsPath(run, split, mode, decode);
    if (!existsSync(file)) {
      if (values.data === undefined) throw new CoreError('BAD_INPUT', `aimkp compare: no predictions file ${file}; give --data DIR to predict it, or run "aimkp predict" first`);
      // Produce the file with the predict command (loads the run's model).
      const { predictCommand } = await import('./predict');
      const code = await predictCommand(['--run', run, '--data', values.data, '--split', split, '--mode', mode, '--decode', decode, ...(values.which ? ['--which', values.which] : [])]);
      if (code !== 0) return code;
    }
    files.push(file);
  }
  const [fa, fb] = files.map((f) => readPredictionFile(f));
  for (const f of [fa, fb]) if (f.issues.length > 0) console.error(formatPredictionIssues(f.issues));
  const texts = values.data !== undefined ? await loadTexts(values.data, split) : undefined;
  const comparison = compareRecords(fa.records, fb.records, {
    labelA: `${label(runA)} (${fa.file})`,
    labelB: `${label(runB)} (${fb.file})`,
    texts,
    filter: only as CompareFilter,
    limit,
  });
  if (values.json === true) console.log(JSON.stringify(comparison, null, 2));
  else console.log(comparisonMarkdown(comparison, intFlag('compare', values['text-width'], 'text-width', 60)).trimEnd());
  return 0;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function label(path: string): string {
  return basename(path.replace(/\/+$/, ''));
}

/** The first decoding that every run folder has a predictions file for (beam-sample preferred). */
function pickDecode(runs: string[], split: string, mode: EvalMode): DecodeStrategy {
  for (const d of ['beam-sample', 'beam', 'greedy'] as const) {
    if (runs.every((r) => isFile(r) || existsSync(predictionsPath(r, split, mode, d)))) return d;
  }
  return 'beam-sample';
}
