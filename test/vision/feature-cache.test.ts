import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeImages, featureCachePath, type EncodeProgress } from '../../models/vision/feature-cache';
import { PatchEncoder } from '../../models/vision/patch-encoder';
import type { ImageEncoder } from '../../models/vision/image-encoder';
import { decodeFloat16, encodeFloat16, fromHalfBits, toHalfBits } from '../../models/vision/float16';

/** A real encoder, wrapped to count how often the (expensive) encoding actually runs. */
class CountingEncoder implements ImageEncoder {
  calls: string[] = [];
  constructor(private readonly inner: ImageEncoder) {}
  get id(): string {
    return this.inner.id;
  }
  get grid(): number {
    return this.inner.grid;
  }
  get channels(): number {
    return this.inner.channels;
  }
  encodeFile(path: string): Promise<Float32Array> {
    this.calls.push(path);
    return this.inner.encodeFile(path);
  }
  dispose(): void {
    this.inner.dispose();
  }
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aimkp-cache-'));
  const solid = (r: number, g: number, b: number) =>
    sharp({ create: { width: 12, height: 9, channels: 3, background: { r, g, b } } }).png();
  await solid(250, 10, 10).toFile(join(dir, 'red.png'));
  await solid(10, 10, 250).toFile(join(dir, 'blue.png'));
  await copyFile(join(dir, 'red.png'), join(dir, 'red-copy.png'));
  await writeFile(join(dir, 'corrupt.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not a png'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const items = [
  { id: 'a', image: 'red.png' },
  { id: 'b', image: 'blue.png' },
  { id: 'c', image: 'red-copy.png' },
  { id: 'd', image: null },
  { id: 'e', image: 'corrupt.png' },
  { id: 'f', image: 'missing.png' },
];

test('features are computed once per distinct image, cached, and read back on the second run', async () => {
  const enc = new CountingEncoder(new PatchEncoder(2, 2));
  const progress: EncodeProgress[] = [];
  const first = await encodeImages(enc, dir, items, undefined, (p) => progress.push(p));
  // red.png and red-copy.png have the same bytes → encoded once; corrupt.png is attempted and fails.
  assert.deepEqual(enc.calls.map((p) => p.slice(dir.length + 1)).sort(), ['blue.png', 'corrupt.png', 'red.png']);
  assert.deepEqual(first.stats, { done: 6, total: 6, cached: 1, computed: 2, failed: 2 });
  assert.equal(progress.length, 6);
  assert.deepEqual(progress.at(-1), first.stats);

  const red = first.get('a');
  assert.ok(red);
  assert.equal(red.length, 2 * 2 * 12);
  assert.equal(red[0], Math.fround(250 / 255));
  assert.deepEqual(first.get('c'), red);
  assert.equal(first.get('d'), null);
  assert.equal(first.get('e'), null);
  assert.equal(first.get('f'), null);
  assert.deepEqual(
    first.issues.map((i) => [i.id, i.image]),
    [
      ['e', 'corrupt.png'],
      ['f', 'missing.png'],
    ],
  );
  assert.match(first.issues[1].reason, /ENOENT|no such file/);

  // Cache layout: <dataDir>/.cache/features/<encoder id>/<sha1[0..2]>/<sha1>.f32, raw float32.
  const sha = createHash('sha1')
    .update(await readFile(join(dir, 'red.png')))
    .digest('hex');
  const file = featureCachePath(join(dir, '.cache'), enc.id, sha, 'float32');
  assert.equal(file, join(dir, '.cache', 'features', 'patch-g2-p2-v1', sha.slice(0, 2), `${sha}.f32`));
  const raw = await readFile(file);
  assert.deepEqual(new Float32Array(new Uint8Array(raw).buffer), red);
  const shards = await readdir(join(dir, '.cache', 'features', 'patch-g2-p2-v1'), { recursive: true });
  assert.equal(shards.filter((f) => f.endsWith('.f32')).length, 2);
  assert.ok(!shards.some((f) => f.includes('.tmp')), 'no temp files left behind');

  // Second run: nothing is encoded except the corrupt image, which is retried (still null + issue).
  enc.calls = [];
  const second = await encodeImages(enc, dir, items);
  assert.deepEqual(
    enc.calls.map((p) => p.slice(dir.length + 1)),
    ['corrupt.png'],
  );
  assert.deepEqual(second.stats, { done: 6, total: 6, cached: 3, computed: 0, failed: 2 });
  assert.deepEqual(second.get('a'), red);
  assert.deepEqual(second.get('b'), first.get('b'));
});

test('a cache entry of the wrong size is recomputed; a given cache dir is used', async () => {
  const cacheDir = join(dir, 'elsewhere');
  const enc = new CountingEncoder(new PatchEncoder(1, 3));
  const one = [{ id: 'x', image: join(dir, 'blue.png') }];
  const first = await encodeImages(enc, dir, one, cacheDir);
  const sha = createHash('sha1')
    .update(await readFile(join(dir, 'blue.png')))
    .digest('hex');
  const file = featureCachePath(cacheDir, enc.id, sha, 'float32');
  await writeFile(file, Buffer.alloc(7));
  const again = await encodeImages(enc, dir, one, cacheDir);
  assert.equal(enc.calls.length, 2);
  assert.deepEqual(again.get('x'), first.get('x'));
  assert.equal((await stat(file)).size, 27 * 4);
});

test('float16 storage halves the file and reads back what the first run returned', async () => {
  const cacheDir = join(dir, 'half');
  const enc = new CountingEncoder(new PatchEncoder(2, 3));
  const one = [{ id: 'r', image: 'red.png' }];
  const first = await encodeImages(enc, dir, one, { cacheDir, storage: 'float16' });
  const second = await encodeImages(enc, dir, one, { cacheDir, storage: 'float16' });
  assert.equal(enc.calls.length, 1);
  assert.deepEqual(second.get('r'), first.get('r'));
  const sha = createHash('sha1')
    .update(await readFile(join(dir, 'red.png')))
    .digest('hex');
  assert.equal((await stat(featureCachePath(cacheDir, enc.id, sha, 'float16'))).size, 2 * 2 * 27 * 2);
  const v = first.get('r')!;
  assert.ok(Math.abs(v[0] - 250 / 255) < 1e-3);
});

test('float16 conversion known answers', () => {
  assert.equal(toHalfBits(1), 0x3c00);
  assert.equal(toHalfBits(-2), 0xc000);
  assert.equal(toHalfBits(65504), 0x7bff);
  assert.equal(toHalfBits(1e6), 0x7c00);
  assert.equal(toHalfBits(0.1), 0x2e66);
  assert.equal(toHalfBits(2 ** -24), 0x0001);
  assert.equal(toHalfBits(1e-9), 0);
  assert.equal(fromHalfBits(0x3555), 0.333251953125);
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  const values = Float32Array.from([0, 0.5, 6, -3.25, 1 / 3]);
  const back = decodeFloat16(encodeFloat16(values));
  assert.deepEqual(Array.from(back.slice(0, 4)), [0, 0.5, 6, -3.25]);
  assert.ok(Math.abs(back[4] - 1 / 3) < 2e-4);
});

test('concurrency does not change results or the order of issues', async () => {
  const enc = new PatchEncoder(3, 2);
  const many = [...items, { id: 'g', image: 'corrupt.png' }, { id: 'h', image: 'blue.png' }];
  const serial = await encodeImages(enc, dir, many, { cacheDir: join(dir, 'c1'), concurrency: 1 });
  const parallel = await encodeImages(enc, dir, many, { cacheDir: join(dir, 'c4'), concurrency: 4 });
  assert.deepEqual(
    [...parallel.keys()],
    many.map((i) => i.id),
  );
  assert.deepEqual([...parallel.entries()], [...serial.entries()]);
  assert.deepEqual(
    parallel.issues.map((i) => i.id),
    ['e', 'f', 'g'],
  );
  assert.deepEqual(serial.issues, parallel.issues);
  assert.deepEqual(parallel.stats, serial.stats);
});
