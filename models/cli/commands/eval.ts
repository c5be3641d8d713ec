// `aimkp eval --gold FILE --pred FILE`: parses flags, reads the files and prints the metrics library's scores
// (for a file with several decoding repeats: each repeat's scores and their mean, as `eval --run` reports).
import { orList, parseCommandArgs, requireFlag } from '../args';
import { CoreError } from '../../core-error';
import type { Split } from '../../data/manifest-types';
import { writeFileAtomicSync } from '../../fs/atomic-write';
import {
  CONVENTIONS,
  formatCmkpResultCsv,
  formatCmkpResultText,
  formatScoresTable,
  readGold,
  readPredictions,
  scoreAimkp,
  scoreCmkp,
  scoresToJson,
  type Convention,
  type Scores,
} from '../../metrics';

const HELP = `Usage: aimkp eval --gold FILE --pred FILE [--convention aimkp|cmkp] [options]
       aimkp eval --run RUN ...   (score a trained run; see "aimkp eval --run --help")

Scores predicted keyphrases against gold keyphrases (docs/metrics.md).

  --gold PATH          CMKP *_src.txt (text<sep>kp1;kp2<sep>image_url), a data-set folder, or its manifest.jsonl
  --split NAME         manifest split to score (train|valid|test, default test)
  --pred PATH          one line per sample, phrases separated by --sep (matched to gold by order),
                       or *.jsonl with {"id": ..., "predictions": [...]} per line (matched by id);
                       "predictions" is one ranked list, or one list per decoding repeat as in a run's
                       RUN/predictions/*.jsonl ({"predictions": [["kp1", ...], ["kp1", ...]]})
  --repeat K           score only repeat K (1-based) of a file with several repeats; without it every
                       repeat is scored separately and the mean over repeats is reported
  --convention NAME    aimkp (the AimKP paper's F1@K/MAP@K, default) or cmkp (the CMKP authors' script)
  --sep SEP            phrase separator of plain prediction lines
                       (default: ";" for a .txt file that contains ";", else ",")
  --json               print one JSON object instead of the table; with several repeats (and no --repeat):
                       {convention, n, repeats, perRepeat: [scores, ...], mean: {...}}
  --cmkp-result PREFIX also write PREFIX.result.txt and PREFIX.result.csv in the CMKP script's layout
                       (one repeat: with several, pick it with --repeat)
  -h, --help           show this help`;

type ScoresJson = ReturnType<typeof scoresToJson>;

const METRIC_LABELS: Record<string, string> = {
  f1: 'F1',
  map: 'MAP',
  p: 'P',
  r: 'R',
  ndcg: 'NDCG',
  alpha_ndcg: 'AlphaNDCG',
};
const f5 = (x: number) => x.toFixed(5);

