import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { intFlag, parseCommandArgs, requireFlag } from '../args';
import { CliError } from '../cli-error';
import { writeFileAtomicSync as writeFileAtomic } from '../../fs/atomic-write';
import { GREEDY_DECODE } from '../../evaluate/decode-settings';
import { encodeRunSplit, openRun } from '../../evaluate/open-run';
import { featureStd, type KeepPattern } from '../../evaluate/perturb';
import { decodeKeyphraseLists } from '../../evaluate/predict-run';
import { Progress } from '../../evaluate/progress';
import { buildConditions, DEFAULT_SUITE, robustnessCompareMarkdown, robustnessMarkdown, runSuite, type RobustnessReport } from '../../evaluate/robustness';
import { robustnessPath } from '../../evaluate/run-paths';
import { dataDirFor, parseLimit, parseSplit, parseWhich } from './predict';

const USAGE = `Usage: aimkp robustness --run RUN [--data DIR] [--split test] [--ratios 0,0.25,0.5,0.75,0.9]
                        [--strides 2,4] [--sigmas 0.5,1,2] [--pattern random|spread] [--seed 1]
                        [--limit N] [--which best|last] [--batch 16] [--max-new N] [--cache DIR] [--out FILE]

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

Side by side (no decoding): aimkp robustness --table A.json B.json [--metric f1@1|f1@3|map@5]
prints one column per saved report (default metric f1@3).

Example:
  aimkp robustness --run runs/aimkp-s1 --limit 300
  aimkp robustness --run runs/baseline-s1 --limit 300
  aimkp robustness --table runs/baseline-s1/robustness/test.json runs/aimkp-s1/robustness/test.json

See docs/evaluation.md.`;

const log = (line: string) => process.stderr.write(line + '\n');

function printTable(files: string[], metric: string): number {
  if (files.length === 0) throw new CliError('aimkp robustness --table: give one or more robustness JSON files');
  if (metric !== 'f1@1' && metric !== 'f1@3' && metric !== 'map@5') throw new CliError(`aimkp robustness: --metric must be f1@1, f1@3 or map@5, got "${metric}"`);
  const reports = files.map((f): RobustnessReport => {
    if (!existsSync(f)) throw new CliError(`robustness report "${f}" does not exist`);
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(f, 'utf8'));
    } catch (err) {
      throw new CliError(`${f}: invalid JSON (${(err as Error).message})`);
    }
    const r = v as Partial<RobustnessReport>;
    if (!Array.isArray(r.conditions) || typeof r.run !== 'string') throw new CliError(`${f}: not a robustness report (fields "run" and "conditions" expected)`);
    return r as RobustnessReport;
  });
  console.log(robustnessCompareMarkdown(reports, metric).trimEnd());
  return 0;
}

function numberList(command: string, flag: string, value: string | undefined, fallback: number[], check: (x: number) => boolean, what: string): number[] {
  if (value === undefined) return fallback;
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  for (const x of list) if (!Number.isFinite(x) || !check(x)) throw new CliError(`aimkp ${command}: --${flag} must be a comma-separated list of ${what}, got "${value}"`);
  return list;
}

export async function robustnessCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values, positionals } = parseCommandArgs('robustness', argv, {
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
    table: { type: 'boolean' },
    metric: { type: 'string' },
  }, true);
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.table === true) return printTable(positionals, values.metric ?? 'f1@3');
  if (positionals.length > 0) throw new CliError(`aimkp robustness: unexpected argument "${positionals[0]}" (report files go with --table)`);
  const runDir = requireFlag('robustness', values.run, 'run');
  const split = parseSplit('robustness', values.split);
  const ratios = numberList('robustness', 'ratios', values.ratios, DEFAULT_SUITE.ratios, (x) => x >= 0 && x <= 1, 'ratios in [0, 1]');
  const strides = numberList('robustness', 'strides', values.strides, DEFAULT_SUITE.strides, (x) => Number.isInteger(x) && x >= 2, 'integer strides >= 2');
  const sigmas = numberList('robustness', 'sigmas', values.sigmas, DEFAULT_SUITE.sigmas, (x) => x >= 0, 'non-negative numbers');
  const pattern = (values.pattern ?? DEFAULT_SUITE.pattern) as KeepPattern;
  if (pattern !== 'random' && pattern !== 'spread') throw new CliError(`aimkp robustness: --pattern must be random or spread, got "${values.pattern}"`);
  const seed = intFlag('robustness', values.seed, 'seed', DEFAULT_SUITE.seed);
  const limit = parseLimit('robustness', values.limit);
  const batch = intFlag('robustness', values.batch, 'batch', 16);
  if (batch < 1) throw new CliError('aimkp robustness: --batch must be >= 1');

  const run = await openRun(runDir, parseWhich('robustness', values.which), log);
  let report: RobustnessReport;
  try {
    const settings = { ...GREEDY_DECODE, maxNewTokens: intFlag('robustness', values['max-new'], 'max-new', run.maxAnswerTokens) };
    if (settings.maxNewTokens < 1) throw new CliError('aimkp robustness: --max-new must be >= 1');
    const data = await encodeRunSplit(run, dataDirFor('robustness', values.data, run.dataDir), split, limit, log, values.cache);
    const grid = run.model.config.imageGrid;
    const conditions = buildConditions(data.examples, { ratios, strides, sigmas, pattern, seed, grid });
    log(`robustness: ${conditions.length} conditions × ${data.examples.length} ${split} items, greedy decoding (${settings.maxNewTokens} new tokens)`);
    const progress = new Progress('robustness', conditions.length, log, 0);
    const results = await runSuite(
      conditions,
      data.gold,
      async (examples, mode) => decodeKeyphraseLists(run.model, run.tokenizer, examples, mode, settings, batch),
      (r, i) => progress.update(i + 1, `${r.name}: F1@3 ${(100 * r.aimkp['f1@3']).toFixed(2)}`),
    );
    report = {
      run: basename(resolve(runDir)),
      split,
      decode: 'greedy',
      maskPattern: pattern,
      seed,
      n: data.examples.length,
      featureStd: featureStd(data.examples.flatMap((e) => (e.image ? [e.image] : []))),
      conditions: results,
      createdAt: new Date().toISOString(),
    };
  } finally {
    run.model.dispose();
  }
  const out = resolve(values.out ?? robustnessPath(runDir, split));
  const md = robustnessMarkdown(report);
  writeFileAtomic(out, JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(out.replace(/\.json$/, '') + '.md', md);
  console.log(md.trimEnd());
  log(`robustness: wrote ${out}`);
  return 0;
}
