// Issue 19's premise benchmark: a synthetic set where the text is an easy shortcut for the image keyphrases on a
// known share of the items (the synth generator's text leak), plus the two test conditions that need a data set of
// their own (text swapped, image swapped). Text removed / image removed are prediction modes (image / text) of the
// clean set. One folder holds everything; premise.json says how it was built and how to run each condition.
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreError } from '../core-error';
import type { ManifestItem } from './manifest-types';
import { mulberry32, subSeed } from './synth-random';
import { buildSynthDataset, type SynthResult } from './synth-dataset';
import { writeDataset, type DatasetInfoFile } from './write-dataset';
import { writeFileAtomic } from '../fs/atomic-write';

/** The study's settings (docs/data-format.md "Premise benchmark"): 3,000 items, noise 0.5, 80 % of texts leak. */
export const PREMISE_DEFAULTS = { n: 3000, seed: 1, noise: 0.5, textLeak: 0.8 } as const;

export interface PremiseOptions {
  out: string;
  n?: number;
  seed?: number;
  noise?: number;
  textLeak?: number;
  /**
   * Share of train and valid items whose text is emptied (default 0): image-only posts, so the prompt without a
   * text span (the image-only mode) is a format the models are trained on. Test items keep their text.
   */
  textFree?: number;
  builtWith?: string;
}

/** One test condition: which data set and which prediction mode. */
export interface PremiseCondition {
  name: 'clean' | 'text-removed' | 'text-masked' | 'image-removed' | 'text-swapped' | 'image-swapped';
  /** Folder under the benchmark folder. */
  data: 'clean' | 'text-swapped' | 'image-swapped';
  mode: 'multimodal' | 'text' | 'image';
  /** `aimkp predict --text-stride`: only the text tokens the training-time mask at this stride keeps. */
  textStride?: number;
  what: string;
}

export const PREMISE_CONDITIONS: readonly PremiseCondition[] = [
  { name: 'clean', data: 'clean', mode: 'multimodal', what: 'text and image as built' },
  { name: 'text-removed', data: 'clean', mode: 'image', what: 'no text (image-only mode)' },
  // The image-only mode also changes the prompt's format (no text span, never seen in training); this hides the
  // text as much (1 token in 8 kept: the leaked words are gone with probability ≈ 7/8 each) in the trained format.
  {
    name: 'text-masked',
    data: 'clean',
    mode: 'multimodal',
    textStride: 8,
    what: 'text kept at stride 8 (the training-time text mask)',
  },
  { name: 'image-removed', data: 'clean', mode: 'text', what: 'no image (text-only mode)' },
  { name: 'text-swapped', data: 'text-swapped', mode: 'multimodal', what: "each test item carries another's text" },
  { name: 'image-swapped', data: 'image-swapped', mode: 'multimodal', what: "each test item carries another's image" },
];

export interface PremiseResult {
  synth: SynthResult;
  /** Leaking items per split. */
  leakBySplit: Record<'train' | 'valid' | 'test', number>;
  /** Mean words per text. */
  meanTextWords: number;
  /** Train / valid items whose text was emptied by textFree. */
  textFreeBySplit: Record<'train' | 'valid', number>;
}

/** Whether the benchmark emptied the item's text (source records text-free=1). */
export function itemTextFree(item: Pick<ManifestItem, 'source'>): boolean {
  return / text-free=1\b/.test(item.source ?? '');
}

/**
 * Empties the text of a seeded share of the train and valid items (source gains text-free=1). The stream is its
 * own, and an item is picked when its draw is below `share`, so a larger share empties a superset.
 */
export function emptyTrainTexts(items: readonly ManifestItem[], share: number, seed: number): ManifestItem[] {
  const rand = mulberry32(seed);
  return items.map((it) => {
    const draw = rand();
    if (it.split === 'test' || draw >= share || it.text === '') return it;
    return { ...it, text: '', source: `${it.source ?? ''} text-free=1`.trim() };
  });
}

/** Whether an item's text names its "<colour> <shape>" (the generator records leak=1 in source). */
export function itemLeaks(item: Pick<ManifestItem, 'source'>): boolean {
  return / leak=1\b/.test(item.source ?? '');
}

/**
 * A derangement of 0 … n−1 (no index maps to itself) from a seeded stream: a random cyclic shift by 1 … n−1 of a
 * seeded shuffle, so every item gets another item's field. n = 1 cannot be deranged and is refused.
 */
export function derangement(n: number, seed: number): number[] {
  if (n < 2) throw new CoreError('BAD_INPUT', `premise benchmark: a swap needs at least 2 test items, got ${n}`);
  const rand = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const shift = 1 + Math.floor(rand() * (n - 1));
  const to = new Array<number>(n);
  // order[k] takes the field of order[(k + shift) mod n]: a shift in 1 … n−1 never maps a position to itself.
  for (let k = 0; k < n; k++) to[order[k]] = order[(k + shift) % n];
  return to;
}

