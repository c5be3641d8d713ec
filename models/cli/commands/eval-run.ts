import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { intFlag, parseCommandArgs, requireFlag } from '../args';
import { CoreError } from '../../core-error';
import type { EvalMode } from '../../lm/contract';
import { DECODE_FLAG_HELP, decodeSettingsFromFlags, describeDecode } from '../../evaluate/decode-settings';
import { buildMetricsFile, writeMetricsFile, type MetricsFile } from '../../evaluate/metrics-file';
import { clampMaxNew, encodeRunSplit, openRun, type OpenedRun } from '../../evaluate/open-run';
import { formatPredictionIssues, readPredictionFile, writePredictionFile, type PredictionRecord } from '../../evaluate/prediction-file';
import { predictExamples } from '../../evaluate/predict-run';
import { metricsPath, predictionsPath } from '../../evaluate/run-paths';
import { scoreRepeats } from '../../evaluate/score-predictions';
import type { EncodedSplit } from '../../evaluate/encoded-split';
import { RUN_FLAG_OPTIONS, dataDirFor, parseLimit, parseSplit, parseWhich } from './predict';
import { parseModes } from './report';

const USAGE = `Usage: aimkp eval --run RUN [--data DIR] [--split test] [--modes multimodal,text,image] [--reuse]
                  [--decode greedy|beam|beam-sample] [--beam 5] [--temperature 0.5] [--repeats 3] [--max-new 40]
                  [--which best|last] [--limit N] [--batch 8] [--cache DIR] [--json]

Evaluates a trained run in each mode (multimodal; text-only = image removed from the prompt; image-only = text
removed): decodes the split (or, with --reuse, reads RUN/predictions/<split>.<mode>.<decode>.jsonl when it
exists), scores every decoding repeat in the AimKP convention (the paper's numbers) and in the CMKP convention,
averages the per-repeat scores, writes RUN/metrics/<split>.<mode>.<decode>.json and prints a table.

  --run RUN          run folder
  --data DIR         data set (default: the one recorded in RUN/config.json)
  --split NAME       default test
  --modes LIST       default multimodal,text,image
  --reuse            score existing predictions files instead of decoding again
  --which NAME       best (default) or last checkpoint
  --limit N          only the first N items
  --batch N          items per generate() call (default 8)
  --cache DIR        image feature cache (default DATA/.cache)
  --json             print the metrics objects as JSON instead of the table

${DECODE_FLAG_HELP}

Example:
  aimkp eval --run runs/aimkp-s1 --split test                 # the paper's test protocol, three modes
  aimkp eval --run runs/aimkp-s1 --decode greedy --limit 200  # quick look

See docs/evaluation.md.`;

const log = (line: string) => process.stderr.write(line + '\n');
const MODE_LABEL: Record<EvalMode, string> = { multimodal: 'multimodal', text: 'text-only', image: 'image-only' };

export async function evalRunCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parseCommandArgs('eval', argv, { ...RUN_FLAG_OPTIONS, modes: { type: 'string' }, reuse: { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const runDir = requireFlag('eval', values.run, 'run');
  if (!existsSync(runDir)) throw new CoreError('NOT_FOUND', `aimkp eval: run folder "${runDir}" does not exist`);
  const split = parseSplit('eval', values.split);
  const modes = parseModes('eval', values.modes);
  const settings = decodeSettingsFromFlags('eval', values);
  const which = parseWhich('eval', values.which);
  const limit = parseLimit('eval', values.limit);
  const batch = intFlag('eval', values.batch, 'batch', 8);
  if (batch < 1) throw new CoreError('BAD_INPUT', 'aimkp eval: --batch must be >= 1');

  let run: OpenedRun | null = null;
  let data: EncodedSplit | null = null;
  const results: MetricsFile[] = [];
  try {
    for (const mode of modes) {
      const file = predictionsPath(runDir, split, mode, settings.strategy);
      let records: PredictionRecord[];
      let checkpoint: string | undefined;
      if (values.reuse === true && existsSync(file)) {
        const f = readPredictionFile(file);
        if (f.issues.length > 0) log(formatPredictionIssues(f.issues));
        if (f.records.length === 0) throw new CoreError('BAD_INPUT', `${file}: no valid prediction lines`);
        log(`eval: reusing ${file} (${f.records.length} items, ${f.repeats} repeat(s))`);
        records = f.records;
      } else {
        if (run === null) {
          run = await openRun(runDir, which, log);
          settings.maxNewTokens = clampMaxNew(settings.maxNewTokens, run, log);
          data = await encodeRunSplit(run, dataDirFor('eval', values.data, run.dataDir), split, limit, log, values.cache);
          log(`eval: ${data.examples.length} ${split} items, ${describeDecode(settings)}`);
        }
        records = predictExamples(run.model, run.tokenizer, data!.examples, data!.gold, mode, settings, { batchSize: batch, label: `predict ${mode}` });
        writePredictionFile(file, records);
        checkpoint = run.checkpoint;
      }
      const scores = scoreRepeats(records);
      const m = buildMetricsFile({ run: basename(resolve(runDir)), split, mode, decoding: { ...settings, repeats: scores.repeats }, checkpoint, predictions: resolve(file) }, scores);
      writeMetricsFile(metricsPath(runDir, split, mode, settings.strategy), m);
      results.push(m);
    }
  } finally {
    run?.model.dispose();
  }
  if (values.json === true) console.log(JSON.stringify(results, null, 2));
  else console.log(metricsTable(runDir, split, describeDecode(settings), results));
  return 0;
}

/** The scores of each mode, both conventions, convention named on every column. Percent. */
export function metricsTable(runDir: string, split: string, decode: string, results: readonly MetricsFile[]): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const head = ['mode', 'n', 'AimKP F1@1', 'AimKP F1@3', 'AimKP F1@5', 'AimKP MAP@5', 'CMKP F1@1', 'CMKP F1@3', 'CMKP MAP@5'];
  const rows = results.map((m) => [MODE_LABEL[m.mode], String(m.n), pct(m.aimkp['f1@1']), pct(m.aimkp['f1@3']), pct(m.aimkp['f1@5']), pct(m.aimkp['map@5']), pct(m.cmkp['f1@1']), pct(m.cmkp['f1@3']), pct(m.cmkp['map@5'])]);
  const lines = [
    `${runDir}: split ${split}, decode ${decode}; scores in percent, each averaged over the decoding repeats`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'AimKP = the paper\'s convention (P = matches/K); CMKP = the CMKP authors\' script (macro F1 of averaged P and R). See docs/metrics.md.',
  ];
  return lines.join('\n');
}
