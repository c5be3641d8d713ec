// Data loading at the edges: bytes that are not UTF-8 and over-long fields are reported with file and line
// (kept with a warning, or skipped, by the documented rule), U+FFFD never becomes a vocabulary word, and a
// corrupt image reads the same whichever path decodes it. CLI: negative numbers are values with a short
// message; --resume takes the data set from the run's config.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkImageFile } from '../../models/data/image-check';
import { loadDataset } from '../../models/data/load-dataset';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { buildRunTokenizer } from '../../models/train/data-prep';
import { readRunConfig } from '../../models/run/run-files';
import { encodeImages } from '../../models/vision/feature-cache';
import { PatchEncoder } from '../../models/vision/patch-encoder';
import { cliInProcess, tinyTrainConfig } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-rel-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

const item = (id: string, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, split: 'train', text, image: null, keyphrases: ['caf'], ...extra });

function dataset(name: string, lines: (string | Buffer)[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'manifest.jsonl'),
    Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, Buffer.from('\n')])),
  );
  return dir;
}

test('bytes that are not UTF-8 are reported with file and line, kept as U+FFFD (or skipped); U+FFFD is never a vocabulary word', async () => {
  // Line 2: "café" in Latin-1 (0xE9 alone is not UTF-8); line 3: a lone continuation byte inside a keyphrase.
  const latin1 = Buffer.concat([
    Buffer.from(item('b', 'caf').slice(0, -'","image":null,"keyphrases":["caf"]}'.length)),
    Buffer.from([0xe9]),
    Buffer.from(' au lait","image":null,"keyphrases":["caf"]}'),
  ]);
  const lone = Buffer.from(item('c', 'tea time', { keyphrases: ['te\u0080a'] }).replace('\u0080', '@@'));
  const loneBytes = Buffer.concat([
    lone.subarray(0, lone.indexOf('@@')),
    Buffer.from([0x80]),
    lone.subarray(lone.indexOf('@@') + 2),
  ]);
  const dir = dataset('utf8', [
    item('a', 'plain text'),
    latin1,
    loneBytes,
    item('d', 'a real \uFFFD replacement character in valid UTF-8'),
  ]);
  const manifest = join(dir, 'manifest.jsonl');

  const ds = await loadDataset(dir);
  const bad = ds.issues.filter((i) => i.reason === 'invalid-utf8');
  assert.deepEqual(
    bad.map((i) => [i.file, i.line, i.action]),
    [
      [manifest, 2, 'kept'],
      [manifest, 3, 'kept'],
    ],
  );
  assert.ok(
    bad[0].message.includes(`not UTF-8 (first at byte ${latin1.indexOf(0xe9) + 1} of the line)`),
    bad[0].message,
  );
  assert.equal(ds.items.length, 4);
  assert.equal(ds.items.find((i) => i.id === 'b')!.text, 'caf\uFFFD au lait');
  const tok = buildRunTokenizer(ds.items, { minWordCount: 1, maxVocab: null });
  const vocab = (tok.toJSON() as { vocab: string[] }).vocab;
  assert.ok(!vocab.some((w) => w.includes('\uFFFD')), 'no vocabulary word holds U+FFFD');
  assert.ok(vocab.includes('caf') && vocab.includes('au') && vocab.includes('replacement'));
  assert.deepEqual(
    Array.from(tok.encode('caf\uFFFD')),
    Array.from(tok.encode('caf')),
    'U+FFFD encodes to nothing, not <unk>',
  );

  const strict = await loadDataset(dir, { invalidUtf8: 'skip' });
  assert.deepEqual(
    strict.items.map((i) => i.id),
    ['a', 'd'],
  );
  assert.equal(strict.summary.byReason['invalid-utf8'], 2);

  // The CLI shows the line.
  const stats = await cliInProcess('data', 'stats', dir);
  assert.equal(stats.code, 0, stats.stderr);
  assert.ok((stats.stdout + stats.stderr).includes(`${manifest}:2`), stats.stdout + stats.stderr);
});

