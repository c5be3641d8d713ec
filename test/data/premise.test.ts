// Issue 19's premise benchmark: the synth generator's text leak does exactly what it says (known answer against
// the same seed built without a leak), the swap conditions give every test item another item's text / image, the
// CLI builds it all in one command, and the per-role scorer counts a hand-made example right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../models/cli/main';
import type { ManifestItem } from '../../models/data/manifest-types';
import { derangement, itemLeaks, itemTextFree, PREMISE_CONDITIONS } from '../../models/data/premise-benchmark';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { SYNTH_COLOURS, SYNTH_SHAPES } from '../../models/data/synth-draw';
import { premiseDeltaMarkdown, premiseRoleRecall, premiseSeedsCsv } from '../../models/evaluate/premise-roles';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-premise-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function manifest(dir: string): Promise<ManifestItem[]> {
  return (await readFile(join(dir, 'manifest.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ManifestItem);
}

const SHAPES = new Set<string>(SYNTH_SHAPES);
const COLOURS = new Set(Object.keys(SYNTH_COLOURS));

test('text leak: a leaking text is the same seed’s unleaked text plus "<colour> <shape>" of its keyphrases; the rest are unchanged', async (t) => {
  const dir = await tempDir(t);
  const n = 400;
  const plain = await buildSynthDataset({ n, seed: 3, noise: 0.5, out: join(dir, 'plain') });
  const leak = await buildSynthDataset({ n, seed: 3, noise: 0.5, textLeak: 0.5, out: join(dir, 'leak') });
  const all = await buildSynthDataset({ n: 60, seed: 3, noise: 0.5, textLeak: 1, out: join(dir, 'all') });
  const more = await buildSynthDataset({ n, seed: 3, noise: 0.5, textLeak: 0.8, out: join(dir, 'more') });
  const [a, b, c, d] = await Promise.all(['plain', 'leak', 'all', 'more'].map((s) => manifest(join(dir, s))));

  // Without the knob nothing names the image keyphrases and no flag is written (sets built before it stay as they were).
  assert.equal(plain.textLeak, 0);
  for (const it of a) {
    assert.ok(!it.source!.includes('leak='), it.id);
    assert.ok(!it.text.split(' ').some((w) => SHAPES.has(w) || COLOURS.has(w)), `${it.id}: ${it.text}`);
  }
  let leaks = 0;
  b.forEach((it, i) => {
    const [, shape, colourPlace] = it.keyphrases;
    const colour = colourPlace.split(' ')[0];
    // Images, keyphrases and everything but the text are the unleaked set's.
    assert.deepEqual({ ...it, text: '', source: '' }, { ...a[i], text: '', source: '' });
    const words = it.text.split(' ');
    if (itemLeaks(it)) {
      leaks++;
      const at = words.indexOf(colour);
      assert.ok(at >= 0 && words[at + 1] === shape, `${it.id}: "${it.text}" names "${colour} ${shape}"`);
      words.splice(at, 2);
      assert.equal(words.join(' '), a[i].text, `${it.id}: only the two words were inserted`);
    } else {
      assert.match(it.source!, / leak=0$/);
      assert.equal(it.text, a[i].text, `${it.id}: a non-leaking text is unchanged`);
    }
  });
  assert.equal(leaks, leak.textLeak);
  // Binomial(400, 0.5): mean 200, sd 10; ±5 sd.
  assert.ok(Math.abs(leaks - 200) < 50, `${leaks} of 400 leak at 0.5`);
  assert.equal(all.textLeak, 60);
  assert.ok(c.every(itemLeaks));
  // A higher leak rate leaks a superset, at the same word positions.
  assert.ok(more.textLeak > leak.textLeak);
  b.forEach((it, i) => {
    if (itemLeaks(it)) assert.equal(d[i].text, it.text, `${it.id} leaks the same way at 0.8`);
  });
});

test('derangement: nobody keeps their own, every source used once, seeded', () => {
  for (const n of [2, 3, 7, 30]) {
    for (const seed of [1, 2, 99]) {
      const to = derangement(n, seed);
      assert.ok(
        to.every((j, i) => j !== i),
        `n ${n} seed ${seed}: ${to}`,
      );
      assert.deepEqual(
        [...to].sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => i),
      );
      assert.deepEqual(derangement(n, seed), to);
    }
  }
  assert.throws(() => derangement(1, 1), /at least 2 test items/);
});

test('aimkp data premise: one command builds clean + text-swapped + image-swapped and premise.json', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'bench');
  const run = (...args: string[]) => main(['data', 'premise', ...args]);
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await run('--out', out, '--n', '80', '--seed', '2', '--text-leak', '0.75'), 0);
    // A second build into the same folder needs --force.
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(await run('--out', out, '--n', '80'), 2);
    } finally {
      console.error = error;
    }
  } finally {
    console.log = log;
  }
  const info = JSON.parse(await readFile(join(out, 'premise.json'), 'utf8')) as {
    settings: { n: number; seed: number; noise: number; textLeak: number };
    leakBySplit: Record<string, number>;
    conditions: { name: string }[];
  };
  assert.deepEqual(info.settings, { n: 80, seed: 2, noise: 0.5, textLeak: 0.75 });
  assert.deepEqual(
    info.conditions.map((c) => c.name),
    ['clean', 'text-removed', 'text-masked', 'image-removed', 'text-swapped', 'image-swapped'],
  );
  const clean = await manifest(join(out, 'clean'));
  assert.equal(info.leakBySplit.test, clean.filter((it) => it.split === 'test' && itemLeaks(it)).length);
  for (const [dirName, field] of [
    ['text-swapped', 'text'],
    ['image-swapped', 'image'],
  ] as const) {
    const swapped = await manifest(join(out, dirName));
    const byId = new Map(clean.map((it) => [it.id, it]));
    const sources = new Set<string>();
    for (const [i, it] of swapped.entries()) {
      const orig = clean[i];
      assert.equal(it.id, orig.id);
      if (it.split !== 'test') {
        assert.deepEqual(it, orig, `${it.id}: train/valid unchanged`);
        continue;
      }
      const from = /(?:text|image)-of=(\S+)/.exec(it.source!)![1];
      assert.notEqual(from, it.id);
      sources.add(from);
      assert.equal(it[field], byId.get(from)![field]);
      if (field === 'image') assert.equal(it.attributes, byId.get(from)!.attributes);
      const other = field === 'text' ? 'image' : 'text';
      assert.equal(it[other], orig[other]);
      assert.deepEqual(it.keyphrases, orig.keyphrases, 'gold stays the original item’s');
    }
    assert.equal(sources.size, clean.filter((it) => it.split === 'test').length, 'a permutation of the test items');
  }
  assert.equal(PREMISE_CONDITIONS.length, 6);
  assert.equal(PREMISE_CONDITIONS.find((c) => c.name === 'text-masked')?.textStride, 8);
});

