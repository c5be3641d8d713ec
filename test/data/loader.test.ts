import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { CoreError } from '../../models/core-error';
import { formatIssues } from '../../models/data/data-issue';
import { loadDataset } from '../../models/data/load-dataset';
import type { ManifestItem } from '../../models/data/manifest-types';
import { writeDataset } from '../../models/data/write-dataset';
import { tempDir } from '../fixtures/temp-dirs';

async function png(size: number): Promise<Buffer> {
  const px = Buffer.alloc(size * size * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 256; // non-uniform, so the PNG is not trivially small
  return sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

const line = (o: unknown) => JSON.stringify(o);

/** A folder with one bad line of every kind; returns the folder. Line numbers are asserted below. */
async function badFixture(): Promise<string> {
  // The set is one level down so that "../outside.png" (a path out of the set) stays inside the test's folder.
  const root = tempDir('aimkp-loader-');
  const dir = join(root, 'set');
  await mkdir(join(dir, 'img'), { recursive: true });
  const good = await png(32);
  await writeFile(join(dir, 'img', 'good.png'), good);
  await writeFile(join(dir, 'img', 'trunc.png'), good.subarray(0, Math.floor(good.length / 2)));
  await writeFile(join(dir, 'img', 'garbage.png'), Buffer.from('this is not an image'));
  await writeFile(join(root, 'outside.png'), good);
  const lines = [
    /* 1 */ line({ id: 'a', split: 'train', text: 'good one', image: 'img/good.png', keyphrases: ['x'] }),
    /* 2 */ '{"id": "b", "split": ',
    /* 3 */ line({ id: 'c', split: 'train', text: 't', image: null }),
    /* 4 */ line({ id: 'd', split: 'dev', text: 't', image: null, keyphrases: ['x'] }),
    /* 5 */ line({ id: 'e', split: 'valid', text: 't', image: null, keyphrases: ['  ', ''] }),
    /* 6 */ line({ id: 'f', split: 'test', text: 't', image: 'img/nope.png', keyphrases: ['x'] }),
    /* 7 */ line({ id: 'g', split: 'test', text: 't', image: 'img/trunc.png', keyphrases: ['x'] }),
    /* 8 */ line({ id: 'a', split: 'valid', text: 'again', image: null, keyphrases: ['x'] }),
    /* 9 */ line({ id: 'h', split: 'train', text: 't', image: '../outside.png', keyphrases: ['x'] }),
    /* 10 */ '',
    /* 11 */ line({ id: 'i', split: 'valid', text: 'no image', image: null, keyphrases: [' a ', 'b', ''] }),
    /* 12 */ line({ id: 'j', split: 'train', text: 5, image: null, keyphrases: ['x'] }),
    /* 13 */ line({ id: 'k', split: 'test', text: 'extra field', image: 'img/good.png', keyphrases: ['y'], foo: 1 }),
    /* 14 */ '[1, 2]',
    /* 15 */ line({ id: 'l', split: 'train', text: 't', image: 'img/garbage.png', keyphrases: ['x'] }),
    /* 16 */ line({ id: 'm', split: 'test', text: 't', image: '/etc/passwd', keyphrases: ['x'] }),
  ];
  await writeFile(join(dir, 'manifest.jsonl'), lines.join('\n') + '\n');
  return dir;
}

test('loadDataset reports every bad line with its line, field and reason, and keeps the good items', async () => {
  const dir = await badFixture();
  const ds = await loadDataset(dir);
  assert.deepEqual(
    ds.items.map((i) => i.id),
    ['a', 'i', 'k'],
  );
  assert.deepEqual(ds.items[1].keyphrases, ['a', 'b'], 'keyphrases are trimmed and empty ones dropped');
  assert.equal(ds.items[2].text, 'extra field');
  assert.ok(!('foo' in ds.items[2]), 'unknown fields are not copied');

  const got = ds.issues.map((i) => [i.line, i.field ?? null, i.reason, i.action]);
  assert.deepEqual(got, [
    [2, null, 'invalid-json', 'skipped'],
    [3, 'keyphrases', 'missing-field', 'skipped'],
    [4, 'split', 'unknown-split', 'skipped'],
    [5, 'keyphrases', 'empty-keyphrases', 'skipped'],
    [6, 'image', 'image-missing', 'skipped'],
    [7, 'image', 'image-corrupt', 'skipped'],
    [8, 'id', 'duplicate-id', 'skipped'],
    [9, 'image', 'image-path-escape', 'skipped'],
    [12, 'text', 'wrong-type', 'skipped'],
    [13, 'foo', 'unknown-field', 'kept'],
    [14, null, 'not-an-object', 'skipped'],
    [15, 'image', 'image-corrupt', 'skipped'],
    [16, 'image', 'image-path-escape', 'skipped'],
  ]);
  for (const i of ds.issues) assert.equal(i.file, join(dir, 'manifest.jsonl'));
  assert.match(ds.issues.find((i) => i.line === 8)!.message, /first used on line 1/);

  const s = ds.summary;
  assert.equal(s.lines, 15, 'the blank line is not counted');
  assert.equal(s.loaded, 3);
  assert.equal(s.skipped, 12);
  assert.equal(s.warnings, 1);
  assert.deepEqual(s.bySplit, {
    train: { loaded: 1, skipped: 4 }, // lines 3, 9, 12, 15
    valid: { loaded: 1, skipped: 2 }, // lines 5, 8
    test: { loaded: 1, skipped: 3 }, // lines 6, 7, 16
    unknown: { loaded: 0, skipped: 3 }, // lines 2, 4, 14
  });
  assert.deepEqual(s.byReason, {
    'invalid-json': 1,
    'missing-field': 1,
    'unknown-split': 1,
    'empty-keyphrases': 1,
    'image-missing': 1,
    'image-corrupt': 2,
    'duplicate-id': 1,
    'image-path-escape': 2,
    'wrong-type': 1,
    'not-an-object': 1,
  });
  const text = formatIssues(ds.issues, 3);
  assert.match(text, /manifest\.jsonl:2: invalid JSON/);
  assert.match(text, /manifest\.jsonl:3: keyphrases: missing required field "keyphrases" \(skipped\)/);
  assert.match(text, /and 10 more issue\(s\)$/);
});

test('checkImages:false keeps items whose image is missing or corrupt; splits filters', async () => {
  const dir = await badFixture();
  const noCheck = await loadDataset(dir, { checkImages: false });
  assert.deepEqual(
    noCheck.items.map((i) => i.id),
    ['a', 'f', 'g', 'i', 'k', 'l'],
  );
  const onlyTest = await loadDataset(dir, { splits: ['test'] });
  assert.deepEqual(
    onlyTest.items.map((i) => i.id),
    ['k'],
  );
  assert.equal(
    onlyTest.summary.filteredOut,
    3,
    "items a, i and l pass the field checks but are not in the test split (l's image is not checked)",
  );
  // The line-8 duplicate of "a" is still caught though "a" itself is filtered out.
  assert.ok(onlyTest.issues.some((i) => i.line === 8 && i.reason === 'duplicate-id'));
});

test('loadDataset throws a CoreError only when the folder or manifest is missing', async () => {
  const dir = tempDir('aimkp-loader-');
  await assert.rejects(
    loadDataset(join(dir, 'nope')),
    (e: unknown) => e instanceof CoreError && /does not exist/.test(e.message),
  );
  await assert.rejects(
    loadDataset(dir),
    (e: unknown) => e instanceof CoreError && /no manifest\.jsonl/.test(e.message),
  );
});

test('writeDataset round-trips through loadDataset and leaves no temp files', async () => {
  const dir = join(tempDir('aimkp-write-'), 'nested', 'set');
  const items: ManifestItem[] = [
    {
      id: 'x1',
      split: 'train',
      text: 'héllo "quoted"\nnewline',
      image: null,
      keyphrases: ['k1', 'k 2'],
      attributes: 'a b',
      ocr: 'o',
      source: 's:1',
    },
    { id: 'x2', split: 'test', text: '', image: 'p.png', keyphrases: ['k'] },
  ];
  await writeDataset(dir, items, { name: 'n', description: 'd', extra: { a: 1 } });
  await writeFile(join(dir, 'p.png'), await png(8));
  const ds = await loadDataset(dir);
  assert.deepEqual(ds.items, items);
  assert.deepEqual(ds.issues, []);
  assert.equal(ds.info?.name, 'n');
  assert.deepEqual((await readdir(dir)).sort(), ['dataset.json', 'manifest.jsonl', 'p.png']);
});
