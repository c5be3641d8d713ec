// `aimkp data`: import (cmkp), build (clipart, synth) and describe (stats) data sets.
import { intFlag, numberFlag, parseCommandArgs, requireFlag } from '../args';
import { CoreError } from '../../core-error';
import { importCmkp } from '../../data/cmkp-import';
import { formatIssues } from '../../data/data-issue';
import { datasetStats, formatStatsTable } from '../../data/dataset-stats';
import { loadDataset } from '../../data/load-dataset';
import { SPLITS, type Split } from '../../data/manifest-types';
import { buildSynthDataset } from '../../data/synth-dataset';
import { buildPremiseBenchmark, PREMISE_CONDITIONS, PREMISE_DEFAULTS } from '../../data/premise-benchmark';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { claimDatasetOutput } from '../../data/dataset-output';

const USAGE = `Usage: aimkp data <subcommand> [options]

Subcommands:
  cmkp     import CMKP text files:  --src FILE [--attributes FILE] [--ocr FILE] [--images DIR] [--split NAME] --out DIR [--force]
  clipart  build ClipArt-KP from Debian openclipart-svg:  [--source DIR] [--out DIR] [--size PX] [--force]
  synth    build the controlled synthetic set:  --n N --seed S --out DIR [--noise X] [--misaligned P]
           [--missing-image P] [--missing-text P] [--text-leak P] [--force]
  premise  build issue 19's premise benchmark (synth + text leak, and the swap conditions):  --out DIR [--force]
  stats    per-split statistics (the paper's Table 3):  DIR [--json]

Run "aimkp data <subcommand> --help" for details. Format: docs/data-format.md`;

const HELP: Record<string, string> = {
  cmkp: `Usage: aimkp data cmkp --src FILE --out DIR [--attributes FILE] [--ocr FILE] [--images DIR] [--split train|valid|test] [--force]

Imports one CMKP src file (lines "text<sep>kp1;kp2<sep>image_url") into the manifest format.
  --src FILE          the CMKP src file (e.g. data/cmkp/test_src.txt)
  --attributes FILE   line-aligned image attributes (e.g. data/cmkp/test_attribute_cleaned.txt)
  --ocr FILE          line-aligned OCR text (e.g. data/cmkp/test_ocr_final.txt)
  --images DIR        folder with the tweet images named by the URL's file name; found ones are copied to DIR/images
  --split NAME        the split (default: inferred from the file name)
  --out DIR           the data-set folder; importing into an existing data set merges by id (run once per split);
                      a non-empty folder that is not a data set is refused
  --force             replace the data set in --out instead of merging into it
Item ids are cmkp-<split>-<line number, 6 digits>. Malformed lines are reported with file:line and skipped.`,
  clipart: `Usage: aimkp data clipart [--source DIR] [--out DIR] [--size PX] [--force]

Builds the ClipArt-KP data set from the openclipart SVGs (titles/descriptions as text, keywords as keyphrases).
  --source DIR   default /usr/share/openclipart/svg
  --out DIR      default data/clipart-kp
  --size PX      image side in pixels, default 224 (the bundled copy uses 112)
  --force        replace the data set already in --out (without it an existing data set is refused)`,
  synth: `Usage: aimkp data synth --n N --seed S --out DIR [--noise X] [--misaligned P] [--missing-image P] [--missing-text P] [--text-leak P] [--force]

Builds a deterministic synthetic set (64x64 PNG shapes + template text, split 8:1:1). Keyphrases per item:
the topic (only in the text), the shape (only in the image) and "<colour> <place>" (needs both).
  --n N               number of items (default 200)
  --seed S            random seed (default 1)
  --noise X           0..1: pixel noise ±X·127 and round(6X) distractor words (default 0)
  --misaligned P      probability that an item shows another item's image (default 0)
  --missing-image P   probability of no image (default 0)
  --missing-text P    probability of empty text, for items that keep their image (default 0)
  --text-leak P       probability that the text also names the image keyphrases, "<colour> <shape>" inserted at a
                      random word position (default 0); the item's source records leak=1 or leak=0
  --out DIR           the data-set folder (required): new or empty; an existing data set is refused
  --force             replace the data set already in --out (its manifest, images and cache; nothing else)`,
  premise: `Usage: aimkp data premise --out DIR [--n ${PREMISE_DEFAULTS.n}] [--seed ${PREMISE_DEFAULTS.seed}] [--noise ${PREMISE_DEFAULTS.noise}] [--text-leak ${PREMISE_DEFAULTS.textLeak}] [--text-free 0] [--force]

Builds the premise benchmark (issue 19; docs/data-format.md "Premise benchmark"): a synthetic set in which the text
names the image keyphrases for a share of the items, so a model can lean on the text, and the image alone carries
them on the rest. Folders under DIR:
  clean/           aimkp data synth --n N --seed S --noise X --text-leak P (train on this one)
  text-swapped/    the same, each test item carrying another test item's text (seeded derangement)
  image-swapped/   the same with images
  premise.json     settings, leak counts per split, and the five test conditions:
${PREMISE_CONDITIONS.map((c) => `                   ${c.name.padEnd(14)} ${c.data}/ --mode ${c.mode}`).join('\n')}
Defaults are the study's settings. Score a run on all six: scripts/premise-eval.sh RUN DIR
  --text-free P   empty the text of a share P of the train and valid items (image-only posts), so that the
                  image-only mode's prompt is one the models are trained on; test items keep their text (default 0)
  --force         replace a benchmark already in DIR`,
  stats: `Usage: aimkp data stats DIR [--json]

Per split: size, mean text length (whitespace tokens), mean keyphrases per item, mean keyphrase length
(words), keyphrase vocabulary, share of keyphrases present in the text (stemmed contiguous match),
items with an image, items skipped by the loader.
  --json   print the numbers as JSON`,
};

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    if (HELP[sub]) {
      console.log(HELP[sub]);
      return 0;
    }
  }
  switch (sub) {
    case 'cmkp':
      return cmkp(rest);
    case 'clipart':
      return clipart(rest);
    case 'synth':
      return synth(rest);
    case 'premise':
      return premise(rest);
    case 'stats':
      return stats(rest);
    default:
      console.error(`aimkp data: unknown subcommand "${sub}"\n\n${USAGE}`);
      return 2;
  }
}