test('aimkp data premise --text-free: a seeded share of train/valid texts emptied, test and everything else unchanged', async (t) => {
  const dir = await tempDir(t);
  const log = console.log;
  console.log = () => {};
  try {
    for (const [name, free] of [
      ['none', null],
      ['some', '0.2'],
      ['more', '0.5'],
    ] as const) {
      const args = ['data', 'premise', '--out', join(dir, name), '--n', '200', '--seed', '4'];
      assert.equal(await main(free === null ? args : [...args, '--text-free', free]), 0);
    }
  } finally {
    console.log = log;
  }
  const none = await manifest(join(dir, 'none', 'clean'));
  const some = await manifest(join(dir, 'some', 'clean'));
  const more = await manifest(join(dir, 'more', 'clean'));
  const emptied = (items: ManifestItem[]) => new Set(items.filter(itemTextFree).map((it) => it.id));
  for (const [items, share] of [
    [some, 0.2],
    [more, 0.5],
  ] as const) {
    const ids = emptied(items);
    const trainValid = items.filter((it) => it.split !== 'test').length;
    // A binomial share of 180 items: within 4 standard deviations of P·n.
    const sd = Math.sqrt(trainValid * share * (1 - share));
    assert.ok(Math.abs(ids.size - share * trainValid) < 4 * sd, `${ids.size} of ${trainValid} emptied at ${share}`);
    items.forEach((it, i) => {
      const orig = none[i];
      if (ids.has(it.id)) {
        assert.notEqual(it.split, 'test');
        assert.equal(it.text, '');
        assert.notEqual(orig.text, '');
        assert.equal(it.source, `${orig.source} text-free=1`);
        assert.deepEqual({ ...it, text: orig.text, source: orig.source }, orig, 'only text and source change');
      } else assert.deepEqual(it, orig);
    });
  }
  assert.ok([...emptied(some)].every((id) => emptied(more).has(id)), 'a larger share empties a superset');
  // The swap folders share the emptied train texts; premise.json counts them and records the setting.
  const swapped = await manifest(join(dir, 'some', 'text-swapped'));
  assert.deepEqual(
    swapped.filter((it) => it.split !== 'test'),
    some.filter((it) => it.split !== 'test'),
  );
  const info = JSON.parse(await readFile(join(dir, 'some', 'premise.json'), 'utf8')) as {
    settings: { textFree?: number };
    textFreeBySplit: Record<string, number>;
  };
  assert.equal(info.settings.textFree, 0.2);
  assert.equal(info.textFreeBySplit.train + info.textFreeBySplit.valid, emptied(some).size);
  const plain = JSON.parse(await readFile(join(dir, 'none', 'premise.json'), 'utf8')) as Record<string, unknown>;
  assert.ok(!('textFreeBySplit' in plain), 'a build without the knob records nothing of it');
});

