// A controlled synthetic data set whose keyphrases need the text, the image, or both.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestItem, Split } from './manifest-types';
import { drawShapePixels, encodePng, SYNTH_COLOURS, SYNTH_GRID, SYNTH_SHAPES, SYNTH_SIZE, type ShapeSpec } from './synth-draw';
import { mapLimit } from './image-check';
import { mulberry32, pick, subSeed } from './synth-random';
import { writeDataset } from './write-dataset';

// Text-only keyphrases (topics), text words that combine with the image colour (places), and distractors.
// No word of one list occurs in another, in a template, or in a colour or shape name, so each keyphrase's modality is exact.
export const SYNTH_TOPICS = ['football', 'music', 'election', 'cooking', 'travel', 'science', 'fashion', 'gaming'] as const;
export const SYNTH_PLACES = ['harbour', 'forest', 'market', 'station', 'beach', 'library', 'mountain', 'stadium'] as const;
export const SYNTH_DISTRACTORS = ['cheers', 'really', 'lovely', 'weekend', 'friends', 'again', 'finally', 'amazing', 'morning', 'honestly', 'vibes', 'story'] as const;
const TEMPLATES = [
  'a photo about {topic} near the {place}',
  'all about {topic} at the {place} today',
  'thinking of {topic} by the {place}',
  'our {topic} meetup at the {place}',
  'more {topic} news from the {place}',
] as const;

export interface SynthOptions {
  n: number;
  seed: number;
  out: string;
  /** Modality noise in [0, 1]: pixel noise amplitude (±noise·127) and round(noise·6) distractor words per text. */
  noise?: number;
  /** Probability that an item's image is another item's (with a different shape or colour). */
  misaligned?: number;
  /** Probability that an item has no image. */
  missingImage?: number;
  /** Probability that an item has no text (only drawn for items that keep their image). */
  missingText?: number;
  /**
   * Probability that the text also names the image keyphrase words, "<colour> <shape>" (inserted as two adjacent
   * words at a random word position): a text shortcut for what is otherwise image-only (issue 19's premise
   * benchmark). Drawn from a stream of its own, so a set built with 0 is byte-identical to one built before the knob.
   */
  textLeak?: number;
  builtWith?: string;
}

export interface SynthResult {
  items: number;
  images: number;
  bySplit: Record<Split, number>;
  misaligned: number;
  missingImage: number;
  missingText: number;
  /** Items whose text names "<colour> <shape>" (source ends with leak=1). */
  textLeak: number;
}

interface Spec {
  topic: string;
  place: string;
  template: string;
  shape: ShapeSpec;
  missingImage: boolean;
  missingText: boolean;
  misaligned: boolean;
}

/** The keyphrases of an item by role: [text-only topic, image-only shape, colour (image) + place (text)]. */
export function synthKeyphrases(spec: { topic: string; place: string; shape: ShapeSpec }): string[] {
  return [spec.topic, spec.shape.shape, `${spec.shape.colour} ${spec.place}`];
}

function splitOf(i: number, n: number): Split {
  const nTrain = Math.round(n * 0.8);
  const nValid = Math.round(n * 0.1);
  return i < nTrain ? 'train' : i < nTrain + nValid ? 'valid' : 'test';
}

function clamp01(x: number | undefined): number {
  return Math.max(0, Math.min(1, x ?? 0));
}

