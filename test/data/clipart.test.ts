// ClipArt-KP builder: metadata extraction, every cleaning rule, split determinism, the builder end to end on
// fixtures + a handful of real openclipart files, and the bundled data set in data/clipart-kp/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildClipartDataset } from '../../models/data/clipart/build-clipart';
import {
  cleanKeyphrases,
  collectSingleWordTags,
  isHashJunk,
  nameSet,
  normalizeName,
  normalizeTag,
  splitSpaceList,
  type KeyphraseContext,
} from '../../models/data/clipart/clean-keyphrases';
import { buildText, cleanDescription, cleanTitle, titleFromFileName } from '../../models/data/clipart/clean-text';
import { itemDropReason } from '../../models/data/clipart/item-filters';
import { expandCanvas, rasterizeSvg } from '../../models/data/clipart/rasterize';
import { splitBucket, splitForId } from '../../models/data/clipart/split';
import { extractSvgMetadata } from '../../models/data/clipart/svg-metadata';
import type { ManifestItem } from '../../models/data/manifest-types';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'clipart');
const OPENCLIPART = '/usr/share/openclipart/svg';
const BUNDLED = path.join(import.meta.dirname, '..', '..', 'data', 'clipart-kp');

const fixture = (name: string): Promise<string> => readFile(path.join(FIXTURES, name), 'utf8');

function ctx(ownNames: string[] = [], singles: string[] = [], allNames: string[] = []): KeyphraseContext {
  return { ownNames: ownNames.map(normalizeName), singleWordTags: new Set(singles), allNames: nameSet(allNames) };
}

