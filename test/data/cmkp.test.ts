import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { CoreError } from '../../models/core-error';
import { cmkpId, imageName, importCmkp, splitFromFileName } from '../../models/data/cmkp-import';
import { loadDataset } from '../../models/data/load-dataset';
import { tempDir } from '../fixtures/temp-dirs';

const CMKP = 'data/cmkp';

test('imports data/cmkp/test_src.txt with line-aligned attributes and OCR', async () => {
  const out = join(tempDir('aimkp-cmkp-'), 'cmkp');
  const res = await importCmkp({
    src: join(CMKP, 'test_src.txt'),
    attributes: join(CMKP, 'test_attribute_cleaned.txt'),
    ocr: join(CMKP, 'test_ocr_final.txt'),
    out,
  });
  const srcLines = (await readFile(join(CMKP, 'test_src.txt'), 'utf8')).split('\n').filter((l) => l !== '');
  assert.equal(res.split, 'test', 'split inferred from the file name');
  assert.equal(res.skipped, 0);
  assert.equal(res.imported, srcLines.length);
  assert.equal(res.imported, 5372);
  assert.equal(res.imagesFound, 0);

  const ds = await loadDataset(out);
  assert.deepEqual(ds.issues, []);
  assert.equal(ds.items.length, 5372);
  const byId = new Map(ds.items.map((i) => [i.id, i]));
  const it18 = byId.get('cmkp-test-000018')!;
  assert.deepEqual(it18.keyphrases, ['win', 'competition', 'fathers day']);
  assert.match(it18.text, /^our fathers day competition ends midday today ! .* over <number> \.$/);
  assert.equal(it18.image, null);
  assert.equal(it18.attributes, 'paper sign donuts scissors block');
  assert.equal(it18.ocr, 'fathers day win fathers day competition');
  assert.equal(it18.source, 'test_src.txt:18');
  const it1 = byId.get('cmkp-test-000001')!;
  assert.deepEqual(it1.keyphrases, ['wildflower hour']);
  assert.equal(it1.attributes, 'green trees leaves flowers rocks');
  assert.equal(it1.ocr, undefined, 'empty OCR lines are left out');
  assert.equal(
    byId.get('cmkp-test-005372')!.attributes,
    'scissors toy computer people young',
    'last line still aligned',
  );
  const info = JSON.parse(await readFile(join(out, 'dataset.json'), 'utf8'));
  assert.equal(info.name, 'cmkp');
});

test('malformed lines are reported with file:line and skipped; --images maps URL basenames; re-import merges by id', async () => {
  const tmp = tempDir('aimkp-cmkp-');
  const src = join(tmp, 'my_valid_src.txt');
  await writeFile(
    src,
    [
      /* 1 */ 'good text one<sep>kp a;kp b<sep>https://pbs.twimg.com/media/IMG1.jpg',
      /* 2 */ 'only two fields<sep>kp',
      /* 3 */ 'four<sep>fields<sep>here<sep>x',
      /* 4 */ 'empty keyphrases<sep> ; ;<sep>https://pbs.twimg.com/media/IMG4.jpg',
      /* 5 */ '',
      /* 6 */ 'good text six<sep> kp c ;<sep>https://pbs.twimg.com/media/MISSING.jpg',
    ].join('\n') + '\n',
  );
  const attrs = join(tmp, 'attrs.txt');
  await writeFile(attrs, ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].join('\n') + '\n');
  const images = join(tmp, 'imgs');
  await mkdir(images);
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .jpeg()
    .toFile(join(images, 'IMG1.jpg'));
  const out = join(tmp, 'out');

  const res = await importCmkp({ src, attributes: attrs, images, out });
  assert.equal(res.split, 'valid');
  assert.equal(res.imported, 2);
  assert.equal(res.imagesFound, 1);
  assert.deepEqual(
    res.issues.map((i) => [i.file, i.line, i.reason]),
    [
      [src, 2, 'malformed-line'],
      [src, 3, 'malformed-line'],
      [src, 4, 'empty-keyphrases'],
      [src, 5, 'malformed-line'],
    ],
  );
  let ds = await loadDataset(out);
  assert.deepEqual(ds.issues, []);
  assert.deepEqual(
    ds.items.map((i) => [i.id, i.image, i.keyphrases, i.attributes]),
    [
      ['cmkp-valid-000001', 'images/IMG1.jpg', ['kp a', 'kp b'], 'a1'],
      ['cmkp-valid-000006', null, ['kp c'], 'a6'],
    ],
  );

  // Import the same file again as "test" into the same folder: the valid items stay.
  const again = await importCmkp({ src, split: 'test', out });
  assert.equal(again.kept, 2);
  assert.equal(again.replaced, 0);
  ds = await loadDataset(out);
  assert.deepEqual(
    ds.items.map((i) => i.id),
    ['cmkp-valid-000001', 'cmkp-valid-000006', 'cmkp-test-000001', 'cmkp-test-000006'],
  );
  // Re-importing a split replaces its items (same ids) instead of duplicating them.
  const third = await importCmkp({ src, split: 'test', out });
  assert.equal(third.replaced, 2);
  assert.equal((await loadDataset(out)).items.length, 4);
});

test('split inference, ids, URL basenames and alignment errors', async () => {
  assert.equal(splitFromFileName('data/cmkp/tiny_train_src.txt'), 'train');
  assert.equal(splitFromFileName('valid_src.txt'), 'valid');
  assert.equal(splitFromFileName('posts.txt'), null);
  assert.equal(cmkpId('test', 123), 'cmkp-test-000123');
  assert.equal(imageName('https://pbs.twimg.com/media/D0wn9TnXQAAGWyD.jpg'), 'D0wn9TnXQAAGWyD.jpg');
  assert.equal(imageName('https://x/y/a.png?format=jpg'), 'a.png');
  assert.equal(imageName('https://x/..'), null);
  const tmp = tempDir('aimkp-cmkp-');
  const src = join(tmp, 'posts.txt');
  await writeFile(src, 't<sep>k<sep>u\n');
  await assert.rejects(
    importCmkp({ src, out: join(tmp, 'o') }),
    (e: unknown) => e instanceof CoreError && /--split/.test(e.message),
  );
  const attrs = join(tmp, 'a.txt');
  await writeFile(attrs, 'x\ny\n');
  await assert.rejects(
    importCmkp({ src, attributes: attrs, split: 'train', out: join(tmp, 'o') }),
    (e: unknown) => e instanceof CoreError && /2 lines .* has 1/.test(e.message),
  );
});