function parseSplit(value: string | undefined): Split | undefined {
  if (value === undefined) return undefined;
  if (!(SPLITS as readonly string[]).includes(value))
    throw new CoreError('BAD_INPUT', `aimkp data cmkp: --split must be one of ${SPLITS.join(', ')}, got "${value}"`);
  return value as Split;
}

async function cmkp(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('data cmkp', argv, {
    src: { type: 'string' },
    attributes: { type: 'string' },
    ocr: { type: 'string' },
    images: { type: 'string' },
    split: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const src = requireFlag('data cmkp', values.src, 'src');
  const out = requireFlag('data cmkp', values.out, 'out');
  await claimOutput(out, values.force === true ? 'replace' : 'merge', 'aimkp data cmkp');
  const res = await importCmkp({
    src,
    out,
    attributes: values.attributes,
    ocr: values.ocr,
    images: values.images,
    split: parseSplit(values.split),
    builtWith: ['aimkp data cmkp', ...argv].join(' '),
  });
  if (res.issues.length > 0) console.error(formatIssues(res.issues));
  console.log(
    `${res.split}: imported ${res.imported} items, skipped ${res.skipped} malformed line(s), images found ${res.imagesFound}` +
      (values.images === undefined ? ' (no --images folder)' : '') +
      `; kept ${res.kept} existing item(s), replaced ${res.replaced} → ${values.out}`,
  );
  return 0;
}

async function clipart(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('data clipart', argv, {
    source: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string' },
    force: { type: 'boolean' },
  });
  const source = values.source ?? '/usr/share/openclipart/svg';
  const out = values.out ?? 'data/clipart-kp';
  const size = intFlag('data clipart', values.size, 'size', 224);
  if (size < 16 || size > 2048)
    throw new CoreError('BAD_INPUT', `aimkp data clipart: --size must be between 16 and 2048, got ${size}`);
  await claimOutput(out, values.force === true ? 'replace' : 'new', 'aimkp data clipart');
  const { buildClipartDataset } = await import('../../data/clipart/build-clipart');
  const res = await buildClipartDataset({ source, out, size, log: (msg) => console.error(msg) });
  console.log(`clipart: ${res.items} items, ${res.skipped} skipped → ${out}`);
  return 0;
}

function probability(name: string, value: string | undefined, command = 'data synth'): number {
  const p = numberFlag(command, value, name, 0);
  if (p < 0 || p > 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --${name} must be between 0 and 1, got ${p}`);
  return p;
}

async function synth(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('data synth', argv, {
    n: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    noise: { type: 'string' },
    misaligned: { type: 'string' },
    'missing-image': { type: 'string' },
    'missing-text': { type: 'string' },
    'text-leak': { type: 'string' },
    force: { type: 'boolean' },
  });
  const n = intFlag('data synth', values.n, 'n', 200);
  if (n < 1) throw new CoreError('BAD_INPUT', `aimkp data synth: --n must be at least 1, got ${n}`);
  const out = requireFlag('data synth', values.out, 'out');
  const seed = intFlag('data synth', values.seed, 'seed', 1);
  const knobs = {
    noise: probability('noise', values.noise),
    misaligned: probability('misaligned', values.misaligned),
    missingImage: probability('missing-image', values['missing-image']),
    missingText: probability('missing-text', values['missing-text']),
    textLeak: probability('text-leak', values['text-leak']),
  };
  await claimOutput(out, values.force === true ? 'replace' : 'new', 'aimkp data synth');
  const res = await buildSynthDataset({
    n,
    seed,
    out,
    ...knobs,
    builtWith: ['aimkp data synth', ...argv].join(' '),
  });
  console.log(
    `synth: ${res.items} items (train ${res.bySplit.train}, valid ${res.bySplit.valid}, test ${res.bySplit.test}), ${res.images} images, ` +
      `misaligned ${res.misaligned}, missing image ${res.missingImage}, missing text ${res.missingText}` +
      (knobs.textLeak > 0 ? `, text leak ${res.textLeak}` : '') +
      ` → ${out}`,
  );
  return 0;
}

async function premise(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('data premise', argv, {
    n: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    noise: { type: 'string' },
    'text-leak': { type: 'string' },
    'text-free': { type: 'string' },
    force: { type: 'boolean' },
  });
  const out = requireFlag('data premise', values.out, 'out');
  const n = intFlag('data premise', values.n, 'n', PREMISE_DEFAULTS.n);
  if (n < 20) throw new CoreError('BAD_INPUT', `aimkp data premise: --n must be at least 20 (2 test items), got ${n}`);
  const seed = intFlag('data premise', values.seed, 'seed', PREMISE_DEFAULTS.seed);
  const noise =
    values.noise === undefined ? PREMISE_DEFAULTS.noise : probability('noise', values.noise, 'data premise');
  const textLeak =
    values['text-leak'] === undefined
      ? PREMISE_DEFAULTS.textLeak
      : probability('text-leak', values['text-leak'], 'data premise');
  const textFree =
    values['text-free'] === undefined ? 0 : probability('text-free', values['text-free'], 'data premise');
  // The folder holds three data sets: refuse anything but an empty folder or an earlier benchmark (with --force).
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, 'premise.json')))
      throw new CoreError(
        'BAD_INPUT',
        `aimkp data premise: ${out} is not empty and holds no premise.json; give a new folder`,
      );
    if (values.force !== true)
      throw new CoreError(
        'BAD_INPUT',
        `aimkp data premise: ${out} already holds a premise benchmark (--force replaces it)`,
      );
  }
  if (values.force === true) await claimOutput(join(out, 'clean'), 'replace', 'aimkp data premise');
  const res = await buildPremiseBenchmark({
    out,
    n,
    seed,
    noise,
    textLeak,
    textFree,
    builtWith: ['aimkp data premise', ...argv].join(' '),
  });
  const s = res.synth.bySplit;
  const l = res.leakBySplit;
  console.log(
    `premise: ${res.synth.items} items (train ${s.train}, valid ${s.valid}, test ${s.test}); texts naming "<colour> <shape>": ` +
      `train ${l.train}, valid ${l.valid}, test ${l.test}; ` +
      (textFree > 0 ? `texts emptied: train ${res.textFreeBySplit.train}, valid ${res.textFreeBySplit.valid}; ` : '') +
      `mean text ${res.meanTextWords.toFixed(1)} words → ${out}/{clean,text-swapped,image-swapped}`,
  );
  return 0;
}

/** Applies the data-set output rule (models/data/dataset-output.ts) and says what it replaced. */
async function claimOutput(out: string, mode: 'new' | 'replace' | 'merge', command: string): Promise<void> {
  const claimed = await claimDatasetOutput(out, mode, command);
  if (claimed.found === 'dataset' && mode === 'replace')
    console.error(
      `${command}: replacing the data set in ${out} (${claimed.items} items, ${claimed.removed} files removed)`,
    );
  if (claimed.found === 'dataset' && mode === 'merge')
    console.error(`${command}: merging into the data set in ${out} (${claimed.items} items; same ids are replaced)`);
}

async function stats(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('data stats', argv, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1)
    throw new CoreError(
      'BAD_INPUT',
      'aimkp data stats: expected exactly one data-set folder\nRun "aimkp data stats --help" for usage.',
    );
  const ds = await loadDataset(positionals[0]);
  const st = datasetStats(ds.items, ds.summary);
  if (ds.issues.length > 0) console.error(formatIssues(ds.issues));
  if (values.json) {
    console.log(JSON.stringify({ dir: ds.dir, name: ds.info?.name ?? null, stats: st, summary: ds.summary }, null, 2));
  } else {
    console.log(`${ds.info?.name ?? positionals[0]}: ${ds.summary.loaded} items loaded, ${ds.summary.skipped} skipped`);
    console.log(formatStatsTable(st));
  }
  return 0;
}
