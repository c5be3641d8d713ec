// `aimkp predict`: flag parsing and printing around evaluate/evaluate-run.ts predictSplit.
import { resolve } from 'node:path';
import { intFlag, orList, parseCommandArgs, requireFlag, workersFlag, workersFlagHelp } from '../args';
import { CoreError } from '../../core-error';
import { SPLITS, type Split } from '../../data/manifest-types';
import { describeDecode } from '../../evaluate/decode-settings';
import { predictSplit } from '../../evaluate/evaluate-run';
import { predictCase } from '../../evaluate/predict-case';
import type { Which } from '../../evaluate/open-run';
import { EVAL_MODES, isEvalMode } from '../../evaluate/run-paths';
import { DECODE_FLAG_HELP, DECODE_FLAG_OPTIONS, decodeSettingsFromFlags } from '../decode-flags';
import { progressLinePrinter } from '../progress-lines';

const USAGE = `Usage: aimkp predict --run RUN [--data DIR] [--split test] [--mode multimodal|text|image]
                     [--decode greedy|beam|beam-sample] [--beam 5] [--temperature 0.5] [--repeats 3]
                     [--max-new 40] [--which best|last] [--out FILE] [--limit N] [--batch 8] [--cache DIR]
                     [--workers K]
       aimkp predict --run RUN --text TEXT [--image FILE] [--mode ...] [decoding flags] [--json]

Decodes keyphrases for every item of a split with a trained run and writes a predictions JSONL file, one line
per item: {"id","gold":[...],"predictions":[[repeat 1], [repeat 2], ...]}.
Default output: RUN/predictions/<split>.<mode>.<decode>.jsonl (written atomically). Progress and an ETA go to
stderr; the last line gives the AimKP-convention scores averaged over repeats.

  --run RUN          run folder (from "aimkp train")
  --data DIR         data set (default: the one recorded in RUN/config.json)
  --split NAME       train | valid | test (default test)
  --mode NAME        multimodal (default), text (image removed from the prompt), image (text removed)
  --which NAME       best (default: the best validation epoch) or last checkpoint
  --out FILE         predictions file to write
  --limit N          only the first N items of the split
  --text-stride S    keep only the text tokens the training-time text mask at stride S keeps (the last of each
                     window of S; the last token when S exceeds the text): most of the text hidden without the
                     prompt-format change of --mode image (the robustness suite's text-stride@S, as predictions)
  --batch N          items per generate() call (default 8)
  --cache DIR        image feature cache (default DATA/.cache, shared with training)
${workersFlagHelp(21)}
                     (batches spread over the threads; the predictions are the same for any K)

${DECODE_FLAG_HELP}
  The paper's test setting is the default: beam-sample, beam 5, T=0.5, 40 new tokens, 3 repeats averaged.
  --max-new is capped at the run's maxAnswerTokens (see docs/evaluation.md).

One case: --text TEXT (the post) and --image FILE (omit it for a text-only case) predict that case alone and
print its keyphrases (one line per decoding repeat) and the time taken; decoding defaults to greedy there.
--json prints the whole result.

Example:
  aimkp predict --run runs/aimkp-s1 --split test --mode image --decode greedy
  aimkp predict --run runs/aimkp-s1 --image cat.png --text "my cat on the sofa"

See docs/evaluation.md.`;

export const RUN_FLAG_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  run: { type: 'string' },
  data: { type: 'string' },
  split: { type: 'string' },
  which: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  cache: { type: 'string' },
  workers: { type: 'string' },
  ...DECODE_FLAG_OPTIONS,
} as const;

export function parseSplit(command: string, value: string | undefined): Split {
  const split = value ?? 'test';
  if (!(SPLITS as readonly string[]).includes(split))
    throw new CoreError('BAD_INPUT', `aimkp ${command}: --split must be one of ${SPLITS.join(', ')}, got "${split}"`);
  return split as Split;
}

export function parseWhich(command: string, value: string | undefined): Which {
  const which = value ?? 'best';
  if (which !== 'best' && which !== 'last')
    throw new CoreError('BAD_INPUT', `aimkp ${command}: --which must be best or last, got "${which}"`);
  return which;
}