/** The mean of every top-level field that is a number in all `list` objects (nested objects are left out). */
export function meanScoresJson(list: readonly ScoresJson[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (list.length === 0) return out;
  for (const key of Object.keys(list[0])) {
    const values = list.map((j) => j[key]);
    if (values.every((v): v is number => typeof v === 'number'))
      out[key] = values.reduce((a, v) => a + v, 0) / values.length;
  }
  return out;
}

/** Rows F1@k, MAP@k, P@k, R@k (+ cmkp NDCG@k, AlphaNDCG@k; the `all` column) per repeat and their mean. */
export function formatRepeatsTable(
  convention: Convention,
  perRepeat: readonly ScoresJson[],
  mean: Record<string, number>,
): string {
  const rows: string[][] = [['Metric', ...perRepeat.map((_, r) => `repeat ${r + 1}`), 'mean']];
  const keys = Object.keys(mean).filter(
    (k) => /^[a-z_0-9]+@\d+$/.test(k) && METRIC_LABELS[k.split('@')[0]] !== undefined,
  );
  const order = Object.keys(METRIC_LABELS);
  keys.sort(
    (a, b) =>
      order.indexOf(a.split('@')[0]) - order.indexOf(b.split('@')[0]) ||
      Number(a.split('@')[1]) - Number(b.split('@')[1]),
  );
  for (const key of keys) {
    const [metric, k] = key.split('@');
    rows.push([
      `${METRIC_LABELS[metric]}@${k} (${convention})`,
      ...perRepeat.map((j) => f5(j[key] as number)),
      f5(mean[key]),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '))
    .join('\n');
}

function writeResult(path: string, text: string): void {
  try {
    writeFileAtomicSync(path, text);
  } catch (err) {
    throw new CoreError('BAD_INPUT', `aimkp eval: cannot write ${path}: ${(err as Error).message}`);
  }
}

export async function evalCommand(argv: string[]): Promise<number> {
  if (argv.includes('--run')) return (await import('./eval-run')).evalRunCommand(argv);
  const { values } = parseCommandArgs('eval', argv, {
    gold: { type: 'string' },
    pred: { type: 'string' },
    split: { type: 'string', default: 'test' },
    convention: { type: 'string', default: 'aimkp' },
    sep: { type: 'string' },
    repeat: { type: 'string' },
    json: { type: 'boolean', default: false },
    'cmkp-result': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const convention = values.convention as Convention;
  if (!CONVENTIONS.includes(convention))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: --convention must be ${orList(CONVENTIONS)}, got "${values.convention}"`,
    );
  if (values['cmkp-result'] !== undefined && convention !== 'cmkp')
    throw new CoreError('BAD_INPUT', 'aimkp eval: --cmkp-result needs --convention cmkp');
  let repeat: number | undefined;
  if (values.repeat !== undefined) {
    repeat = Number(values.repeat);
    if (!/^\d+$/.test(values.repeat) || repeat < 1) {
      throw new CoreError(
        'BAD_INPUT',
        `aimkp eval: --repeat must be a positive integer (1-based), got "${values.repeat}"`,
      );
    }
  }
  const gold = readGold(requireFlag('eval', values.gold, 'gold'), values.split as Split);
  const pred = readPredictions(requireFlag('eval', values.pred, 'pred'), gold.samples, values.sep);
  const nRepeats = pred.repeats.length;
  if (repeat !== undefined && repeat > nRepeats) {
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: --repeat ${repeat} is out of range: ${pred.path} has ${nRepeats} repeat${nRepeats === 1 ? '' : 's'}`,
    );
  }
  if (values['cmkp-result'] !== undefined && repeat === undefined && nRepeats > 1) {
    throw new CoreError(
      'BAD_INPUT',
      `aimkp eval: --cmkp-result writes one repeat's result but ${pred.path} has ${nRepeats} repeats; pick one with --repeat K (1..${nRepeats})`,
    );
  }
  const goldPhrases = gold.samples.map((g) => g.keyphrases);
  const score = (predictions: string[][]): Scores =>
    convention === 'aimkp'
      ? scoreAimkp(goldPhrases, predictions)
      : scoreCmkp(goldPhrases, predictions, { sources: gold.samples.map((g) => g.text) });
  const sep = pred.separator === null ? 'JSONL' : `separator "${pred.separator}"`;
  const filesLine = `gold: ${gold.path} (${gold.format}${gold.format === 'manifest' ? `, split ${values.split}` : ''}); predictions: ${pred.path} (${sep})\n`;

  if (repeat === undefined && nRepeats > 1) {
    const perRepeat = pred.repeats.map((p) => scoresToJson(score(p)));
    const mean = meanScoresJson(perRepeat);
    if (values.json) {
      console.log(JSON.stringify({ convention, n: gold.samples.length, repeats: nRepeats, perRepeat, mean }));
    } else {
      console.log(
        `aimkp eval: ${gold.samples.length} samples, convention ${convention}, ${nRepeats} repeats, mean over repeats`,
      );
      console.log(filesLine);
      console.log(formatRepeatsTable(convention, perRepeat, mean));
      if (convention === 'cmkp')
        console.log('\n(all keyphrases; --repeat K shows one repeat with the present/absent split)');
    }
    return 0;
  }

  const scores = score(pred.repeats[(repeat ?? 1) - 1]);
  if (scores.convention === 'cmkp' && values['cmkp-result'] !== undefined) {
    writeResult(`${values['cmkp-result']}.result.txt`, formatCmkpResultText(scores));
    writeResult(`${values['cmkp-result']}.result.csv`, formatCmkpResultCsv(scores));
  }
  // --repeat names the repeat in the output; a file with one repeat and no --repeat prints as before.
  if (values.json) {
    console.log(
      JSON.stringify(
        repeat === undefined ? scoresToJson(scores) : { ...scoresToJson(scores), repeat, repeats: nRepeats },
      ),
    );
  } else {
    const which = repeat === undefined ? '' : `, repeat ${repeat} of ${nRepeats}`;
    console.log(`aimkp eval: ${scores.n} samples, convention ${convention}${which}`);
    console.log(filesLine);
    console.log(formatScoresTable(scores));
  }
  return 0;
}