async function readManifest(dir: string): Promise<ManifestItem[]> {
  const text = await readFile(path.join(dir, 'manifest.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ManifestItem);
}

test('metadata: title, description, subject entries and agents are read and entity-decoded', async () => {
  const meta = extractSvgMetadata(await fixture('cat-full-metadata.svg'));
  assert.ok(meta);
  assert.equal(meta.title, 'Sleeping_Cat & Mouse'); // the agents' dc:title is not taken for the work's title
  assert.equal(meta.description, 'A grey cat sleeping next to a mouse. Contact: jane.doe@example.org');
  assert.deepEqual(meta.subjects, [
    'hash',
    '',
    'Cat',
    'HASH(0x8589dd0)',
    'mouse, pet; sleeping_animal',
    'jane.doe@example.org',
    'Jane Doe',
    'clip art',
    'animal cat',
  ]);
  assert.deepEqual(meta.creators, ['Jane Doe']);
  assert.deepEqual(meta.publishers, ['HASH(0x8589dd0)']);
  assert.deepEqual(meta.rights, ['Jane Doe']);
});

test('metadata: a file without a metadata block gives null; a corrupt file with one is still read', async () => {
  assert.equal(extractSvgMetadata(await fixture('no-metadata.svg')), null);
  const broken = extractSvgMetadata(await fixture('corrupt.svg'));
  assert.equal(broken?.title, 'Broken Tree');
  assert.deepEqual(broken?.subjects, ['tree']);
  // double-escaped entities (seen in the package: "Gelato all&amp;#39;italiana") decode fully
  const svg = '<svg><metadata><cc:Work><dc:title>Gelato all&amp;#39;italiana</dc:title></cc:Work></metadata></svg>';
  assert.equal(extractSvgMetadata(svg)?.title, "Gelato all'italiana");
});

test('cleaning: HASH(0x…) junk in every form is recognised', () => {
  assert.ok(isHashJunk('HASH(0x8589dd0)'));
  assert.ok(isHashJunk('hash(0x8a3cd28)'));
  assert.ok(isHashJunk('hash'));
  assert.ok(isHashJunk('0x8f48a28'));
  assert.ok(!isHashJunk('hashish'));
  assert.ok(!isHashJunk('hash browns'));
});

test('cleaning: normalization lower-cases, turns _ into space and trims punctuation', () => {
  assert.equal(normalizeTag('  North_America! '), 'north america');
  assert.equal(normalizeTag('(c)'), 'c');
  assert.equal(normalizeTag('...'), '');
  assert.equal(normalizeTag('Rock&Roll'), 'rock&roll');
});

test('cleaning: the fixture item keeps only meaningful keyphrases, in order', async () => {
  const meta = extractSvgMetadata(await fixture('cat-full-metadata.svg'));
  assert.ok(meta);
  const dropped: string[] = [];
  const kps = cleanKeyphrases(meta.subjects, ctx(['Jane Doe'], ['cat', 'animal', 'mouse']), (reason, raw) =>
    dropped.push(`${reason}:${raw}`),
  );
  // hash / empty / HASH / email / author / "clip art" dropped; "mouse, pet; sleeping_animal" split on , and ;
  // "animal cat": both words are one-word tags → split; "cat" then is a duplicate.
  assert.deepEqual(kps, ['cat', 'mouse', 'pet', 'sleeping animal', 'animal']);
  assert.deepEqual(dropped, [
    'hash:hash',
    'empty:',
    'hash:HASH(0x8589dd0)',
    'email:jane.doe@example.org',
    'author:Jane Doe',
    'meaningless:clip art',
    'duplicate:cat',
  ]);
});

test('cleaning: author names used as tags are removed (own name, parts of it, other authors)', () => {
  const c = ctx(['Architetto Francesco Rollandin'], [], ['Nicu Buculei']);
  assert.deepEqual(
    cleanKeyphrases(['architetto francesco rollandin', 'insect', 'rollandin', 'nicu buculei', 'nicubuculei'], c),
    ['insect'],
  );
  // a creator "name" with an e-mail in brackets still matches
  assert.equal(normalizeName('Jakob [chaosinfaith@hotmail.com]'), 'jakob');
});

test('cleaning: meaningless category tags and numbers are dropped', () => {
  const kps = cleanKeyphrases(
    [
      'clipart',
      'Public Domain',
      'SVG',
      'png',
      'openclipart',
      'unsorted',
      'signs_and_symbols',
      'icon',
      '11',
      'remix',
      'dog',
    ],
    ctx(),
  );
  assert.deepEqual(kps, ['dog']);
});

test('cleaning: multi-word entries — commas/semicolons always split, spaces only with evidence', () => {
  const singles = new Set(['moon', 'space', 'car', 'traffic', 'signal']);
  assert.deepEqual(splitSpaceList(['moon', 'space'], singles), ['moon', 'space']); // both words are tags elsewhere
  assert.deepEqual(splitSpaceList(['czech', 'republic'], singles), ['czech republic']); // a real phrase
  assert.deepEqual(splitSpaceList(['rent', 'a', 'car'], singles), ['rent a car']);
  // 4+ words: a keyword list; function words are not kept
  assert.deepEqual(splitSpaceList(['space', 'astronomy', 'planet', 'jupiter'], singles), [
    'space',
    'astronomy',
    'planet',
    'jupiter',
  ]);
  assert.deepEqual(splitSpaceList(['sign', 'of', 'the', 'times'], singles), ['sign', 'times']);
  assert.deepEqual(
    cleanKeyphrases(
      ['rome,italy', 'santa claus', 'signs_and_symbols traffic'],
      ctx([], ['traffic', 'signs and symbols']),
    ),
    [
      'rome',
      'italy',
      'santa claus',
      'traffic', // "signs_and_symbols" is one piece (underscore), meaningless, then dropped
    ],
  );
  // single-word tag evidence is collected from one-word entries only
  assert.deepEqual([...collectSingleWordTags([['Moon', 'moon space', 'HASH(0x1)', 'north_america']])].sort(), [
    'moon',
    'north america',
  ]);
});

test('cleaning: URLs are dropped, slashes split folder-path tags, HTML accent entities decode', () => {
  assert.deepEqual(cleanKeyphrases(['paint', 'http://www.bcostea.ro', 'signs_and_symbols/weather'], ctx()), [
    'paint',
    'weather',
  ]);
  const svg =
    '<svg><metadata><cc:Work><dc:subject><rdf:Bag><rdf:li>&eacute;toile</rdf:li></rdf:Bag></dc:subject></cc:Work></metadata></svg>';
  assert.deepEqual(extractSvgMetadata(svg)?.subjects, ['étoile']);
});

test('text: titles lose credits, e-mails and collection names; descriptions lose boilerplate and repeats', () => {
  assert.equal(cleanTitle('Clipart by Nicu Buculei - jigsaw_red_10'), 'jigsaw red 10');
  assert.equal(cleanTitle('Telefono (email: frollandin@email.it)'), 'Telefono');
  assert.equal(cleanTitle('ralf@ark.in-berlin.de'), '');
  assert.equal(cleanTitle('Part of the Flat Icon Collection (Wed Aug 25 23:29:46 2004)'), '');
  assert.equal(cleanTitle('AIGA_Symbol_Signs'), '');
  assert.equal(cleanTitle('Homes Clipart'), 'Homes');
  assert.equal(cleanDescription('EPS converted from  http://aiga.org', 'x'), '');
  assert.equal(cleanDescription('This work is hereby released into the Public Domain. To view a copy…', 'x'), '');
  assert.equal(cleanDescription('Hamburger', 'Hamburger (B and W)'), '');
  assert.equal(cleanDescription('jean.victor.balin@gmail.com', 'x'), '');
  assert.equal(cleanDescription('Iceland HASH(0x852c614)', 'Flag'), 'Iceland');
  assert.equal(cleanDescription('A ladybug', 'Ladybird'), 'A ladybug');
  const long = `${'A sentence about a cat. '.repeat(20)}`;
  assert.ok(cleanDescription(long, 'Cat').length <= 300);
  assert.equal(buildText('Orange Slice', ''), 'Orange Slice');
  assert.equal(buildText('Globe.', 'Earth Globe'), 'Globe. Earth Globe');
});

test('text: titles from file names drop numbers, suffixes and the creator name fragments', () => {
  assert.equal(titleFromFileName('aiga_coat_check_.svg', ['Jean-Victor Balin']), 'aiga coat check');
  assert.equal(titleFromFileName('foxglove_0_symbol_1m_bwh.svg', ['Bryce W. Harrington']), 'foxglove symbol');
  assert.equal(titleFromFileName('dino_architetto_francesc_09.svg', ['Architetto Francesco Rollandin']), 'dino');
  assert.equal(titleFromFileName('sheep-md-v0.1.svg', []), 'sheep');
});

test('item filters: icon themes and generated shapes are dropped, ordinary clip art kept', async () => {
  const theme = extractSvgMetadata(await fixture('icon-theme-folder.svg'));
  assert.ok(theme);
  assert.equal(itemDropReason(theme), 'icon-theme');
  const base = { description: '', creators: [], publishers: [], rights: [] };
  assert.equal(
    itemDropReason({ ...base, title: 'gramastar', subjects: ['stars', 'shapes', 'magick', 'geometry'] }),
    'generated-shape',
  );
  assert.equal(
    itemDropReason({ ...base, title: 'SVG Gradient Collection by Alan Horkan, 2004.', subjects: ['special'] }),
    'generated-shape',
  );
  assert.equal(itemDropReason({ ...base, title: 'Etiquette Icons', subjects: ['action', 'computer'] }), 'icon-theme');
  assert.equal(itemDropReason({ ...base, title: 'Damselfly', subjects: ['damselfly', 'insect'] }), null);
});

test('split: deterministic, 8:1:1 by SHA-1 of the id', () => {
  // sha1("a") = 86f7e437…; 0x86f7e437 = 2264392759 → bucket 9 → test
  assert.equal(splitBucket('a'), 2264392759 % 10);
  assert.equal(splitForId('a'), 'test');
  const counts = { train: 0, valid: 0, test: 0 };
  for (let i = 0; i < 5000; i++) counts[splitForId(`item-${i}`)]++;
  assert.ok(counts.train > 3800 && counts.train < 4200, JSON.stringify(counts));
  assert.ok(counts.valid > 400 && counts.valid < 600, JSON.stringify(counts));
  assert.ok(counts.test > 400 && counts.test < 600, JSON.stringify(counts));
  assert.equal(splitForId('animals-birds-puffin-md'), splitForId('animals-birds-puffin-md'));
});

test('rasterize: drawings outside the page are found; the result is a white-padded square', async () => {
  const svg = await readFile(path.join(FIXTURES, 'off-page-sun.svg'));
  const expanded = expandCanvas(svg.toString('utf8'), 250);
  assert.ok(expanded);
  assert.match(expanded.svg, /<svg width="250" height="250" viewBox="-200 -200 500 500"/);
  // a huge A0-sized page (mm units, no viewBox) gets the same pixel budget
  const a0 = expandCanvas('<svg xmlns="http://www.w3.org/2000/svg" width="841mm" height="1189mm"><g/></svg>', 1000);
  assert.ok(a0);
  assert.equal(a0.height, 1000);
  assert.equal(a0.width, Math.round((1000 * 841) / 1189));
  const png = await rasterizeSvg(svg, { size: 32 });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 32);
  assert.equal(info.height, 32);
  const px = (x: number, y: number): number[] => [
    ...data.subarray((y * 32 + x) * info.channels, (y * 32 + x) * info.channels + 3),
  ];
  const [r, g, b] = px(16, 16); // the trimmed sun fills the square: its centre is yellow (#ffcc00)
  assert.ok(r > 230 && g > 180 && g < 230 && b < 40, `centre ${r},${g},${b}`);
  assert.deepEqual(px(0, 0), [255, 255, 255]); // corner outside the circle: white background
});

test('builder: fixtures + real openclipart files end to end, bad files counted not fatal', async (t) => {
  const src = await mkdtemp(path.join(os.tmpdir(), 'clipart-src-'));
  const out = await mkdtemp(path.join(os.tmpdir(), 'clipart-out-'));
  t.after(() => Promise.all([rm(src, { recursive: true, force: true }), rm(out, { recursive: true, force: true })]));
  for (const f of await readdir(FIXTURES)) await copyFile(path.join(FIXTURES, f), path.join(src, f));
  await copyFile(path.join(FIXTURES, 'cat-full-metadata.svg'), path.join(src, 'cat-copy.svg')); // identical image
  const real = existsSync(OPENCLIPART)
    ? ['food/fruit/orange_dave_pena_01.svg', 'animals/birds/puffin-md.svg'].filter((f) =>
        existsSync(path.join(OPENCLIPART, f)),
      )
    : [];
  for (const f of real) await copyFile(path.join(OPENCLIPART, f), path.join(src, path.basename(f)));

  const logs: string[] = [];
  const result = await buildClipartDataset({ source: src, out, size: 48, log: (m) => logs.push(m) });
  assert.deepEqual(result.reasons, {
    'no-metadata': 1,
    'icon-theme': 1,
    'duplicate-image': 1,
    'render-failed': 1,
    'blank-image': 1,
  });
  assert.equal(result.skipped, 5);
  assert.equal(result.items, 3 + real.length);
  const items = await readManifest(out);
  assert.equal(items.length, result.items);
  const cat = items.find((it) => it.source === 'cat-copy.svg' || it.source === 'cat-full-metadata.svg');
  assert.ok(cat);
  assert.equal(cat.source, 'cat-copy.svg'); // path order: the first copy wins
  assert.equal(cat.text, 'Sleeping Cat & Mouse. A grey cat sleeping next to a mouse.');
  assert.deepEqual(cat.keyphrases, ['cat', 'mouse', 'pet', 'sleeping animal', 'animal']);
  assert.equal(cat.split, splitForId(cat.id));
  for (const it of items) {
    const meta = await sharp(path.join(out, it.image ?? '')).metadata();
    assert.equal(meta.width, 48);
    assert.equal(meta.height, 48);
  }
  if (real.includes('food/fruit/orange_dave_pena_01.svg')) {
    const orange = items.find((it) => it.source === 'orange_dave_pena_01.svg');
    assert.deepEqual(orange?.keyphrases, ['food', 'cartoon', 'orange', 'fruit']);
    assert.equal(orange?.text, 'Orange');
  }
  const info = JSON.parse(await readFile(path.join(out, 'dataset.json'), 'utf8')) as Record<string, string>;
  assert.equal(info.name, 'ClipArt-KP');
  assert.equal(info.license, 'public domain (openclipart)');
  assert.ok(logs.some((l) => l.includes('corrupt.svg') && l.includes('render-failed')));
  // rebuilding into the same folder is stable and leaves no stray files
  const again = await buildClipartDataset({ source: src, out, size: 48 });
  assert.equal(again.items, result.items);
  assert.deepEqual(
    (await readManifest(out)).map((i) => i.id),
    items.map((i) => i.id),
  );
  assert.equal((await readdir(path.join(out, 'images'))).length, items.length);
  assert.deepEqual((await readdir(out)).sort(), ['dataset.json', 'images', 'manifest.jsonl']);
});

test(
  'builder: one real openclipart category folder, every file accounted for',
  { skip: !existsSync(path.join(OPENCLIPART, 'containers')) },
  async (t) => {
    const src = path.join(OPENCLIPART, 'containers');
    const out = await mkdtemp(path.join(os.tmpdir(), 'clipart-real-'));
    t.after(() => rm(out, { recursive: true, force: true }));
    const svgs = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.svg'));
    const result = await buildClipartDataset({ source: src, out, size: 32 });
    assert.equal(result.items + result.skipped, svgs.length);
    assert.ok(result.items >= 5, JSON.stringify(result));
    const items = await readManifest(out);
    assert.equal(items.length, result.items);
    for (const it of items) {
      assert.ok(it.keyphrases.length >= 1 && it.text.length > 0, it.id);
      assert.ok(existsSync(path.join(out, it.image ?? '')), it.id);
      assert.ok(existsSync(path.join(src, it.source ?? '')), it.id);
    }
  },
);

test('builder: a missing source folder is a user error naming it', async () => {
  await assert.rejects(
    buildClipartDataset({ source: '/no/such/folder', out: os.tmpdir() }),
    /\/no\/such\/folder not found/,
  );
});

test('bundled data/clipart-kp: ≥ 2,000 clean items, all splits, every image present', async () => {
  const items = await readManifest(BUNDLED);
  assert.ok(items.length >= 2000, `${items.length} items`);
  const splits = new Set(items.map((it) => it.split));
  assert.deepEqual([...splits].sort(), ['test', 'train', 'valid']);
  const ids = new Set<string>();
  const images = new Set(await readdir(path.join(BUNDLED, 'images')));
  for (const it of items) {
    assert.ok(!ids.has(it.id), `duplicate id ${it.id}`);
    ids.add(it.id);
    assert.equal(it.split, splitForId(it.id), it.id);
    assert.ok(it.keyphrases.length >= 1, it.id);
    assert.ok(it.image && images.has(path.basename(it.image)), `${it.id}: image ${it.image} missing`);
    for (const kp of it.keyphrases) {
      assert.ok(!kp.includes('hash(0x') && !kp.includes('@'), `${it.id}: ${kp}`);
      assert.equal(kp, kp.toLowerCase().trim(), `${it.id}: ${kp}`);
    }
    assert.ok(!/hash\(0x|@/i.test(it.text), `${it.id}: ${it.text}`);
  }
  assert.equal(images.size, items.length, 'one image per item, no strays');
  const info = JSON.parse(await readFile(path.join(BUNDLED, 'dataset.json'), 'utf8')) as Record<string, string>;
  assert.equal(info.license, 'public domain (openclipart)');
});
