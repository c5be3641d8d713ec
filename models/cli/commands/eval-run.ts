// `aimkp eval --run`: flag parsing and printing around evaluate/evaluate-run.ts evaluateRun.
import { resolve } from 'node:path';
import { parseCommandArgs, requireFlag, workersFlag, workersFlagHelp } from '../args';
import type { EvalMode } from '../../lm/contract';
import { describeDecode } from '../../evaluate/decode-settings';
import { evaluateRun } from '../../evaluate/evaluate-run';
import type { MetricsFile } from '../../evaluate/metrics-file';
import { DECODE_FLAG_HELP, decodeSettingsFromFlags } from '../decode-flags';
import { progressLinePrinter } from '../progress-lines';
import { RUN_FLAG_OPTIONS, absoluteFlag, logLine, parseBatch, parseLimit, parseSplit, parseWhich } from './predict';
import { parseModes } from './report';

const USAGE = `Usage: aimkp eval --run RUN [--data DIR] [--split test] [--modes multimodal,text,image] [--reuse]
                  [--decode greedy|beam|beam-sample] [--beam 5] [--temperature 0.5] [--repeats 3] [--max-new 40]
                  [--which best|last] [--limit N] [--batch 8] [--cache DIR] [--workers K] [--json]

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
${workersFlagHelp(21)}
                     (batches spread over the threads; the predictions are the same for any K)
  --json             print the metrics objects as JSON instead of the table

${DECODE_FLAG_HELP}

Example:
  aimkp eval --run runs/aimkp-s1 --split test                 # the paper's test protocol, three modes
  aimkp eval --run runs/aimkp-s1 --decode greedy --limit 200  # quick look

See docs/evaluation.md.`;

const MODE_LABEL: Record<EvalMode, string> = { multimodal: 'multimodal', text: 'text-only', image: 'image-only' };

export async function evalRunCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parseCommandArgs('eval', argv, {
    ...RUN_FLAG_OPTIONS,
    modes: { type: 'string' },
    reuse: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const runDir = requireFlag('eval', values.run, 'run');
  const r = await evaluateRun({
    runDir: resolve(runDir),
    dataDir: absoluteFlag(values.data),
    split: parseSplit('eval', values.split),
    modes: parseModes('eval', values.modes),
    decode: decodeSettingsFromFlags('eval', values),
    which: parseWhich('eval', values.which),
    limit: parseLimit('eval', values.limit),
    batchSize: parseBatch('eval', values.batch, 8),
    cacheDir: absoluteFlag(values.cache),
    reuse: values.reuse === true,
    workers: workersFlag('eval', values.workers),
    log: logLine,
    onProgress: progressLinePrinter(logLine),
  });
  if (values.json === true) console.log(JSON.stringify(r.metrics, null, 2));
  else console.log(metricsTable(runDir, r.split, describeDecode(r.decoding), r.metrics));
  return 0;
}

/** The scores of each mode, both conventions, convention named on every column. Percent. */
export function metricsTable(runDir: string, split: string, decode: string, results: readonly MetricsFile[]): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const head = [
    'mode',
    'n',
    'AimKP F1@1',
    'AimKP F1@3',
    'AimKP F1@5',
    'AimKP MAP@5',
    'CMKP F1@1',
    'CMKP F1@3',
    'CMKP MAP@5',
  ];
  const rows = results.map((m) => [
    MODE_LABEL[m.mode],
    String(m.n),
    pct(m.aimkp['f1@1']),
    pct(m.aimkp['f1@3']),
    pct(m.aimkp['f1@5']),
    pct(m.aimkp['map@5']),
    pct(m.cmkp['f1@1']),
    pct(m.cmkp['f1@3']),
    pct(m.cmkp['map@5']),
  ]);
  // The checkpoint actually scored (a corrupt `last` is replaced by `previous`, and said so).
  const checkpoints = [...new Set(results.flatMap((m) => (m.checkpoint === undefined ? [] : [m.checkpoint])))];
  const fallbacks = [
    ...new Set(results.flatMap((m) => (m.checkpointFallback === undefined ? [] : [m.checkpointFallback]))),
  ];
  const lines = [
    `${runDir}: split ${split}, decode ${decode}${checkpoints.length > 0 ? `, checkpoint ${checkpoints.join(' / ')}` : ''}; scores in percent, each averaged over the decoding repeats`,
    ...fallbacks.map((f) => `note: ${f}`),
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    "AimKP = the paper's convention (P = matches/K); CMKP = the CMKP authors' script (macro F1 of averaged P and R). See docs/metrics.md.",
  ];
  return lines.join('\n');
}
