// `aimkp eval --gold FILE --pred FILE`: parses flags, reads the files and prints the metrics library's scores.
import { writeFileSync, renameSync } from 'node:fs';
import { parseCommandArgs, requireFlag } from '../args';
import { CliError } from '../cli-error';
import type { Split } from '../../data/manifest-types';
import {
  CONVENTIONS, formatCmkpResultCsv, formatCmkpResultText, formatScoresTable, readGold, readPredictions,
  scoreAimkp, scoreCmkp, scoresToJson, type Convention, type Scores,
} from '../../metrics';

const HELP = `Usage: aimkp eval --gold FILE --pred FILE [--convention aimkp|cmkp] [options]
       aimkp eval --run RUN ...   (score a trained run; see "aimkp eval --run --help")

Scores predicted keyphrases against gold keyphrases (docs/metrics.md).

  --gold PATH          CMKP *_src.txt (text<sep>kp1;kp2<sep>image_url), a data-set folder, or its manifest.jsonl
  --split NAME         manifest split to score (train|valid|test, default test)
  --pred PATH          one line per sample, phrases separated by --sep (matched to gold by order),
                       or *.jsonl with {"id": ..., "predictions": [...]} per line (matched by id)
  --convention NAME    aimkp (the AimKP paper's F1@K/MAP@K, default) or cmkp (the CMKP authors' script)
  --sep SEP            phrase separator of plain prediction lines
                       (default: ";" for a .txt file that contains ";", else ",")
  --json               print one JSON object instead of the table
  --cmkp-result PREFIX also write PREFIX.result.txt and PREFIX.result.csv in the CMKP script's layout
  -h, --help           show this help`;

export async function evalCommand(argv: string[]): Promise<number> {
  if (argv.includes('--run')) return (await import('./eval-run')).evalRunCommand(argv);
  const { values } = parseCommandArgs('eval', argv, {
    gold: { type: 'string' },
    pred: { type: 'string' },
    split: { type: 'string', default: 'test' },
    convention: { type: 'string', default: 'aimkp' },
    sep: { type: 'string' },
    json: { type: 'boolean', default: false },
    'cmkp-result': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const convention = values.convention as Convention;
  if (!CONVENTIONS.includes(convention)) throw new CliError(`aimkp eval: --convention must be aimkp or cmkp, got "${values.convention}"`);
  if (values['cmkp-result'] !== undefined && convention !== 'cmkp') throw new CliError('aimkp eval: --cmkp-result needs --convention cmkp');
  const gold = readGold(requireFlag('eval', values.gold, 'gold'), values.split as Split);
  const pred = readPredictions(requireFlag('eval', values.pred, 'pred'), gold.samples, values.sep);
  const goldPhrases = gold.samples.map((g) => g.keyphrases);
  const scores: Scores =
    convention === 'aimkp'
      ? scoreAimkp(goldPhrases, pred.predictions)
      : scoreCmkp(goldPhrases, pred.predictions, { sources: gold.samples.map((g) => g.text) });

  if (scores.convention === 'cmkp' && values['cmkp-result'] !== undefined) {
    writeAtomic(`${values['cmkp-result']}.result.txt`, formatCmkpResultText(scores));
    writeAtomic(`${values['cmkp-result']}.result.csv`, formatCmkpResultCsv(scores));
  }
  if (values.json) {
    console.log(JSON.stringify(scoresToJson(scores)));
  } else {
    const sep = pred.separator === null ? 'JSONL' : `separator "${pred.separator}"`;
    console.log(`aimkp eval: ${scores.n} samples, convention ${convention}`);
    console.log(`gold: ${gold.path} (${gold.format}${gold.format === 'manifest' ? `, split ${values.split}` : ''}); predictions: ${pred.path} (${sep})\n`);
    console.log(formatScoresTable(scores));
  }
  return 0;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    throw new CliError(`aimkp eval: cannot write ${path}: ${(err as Error).message}`);
  }
}