export async function buildSynthDataset(opts: SynthOptions): Promise<SynthResult> {
  const n = opts.n;
  const noise = clamp01(opts.noise);
  const pMis = clamp01(opts.misaligned);
  const pNoImg = clamp01(opts.missingImage);
  const pNoText = clamp01(opts.missingText);
  const pLeak = clamp01(opts.textLeak);
  // Stream 2^31 - 1 is far from the per-item pixel streams (0 … n−1).
  const leakRand = mulberry32(subSeed(opts.seed, 0x7fffffff));
  let leaked = 0;
  const rand = mulberry32(opts.seed);
  const colours = Object.keys(SYNTH_COLOURS);

  // All random choices come from one stream in a fixed order; pixel noise uses per-item streams.
  const specs: Spec[] = [];
  for (let i = 0; i < n; i++) {
    const shape: ShapeSpec = {
      shape: pick(rand, SYNTH_SHAPES),
      colour: pick(rand, colours),
      row: Math.floor(rand() * SYNTH_GRID),
      col: Math.floor(rand() * SYNTH_GRID),
    };
    const topic = pick(rand, SYNTH_TOPICS);
    const place = pick(rand, SYNTH_PLACES);
    const template = pick(rand, TEMPLATES);
    const missingImage = rand() < pNoImg;
    const missingText = !missingImage && rand() < pNoText;
    const misaligned = !missingImage && rand() < pMis;
    specs.push({ topic, place, template, shape, missingImage, missingText, misaligned });
  }

  const id = (i: number) => `synth-${String(i + 1).padStart(6, '0')}`;
  const imagePath = (i: number) => `images/${id(i)}.png`;
  // A misaligned item shows the image of another item with a different shape or colour.
  const shownFrom = specs.map((s, i) => {
    if (!s.misaligned) return i;
    const others = specs
      .map((_, j) => j)
      .filter((j) => j !== i && !specs[j].missingImage && !specs[j].misaligned && (specs[j].shape.shape !== s.shape.shape || specs[j].shape.colour !== s.shape.colour));
    return others.length > 0 ? pick(rand, others) : i;
  });

  const leakFlags = specs.map(() => false);
  const items: ManifestItem[] = specs.map((s, i) => {
    let text = '';
    if (!s.missingText) {
      const words = s.template.replace('{topic}', s.topic).replace('{place}', s.place).split(' ');
      for (let k = 0; k < Math.round(noise * 6); k++) {
        words.splice(Math.floor(rand() * (words.length + 1)), 0, pick(rand, SYNTH_DISTRACTORS));
      }
      // Only items with a text can leak. Both draws happen for every such item, so the stream stays aligned across
      // pLeak values: a higher pLeak leaks a superset of the items, at the same positions.
      const leakDraw = pLeak > 0 ? leakRand() : 1;
      const leakAt = pLeak > 0 ? Math.floor(leakRand() * (words.length + 1)) : 0;
      if (leakDraw < pLeak) {
        words.splice(leakAt, 0, s.shape.colour, s.shape.shape);
        leakFlags[i] = true;
        leaked++;
      }
      text = words.join(' ');
    }
    const from = shownFrom[i];
    const shown = specs[from].shape;
    const item: ManifestItem = {
      id: id(i),
      split: splitOf(i, n),
      text,
      image: s.missingImage ? null : imagePath(from),
      keyphrases: synthKeyphrases(s),
    };
    // Like CMKP's image attributes: what the image shows (so for misaligned items, the other item's shape).
    if (!s.missingImage) item.attributes = `${shown.colour} ${shown.shape}`;
    item.source = `synth seed=${opts.seed}${from !== i ? ` image-of=${id(from)}` : ''}${pLeak > 0 ? ` leak=${leakFlags[i] ? 1 : 0}` : ''}`;
    return item;
  });

  // Draw only the images some item shows.
  const needed = [...new Set(shownFrom.filter((_, i) => !specs[i].missingImage))].sort((a, b) => a - b);
  await mkdir(join(opts.out, 'images'), { recursive: true });
  await mapLimit(needed, 8, async (j) => {
    const pixels = drawShapePixels(specs[j].shape, noise, mulberry32(subSeed(opts.seed, j)));
    await writeFile(join(opts.out, imagePath(j)), await encodePng(pixels));
  });

  const bySplit: Record<Split, number> = { train: 0, valid: 0, test: 0 };
  for (const it of items) bySplit[it.split]++;
  const result: SynthResult = {
    items: n,
    images: needed.length,
    bySplit,
    misaligned: shownFrom.filter((from, i) => from !== i).length,
    missingImage: specs.filter((s) => s.missingImage).length,
    missingText: specs.filter((s) => s.missingText).length,
    textLeak: leaked,
  };
  await writeDataset(opts.out, items, {
    name: 'synth',
    description:
      `Synthetic multimodal keyphrase set (seed ${opts.seed}, ${n} items, split 8:1:1). Keyphrase 1 (topic) is only in the text, ` +
      `keyphrase 2 (shape) is only in the ${SYNTH_SIZE}x${SYNTH_SIZE} image, keyphrase 3 ("<colour> <place>") needs the image colour and the text place.` +
      (pLeak > 0
        ? ` Text leak ${pLeak}: ${leaked} texts also name "<colour> <shape>" (source leak=1), a text shortcut for the image keyphrases.`
        : ''),
    builtWith:
      opts.builtWith ??
      `aimkp data synth --n ${n} --seed ${opts.seed} --noise ${noise} --misaligned ${pMis} --missing-image ${pNoImg} --missing-text ${pNoText}${pLeak > 0 ? ` --text-leak ${pLeak}` : ''}`,
    license: 'CC0-1.0 (generated)',
    synth: {
      n,
      seed: opts.seed,
      noise,
      misaligned: pMis,
      missingImage: pNoImg,
      missingText: pNoText,
      ...(pLeak > 0 ? { textLeak: pLeak } : {}),
      imageSize: SYNTH_SIZE,
      grid: SYNTH_GRID,
      keyphraseRoles: { textOnly: 'topic', imageOnly: 'shape', textAndImage: 'colour + place' },
      vocabulary: { topics: SYNTH_TOPICS, places: SYNTH_PLACES, shapes: SYNTH_SHAPES, colours, distractors: SYNTH_DISTRACTORS },
      counts: result,
    },
  });
  return result;
}