test('over-long fields: reported with file, line and field; cut to the limit (default 10,000) or skipped; the limit is configurable', async () => {
  const huge = 'word '.repeat(200_000); // 1 MB of text
  const dir = dataset('long', [item('a', 'short'), item('b', huge), item('c', 'fine', { ocr: 'x'.repeat(300) })]);
  const manifest = join(dir, 'manifest.jsonl');
  const ds = await loadDataset(dir);
  const long = ds.issues.filter((i) => i.reason === 'field-too-long');
  assert.deepEqual(
    long.map((i) => [i.file, i.line, i.field, i.action]),
    [[manifest, 2, 'text', 'kept']],
  );
  assert.match(long[0].message, /1,000,000 characters, over the limit of 10,000/);
  assert.equal(ds.items.find((i) => i.id === 'b')!.text.length, 10_000);

  const tight = await loadDataset(dir, { maxFieldChars: 100, overLongFields: 'skip' });
  assert.deepEqual(
    tight.items.map((i) => i.id),
    ['a'],
  );
  assert.deepEqual(
    tight.issues.filter((i) => i.reason === 'field-too-long').map((i) => [i.line, i.field, i.action]),
    [
      [2, 'text', 'skipped'],
      [3, 'ocr', 'skipped'],
    ],
  );
  process.env.AIMKP_MAX_FIELD_CHARS = '0'; // 0 = no limit
  try {
    assert.equal((await loadDataset(dir)).issues.filter((i) => i.reason === 'field-too-long').length, 0);
  } finally {
    delete process.env.AIMKP_MAX_FIELD_CHARS;
  }
});

test('a corrupt image gets the same message from the loader check and from the encoder path', async () => {
  const dir = join(root, 'images');
  mkdirSync(dir, { recursive: true });
  const good = join(root, 'synth-img');
  await buildSynthDataset({ n: 4, seed: 1, out: good });
  const png = readFileSync(
    join(good, JSON.parse(readFileSync(join(good, 'manifest.jsonl'), 'utf8').split('\n')[0]).image),
  );
  const cases: Record<string, Buffer> = {
    'truncated.png': png.subarray(0, Math.floor(png.length / 2)),
    'garbage.png': Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 0x5a)]),
    'not-an-image.png': Buffer.from('hello, I am text'),
  };
  const encoder = new PatchEncoder(2, 4);
  for (const [name, bytes] of Object.entries(cases)) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const checked = await checkImageFile(file);
    assert.equal(checked?.kind, 'image-corrupt', name);
    const direct = await encoder.encodeFile(file).then(
      () => null,
      (e: Error) => e.message,
    );
    const viaCache = await encodeImages(encoder, dir, [{ id: name, image: name }], { cacheDir: join(root, 'cache') });
    assert.equal(direct, checked!.message, `${name}: encoder and loader word it the same`);
    assert.equal(viaCache.issues[0]?.reason, checked!.message, `${name}: the feature cache's issue too`);
    assert.match(
      checked!.message,
      new RegExp(`^image ".*${name}" cannot be decoded \\(corrupt, truncated, or not an image file\\)$`),
    );
  }
  copyFileSync(
    join(good, JSON.parse(readFileSync(join(good, 'manifest.jsonl'), 'utf8').split('\n')[0]).image),
    join(dir, 'fine.png'),
  );
  assert.equal(await checkImageFile(join(dir, 'fine.png')), null);
});

test('CLI: negative numbers are values with a one-line message; --resume takes the data set from the run', async () => {
  const neg = await cliInProcess('train', '--out', join(root, 'x'), '--data', root, '--epochs', '-1');
  assert.equal(neg.code, 2);
  assert.equal(neg.stderr, 'aimkp train: --epochs must be ≥ 1, got -1');
  const seed = await cliInProcess('train', '--out', join(root, 'x'), '--data', root, '--seed', '-3');
  assert.equal(seed.stderr, 'aimkp train: --seed must be ≥ 0, got -3');
  const unknown = await cliInProcess('train', '--bogus');
  assert.equal(unknown.stderr, 'aimkp train: Unknown option \'--bogus\' (see "aimkp train --help")');
  const noRun = await cliInProcess('train', '--out', join(root, 'nothing-here'), '--resume');
  assert.equal(noRun.code, 2);
  assert.match(noRun.stderr, /holds no run yet \(no config\.json\); give --data DIR/);

  const data = join(root, 'resume-data');
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  const cfg = join(root, 'tiny.json');
  const c = tinyTrainConfig();
  writeFileSync(
    cfg,
    JSON.stringify({ model: c.model, batchSize: 4, samplesPerCall: 4, maxValid: 4, checkpointEvery: 2 }),
  );
  const run = join(root, 'cli-run');
  const first = await cliInProcess(
    'train',
    '--data',
    data,
    '--preset',
    'baseline',
    '--encoder',
    'patch:3:4',
    '--epochs',
    '1',
    '--config',
    cfg,
    '--out',
    run,
    '--max-steps',
    '2',
    '--quiet',
  );
  assert.equal(first.code, 0, first.stderr);
  // No --data: the run's config.json names the data set.
  const resumed = await cliInProcess('train', '--out', run, '--resume', '--quiet');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readRunConfig(run).dataDir, data);
  const events = readFileSync(join(run, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; status?: string });
  assert.deepEqual(
    events.filter((e) => e.type === 'run-end').map((e) => e.status),
    ['stopped', 'completed'],
  );
});