/** The test items of `items` with `field` taken from another test item (train and valid unchanged). */
export function swapTestField(items: readonly ManifestItem[], field: 'text' | 'image', seed: number): ManifestItem[] {
  const test = items.map((it, i) => ({ it, i })).filter((x) => x.it.split === 'test');
  const to = derangement(test.length, seed);
  const out = items.map((it) => ({ ...it }));
  test.forEach((x, k) => {
    const from = test[to[k]].it;
    if (field === 'text') out[x.i].text = from.text;
    else {
      out[x.i].image = from.image;
      // What the image shows moves with it (attributes), so a scorer can tell which shape the image has.
      out[x.i].attributes = from.attributes;
    }
    out[x.i].source = `${x.it.source ?? ''} ${field}-of=${from.id}`.trim();
  });
  return out;
}

async function readManifest(dir: string): Promise<ManifestItem[]> {
  const body = await readFile(join(dir, 'manifest.jsonl'), 'utf8');
  return body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ManifestItem);
}

/** The result as premise.json records it: the text-free counts only when the knob was used. */
function withoutTextFree(result: PremiseResult, textFree: number): Partial<PremiseResult> {
  if (textFree > 0) return result;
  const { textFreeBySplit: _unused, ...rest } = result;
  return rest;
}

/** Builds OUT/clean, OUT/text-swapped, OUT/image-swapped and OUT/premise.json. */
export async function buildPremiseBenchmark(opts: PremiseOptions): Promise<PremiseResult> {
  const n = opts.n ?? PREMISE_DEFAULTS.n;
  const seed = opts.seed ?? PREMISE_DEFAULTS.seed;
  const noise = opts.noise ?? PREMISE_DEFAULTS.noise;
  const textLeak = opts.textLeak ?? PREMISE_DEFAULTS.textLeak;
  const textFree = opts.textFree ?? 0;
  const builtWith =
    opts.builtWith ??
    `aimkp data premise --n ${n} --seed ${seed} --noise ${noise} --text-leak ${textLeak}` +
      (textFree > 0 ? ` --text-free ${textFree}` : '');
  const clean = join(opts.out, 'clean');
  const synth = await buildSynthDataset({ n, seed, out: clean, noise, textLeak, builtWith });
  let items = await readManifest(clean);
  const info = JSON.parse(await readFile(join(clean, 'dataset.json'), 'utf8')) as DatasetInfoFile;
  if (textFree > 0) {
    items = emptyTrainTexts(items, textFree, subSeed(seed, 0x7ffffffc));
    info.description += ` Text-free ${textFree}: the texts of ${items.filter(itemTextFree).length} train/valid items are empty (source text-free=1); test items keep theirs.`;
    await writeDataset(clean, items, info);
  }

  for (const [field, name] of [
    ['text', 'text-swapped'],
    ['image', 'image-swapped'],
  ] as const) {
    const dir = join(opts.out, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // Images are copied (64×64 PNGs, ~1 MB per 1,000): a data set folder must stand on its own.
    await cp(join(clean, 'images'), join(dir, 'images'), { recursive: true });
    // Stream per field, so the two swaps are independent.
    const swapped = swapTestField(items, field, subSeed(seed, field === 'text' ? 0x7ffffffe : 0x7ffffffd));
    await writeDataset(dir, swapped, {
      ...info,
      name: `synth-premise-${name}`,
      description: `TEST CONDITION ${name}: each test item carries another test item's ${field} (train and valid as in ../clean). ${info.description}`,
    });
  }

  const leakBySplit = { train: 0, valid: 0, test: 0 };
  const textFreeBySplit = { train: 0, valid: 0 };
  for (const it of items) {
    if (itemLeaks(it) && !itemTextFree(it)) leakBySplit[it.split]++;
    if (itemTextFree(it) && it.split !== 'test') textFreeBySplit[it.split]++;
  }
  const words = items.reduce((a, it) => a + (it.text === '' ? 0 : it.text.split(' ').length), 0);
  const result: PremiseResult = { synth, leakBySplit, meanTextWords: words / items.length, textFreeBySplit };
  await writeFileAtomic(
    join(opts.out, 'premise.json'),
    JSON.stringify(
      {
        builtWith,
        // textFree only when used, so a benchmark built without it is byte-identical to one built before the knob.
        settings: { n, seed, noise, textLeak, ...(textFree > 0 ? { textFree } : {}) },
        roles: {
          topic: 'keyphrase 1: only in the text',
          shape: 'keyphrase 2: in the image; also in the text when leak=1',
          colourPlace: 'keyphrase 3 "<colour> <place>": colour from the image (also in the text when leak=1), place from the text',
        },
        conditions: PREMISE_CONDITIONS,
        ...withoutTextFree(result, textFree),
      },
      null,
      2,
    ) + '\n',
  );
  return result;
}