test('per-role recall: a hand-made example', () => {
  const item = (id: string, text: string, attributes: string, leak: 0 | 1, kp: string[]): ManifestItem => ({
    id,
    split: 'test',
    text,
    image: `images/${id}.png`,
    keyphrases: kp,
    attributes,
    source: `synth seed=1 leak=${leak}`,
  });
  const original = [
    item('a', 'music at the beach red circle', 'red circle', 1, ['music', 'circle', 'red beach']),
    item('b', 'cooking at the forest', 'blue square', 0, ['cooking', 'square', 'blue forest']),
    item('c', 'travel at the market green triangle', 'green triangle', 1, ['travel', 'triangle', 'green market']),
    item('d', 'science at the station', 'red stripes', 0, ['science', 'stripes', 'red station']),
  ];
  const rec = (id: string, ...preds: string[]) => ({ id, gold: [], predictions: [preds] });
  const clean = premiseRoleRecall(original, original, [
    rec('a', 'music', 'circle', 'red beach'), // all three
    rec('b', 'cooking', 'circle'), // topic only
    rec('c', 'Travel ', 'triangle'), // topic, shape (case and spaces do not matter)
    rec('d', 'stripes', 'red station'), // shape, colour+place
  ]);
  assert.deepEqual(clean, {
    n: 4,
    nLeak: 2,
    nNoLeak: 2,
    topic: 75,
    shape: 75,
    colourPlace: 50,
    shapeLeak: 100,
    shapeNoLeak: 50,
    textNamesShape: 50,
    shapeFollowsText: 50,
    shapeFollowsImage: 75,
  });
  // Text swapped: a gets c's text (names triangle), c gets a's (names circle), b and d swap texts (none named).
  const shown = [
    { ...original[0], text: original[2].text },
    { ...original[1], text: original[3].text },
    { ...original[2], text: original[0].text },
    { ...original[3], text: original[1].text },
  ];
  const swapped = premiseRoleRecall(original, shown, [
    rec('a', 'travel', 'triangle'), // follows the text
    rec('b', 'science', 'square'), // follows the image
    rec('c', 'music', 'triangle'), // follows the image (its own triangle), not the text's circle
    rec('d', 'cooking'),
  ]);
  assert.equal(swapped.textNamesShape, 50);
  assert.equal(swapped.shapeFollowsText, 25);
  assert.equal(swapped.shapeFollowsImage, 50);
  assert.equal(swapped.shape, 50);
  assert.equal(swapped.topic, 0);
  // Image-only mode: the text is not shown, so nothing can follow it.
  const noText = premiseRoleRecall(original, original, [rec('a', 'circle')], { textShown: false });
  assert.equal(noText.textNamesShape, 0);
  assert.equal(noText.shapeFollowsImage, 100);
  assert.throws(() => premiseRoleRecall(original, original, [rec('zz', 'x')]), /"zz" is not an item/);
});

test('premise study table: per-seed CSV and Δ with the Welch example’s CI', () => {
  const roles = (shape: number) => ({
    clean: {
      n: 10,
      nLeak: 8,
      nNoLeak: 2,
      topic: 100,
      shape,
      colourPlace: 90,
      shapeLeak: 100,
      shapeNoLeak: null,
      textNamesShape: 80,
      shapeFollowsText: 80,
      shapeFollowsImage: shape,
    },
  });
  const runs = [1, 2, 3, 4, 5].flatMap((s) => [
    { name: `baseline-e6-s${s}`, seed: s, roles: roles(s) },
    { name: `aimkp-e4-s${s}`, seed: s, roles: roles(2 * s) },
  ]);
  const csv = premiseSeedsCsv(runs).trim().split('\n');
  assert.equal(csv[0], 'group,run,seed,condition,metric,value_pct,n');
  assert.ok(csv.includes('aimkp-e4,aimkp-e4-s3,3,clean,shape,6.0000,10'));
  assert.ok(!csv.some((l) => l.includes('shapeNoLeak')), 'null metrics are left out');
  const md = premiseDeltaMarkdown(runs, 'baseline-e6');
  assert.match(md, /\| aimkp-e4 \| clean \| shape \| 5 vs 5 \| 3\.0 \| 6\.0 \| \+3\.0 \| \[-0\.9, 6\.9\] \| 1\.90 \|/);
  assert.match(md, /\| aimkp-e4 \| clean \| topic \| 5 vs 5 \| 100\.0 \| 100\.0 \| \+0\.0 \| \[0\.0, 0\.0\] \| — \|/);
  assert.throws(() => premiseDeltaMarkdown(runs, 'nope'), /baseline "nope" is not a group \(baseline-e6, aimkp-e4\)/);
});