export function parseLimit(command: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = intFlag(command, value, 'limit', 0);
  if (n < 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --limit must be >= 1`);
  return n;
}

/** --text-stride S: an integer ≥ 2 (1 would be the whole text: leave the flag out). */
function parseTextStride(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = intFlag('predict', value, 'text-stride', 0);
  if (s < 2) throw new CoreError('BAD_INPUT', `aimkp predict: --text-stride must be >= 2, got "${value}"`);
  return s;
}

/** --batch N (default `fallback`), at least 1. */
export function parseBatch(command: string, value: string | undefined, fallback: number): number {
  const batch = intFlag(command, value, 'batch', fallback);
  if (batch < 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --batch must be >= 1`);
  return batch;
}

/** A path flag resolved against the shell's working directory (the core takes absolute paths). */
export function absoluteFlag(value: string | undefined): string | undefined {
  return value === undefined ? undefined : resolve(value);
}

export const logLine = (line: string) => process.stderr.write(line + '\n');

export async function predictCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parseCommandArgs('predict', argv, {
    ...RUN_FLAG_OPTIONS,
    mode: { type: 'string' },
    out: { type: 'string' },
    'text-stride': { type: 'string' },
    text: { type: 'string' },
    image: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const mode = values.mode ?? 'multimodal';
  if (!isEvalMode(mode))
    throw new CoreError('BAD_INPUT', `aimkp predict: --mode must be ${orList(EVAL_MODES)}, got "${mode}"`);
  if (values.text !== undefined || values.image !== undefined) {
    for (const flag of ['data', 'split', 'limit', 'batch', 'cache', 'out', 'workers', 'text-stride'] as const)
      if (values[flag] !== undefined)
        throw new CoreError('BAD_INPUT', `aimkp predict: --${flag} goes with a split, not with --text / --image`);
    const c = await predictCase({
      runDir: resolve(requireFlag('predict', values.run, 'run')),
      which: parseWhich('predict', values.which),
      image: values.image === undefined ? null : { path: resolve(values.image) },
      text: values.text ?? '',
      mode,
      decode: decodeSettingsFromFlags('predict', values, 'greedy'),
    });
    if (values.json === true) console.log(JSON.stringify(c, null, 2));
    else {
      for (const list of c.keyphrases) console.log(list.join('; '));
      logLine(
        `predict: ${c.run}, ${c.mode}, ${describeDecode(c.decoding)}; ${c.ms.toFixed(0)} ms (image ${c.imageMs.toFixed(0)} ms)${c.textCut ? `; text cut to ${c.textTokens} tokens` : ''}`,
      );
    }
    return 0;
  }
  const r = await predictSplit({
    runDir: resolve(requireFlag('predict', values.run, 'run')),
    dataDir: absoluteFlag(values.data),
    split: parseSplit('predict', values.split),
    mode,
    decode: decodeSettingsFromFlags('predict', values),
    which: parseWhich('predict', values.which),
    limit: parseLimit('predict', values.limit),
    batchSize: parseBatch('predict', values.batch, 8),
    cacheDir: absoluteFlag(values.cache),
    out: absoluteFlag(values.out),
    textStride: parseTextStride(values['text-stride']),
    workers: workersFlag('predict', values.workers),
    log: logLine,
    onProgress: progressLinePrinter(logLine),
  });
  const s = r.scores;
  const pct = (x: number) => (100 * x).toFixed(2);
  logLine(`predict: ${r.items} ${r.split} items, mode ${r.mode}, ${describeDecode(r.decoding)}, ${r.checkpoint}`);
  console.log(
    `${r.file}: ${r.items} items × ${r.decoding.repeats} repeat(s); AimKP convention (mean over repeats): F1@1 ${pct(s.aimkp['f1@1'])}, F1@3 ${pct(s.aimkp['f1@3'])}, MAP@5 ${pct(s.aimkp['map@5'])}`,
  );
  return 0;
}
