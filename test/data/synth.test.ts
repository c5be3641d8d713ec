import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../models/data/load-dataset';
import { buildSynthDataset, SYNTH_DISTRACTORS, SYNTH_PLACES, SYNTH_TOPICS } from '../../models/data/synth-dataset';
import { SYNTH_COLOURS, SYNTH_SHAPES } from '../../models/data/synth-draw';
import { tempDir } from '../fixtures/temp-dirs';

async function build(
  seed: number,
  extra: { noise?: number; misaligned?: number; missingImage?: number; missingText?: number } = {},
) {
  const out = join(tempDir('aimkp-synth-'), 'set');
  const res = await buildSynthDataset({ n: 60, seed, out, ...extra });
  return { out, res };
}

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  files.set('manifest.jsonl', await readFile(join(dir, 'manifest.jsonl')));
  for (const f of (await readdir(join(dir, 'images'))).sort()) files.set(f, await readFile(join(dir, 'images', f)));
  return files;
}

test('same seed gives the same manifest and byte-identical images; another seed differs', async () => {
  const knobs = { noise: 0.3, misaligned: 0.2, missingImage: 0.1, missingText: 0.1 };
  const a = await snapshot((await build(5, knobs)).out);
  const b = await snapshot((await build(5, knobs)).out);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs between two runs with the same seed`);
  const c = await snapshot((await build(6, knobs)).out);
  assert.ok(!a.get('manifest.jsonl')!.equals(c.get('manifest.jsonl')!));
  const firstImage = [...a.keys()][1];
  assert.ok(
    c.has(firstImage) && !a.get(firstImage)!.equals(c.get(firstImage)!),
    'image of the same id differs across seeds',
  );
});

test('keyphrase modalities: topic only in the text, shape only in the image, colour+place needs both', async () => {
  const { out, res } = await build(11);
  const ds = await loadDataset(out);
  assert.deepEqual(ds.issues, []);
  assert.equal(ds.items.length, 60);
  assert.deepEqual(res.bySplit, { train: 48, valid: 6, test: 6 });
  const colourNames = Object.keys(SYNTH_COLOURS);
  for (const it of ds.items) {
    const words = it.text.split(' ');
    const [topic, shape, combo] = it.keyphrases;
    const [colour, place] = combo.split(' ');
    assert.ok((SYNTH_TOPICS as readonly string[]).includes(topic));
    assert.ok((SYNTH_SHAPES as readonly string[]).includes(shape));
    assert.ok(colourNames.includes(colour) && (SYNTH_PLACES as readonly string[]).includes(place));
    assert.ok(words.includes(topic), `${it.id}: text-only keyphrase "${topic}" is in the text`);
    assert.ok(words.includes(place), `${it.id}: the place half is in the text`);
    assert.ok(!words.includes(shape), `${it.id}: image-only keyphrase "${shape}" is not in the text`);
    assert.ok(!words.includes(colour), `${it.id}: the colour is not in the text`);
    // The image really shows the colour: the most frequent non-background pixel is the named colour.
    const { data } = await sharp(join(out, it.image!)).raw().toBuffer({ resolveWithObject: true });
    let best = '';
    let bestCount = 0;
    for (const name of colourNames) {
      const [r, g, b] = SYNTH_COLOURS[name];
      let count = 0;
      for (let p = 0; p < data.length; p += 3) if (data[p] === r && data[p + 1] === g && data[p + 2] === b) count++;
      if (count > bestCount) [best, bestCount] = [name, count];
    }
    assert.equal(best, colour, `${it.id}: image colour`);
    assert.ok(bestCount > 40, `${it.id}: the shape covers some pixels`);
  }
});

test('knobs: missing image / text, misalignment and distractor words', async () => {
  const { out, res } = await build(3, { noise: 0.5, misaligned: 0.3, missingImage: 0.2, missingText: 0.2 });
  const ds = await loadDataset(out);
  assert.equal(ds.items.length, 60);
  const noImage = ds.items.filter((i) => i.image === null);
  const noText = ds.items.filter((i) => i.text === '');
  assert.equal(noImage.length, res.missingImage);
  assert.equal(noText.length, res.missingText);
  assert.ok(noImage.length > 0 && noText.length > 0 && res.misaligned > 0);
  assert.ok(!ds.items.some((i) => i.image === null && i.text === ''), 'never both missing');
  const mis = ds.items.filter((i) => i.image !== null && i.image !== `images/${i.id}.png`);
  assert.equal(mis.length, res.misaligned);
  for (const it of mis) {
    // attributes describe what the (other item's) image shows: not this item's shape + colour.
    const [, shape, combo] = it.keyphrases;
    assert.notEqual(it.attributes, `${combo.split(' ')[0]} ${shape}`);
    assert.match(it.source!, /image-of=synth-\d{6}/);
  }
  for (const it of ds.items.filter((i) => i.text !== '')) {
    const distractors = it.text.split(' ').filter((w) => (SYNTH_DISTRACTORS as readonly string[]).includes(w));
    assert.equal(distractors.length, 3, 'round(0.5 * 6) distractor words');
  }
  const info = JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8'));
  assert.equal(info.synth.seed, 3);
  assert.equal(info.synth.misaligned, 0.3);
});
