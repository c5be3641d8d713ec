import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keptImageIndices,
  keptTextIndices,
  pooledImageGroups,
  pooledTextGroups,
  randomKeptImageIndices,
  randomKeptTextIndices,
} from '../../models/lm/masking';
import { buildBatchLayout, buildRowLayout, MASKED } from '../../models/lm/layout';
import { makeExample, TEMPLATE, tinyConfig, variant } from './fixtures';

test('image stride masks on a 7×7 grid (SPEC §1 examples)', () => {
  // s=2: rows/cols {1,3,5} → ⌊7/2⌋² = 9 tokens.
  assert.deepEqual(keptImageIndices(7, 2), [8, 10, 12, 22, 24, 26, 36, 38, 40]);
  assert.deepEqual(keptImageIndices(7, 4), [24]); // row 3, col 3
  assert.deepEqual(keptImageIndices(7, 8), [48]); // s > G: only the last token
  assert.equal(keptImageIndices(7, 1).length, 49);
  assert.deepEqual(keptImageIndices(7, 7), [48]);
});

test('text stride masks on short and odd spans', () => {
  assert.deepEqual(keptTextIndices(5, 2), [1, 3]);
  assert.deepEqual(keptTextIndices(3, 4), [2]);
  assert.deepEqual(keptTextIndices(1, 2), [0]);
  assert.deepEqual(keptTextIndices(1, 1), [0]);
  assert.deepEqual(keptTextIndices(8, 4), [3, 7]);
  assert.deepEqual(keptTextIndices(0, 2), []);
  assert.deepEqual(keptTextIndices(4, 1), [0, 1, 2, 3]);
  assert.throws(() => keptTextIndices(4, 0), RangeError);
});

test('structured masks are nested as the stride doubles', () => {
  for (const [a, b] of [
    [2, 4],
    [4, 8],
  ]) {
    const fine = new Set(keptTextIndices(37, a));
    for (const i of keptTextIndices(37, b)) assert.ok(fine.has(i), `text s=${b} ⊂ s=${a}`);
    const fineImg = new Set(keptImageIndices(16, a));
    for (const i of keptImageIndices(16, b)) assert.ok(fineImg.has(i), `image s=${b} ⊂ s=${a}`);
  }
});

test('random masks keep the structured count, are seeded and differ between seeds', () => {
  const a = randomKeptTextIndices(20, 4, 1);
  assert.equal(a.length, keptTextIndices(20, 4).length);
  assert.deepEqual(a, randomKeptTextIndices(20, 4, 1));
  assert.equal(new Set(a).size, a.length);
  assert.ok(a.every((i, k) => i >= 0 && i < 20 && (k === 0 || a[k - 1] < i)));
  const img = randomKeptImageIndices(7, 2, 3);
  assert.equal(img.length, 9);
  const seeds = [1, 2, 3, 4, 5].map((s) => randomKeptImageIndices(7, 2, s).join(','));
  assert.ok(new Set(seeds).size > 1, 'different seeds give different masks');
});

test('pooling groups: text windows of s, image s×s blocks, whole span when s exceeds it', () => {
  assert.deepEqual(pooledTextGroups(5, 2), [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(pooledTextGroups(3, 4), [[0, 1, 2]]);
  assert.deepEqual(pooledImageGroups(4, 2), [
    [0, 1, 4, 5],
    [2, 3, 6, 7],
    [8, 9, 12, 13],
    [10, 11, 14, 15],
  ]);
  assert.equal(pooledImageGroups(7, 2).length, 9);
  assert.deepEqual(pooledImageGroups(3, 4), [[0, 1, 2, 3, 4, 5, 6, 7, 8]]);
});

const config = tinyConfig();
const ex = makeExample(0, config, 5, [7, 8]);

test('prompt layout: [prefix][image G²][text][instruction][answer] with consecutive positions', () => {
  const row = buildRowLayout(ex, variant(), TEMPLATE, config, { compact: true });
  // 2 prefix + 9 image + 5 text + 2 instruction + 3 answer (incl. EOS)
  assert.equal(row.length, 21);
  assert.deepEqual(row.positions, [...Array(21).keys()]);
  assert.deepEqual(row.imageSlots, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(row.textSlots, [11, 12, 13, 14, 15]);
  assert.deepEqual(row.tokIds, [1, 2, ...ex.text, 3, 4, 7, 8, 5]);
  assert.equal(row.answerStart, 18);
});

test('text / image modes remove the absent span (not masked)', () => {
  const text = buildRowLayout(ex, variant({ mode: 'text', imageStride: 2 }), TEMPLATE, config, { compact: false });
  assert.equal(text.length, 12);
  assert.deepEqual(text.imageSlots, []);
  assert.deepEqual(text.positions, [...Array(12).keys()]);
  assert.ok(text.keyValid.every((v) => v));
  const image = buildRowLayout(ex, variant({ mode: 'image', textStride: 2 }), TEMPLATE, config, { compact: false });
  assert.equal(image.length, 16);
  assert.deepEqual(image.textSlots, []);
  assert.deepEqual(image.tokIds, [1, 2, 3, 4, 7, 8, 5]);
  // No image at all: the multimodal prompt has no image span either.
  const noImage = buildRowLayout({ ...ex, image: null }, variant(), TEMPLATE, config, { compact: true });
  assert.equal(noImage.length, 12);
});

test('masking keeps positions: reference marks keys invalid, compact drops them', () => {
  const v = variant({ textStride: 2, imageStride: 2 });
  const ref = buildRowLayout(ex, v, TEMPLATE, config, { compact: false });
  assert.equal(ref.length, 21);
  const validImage = ref.imageSlots.filter((s) => ref.keyValid[s]);
  assert.deepEqual(validImage, [2 + 4]); // G=3, s=2: only (1,1) = index 4
  assert.deepEqual(
    ref.textSlots.filter((s) => ref.keyValid[s]),
    [12, 14],
  ); // text span starts at 11; keep 1, 3
  const compact = buildRowLayout(ex, v, TEMPLATE, config, { compact: true });
  assert.equal(compact.length, 21 - 8 - 3);
  assert.deepEqual(compact.positions, [0, 1, 6, 12, 14, 16, 17, 18, 19, 20]);
  assert.deepEqual(compact.imgIdx, [4]);
  assert.deepEqual(compact.tokIds, [1, 2, ex.text[1], ex.text[3], 3, 4, 7, 8, 5]);
});

test('pool rows compact positions', () => {
  const row = buildRowLayout(ex, variant({ kind: 'pool', textStride: 2, imageStride: 2 }), TEMPLATE, config, {
    compact: false,
  });
  // 2 prefix + 1 pooled image block + 2 pooled text windows + 2 + 3
  assert.equal(row.length, 10);
  assert.deepEqual(row.positions, [...Array(10).keys()]);
});

test('batch attention bias: causal by position, masked keys and pads hidden', () => {
  const v = variant({ textStride: 2, imageStride: 4 });
  const ref = buildRowLayout(ex, v, TEMPLATE, config, { compact: false });
  const short = buildRowLayout(ex, variant({ mode: 'text' }), TEMPLATE, config, { compact: false });
  const b = buildBatchLayout([ref, short], TEMPLATE.pad);
  assert.equal(b.T, 21);
  const bias = (r: number, i: number, j: number): number => b.attnBias[(r * b.T + i) * b.T + j];
  const last = ref.length - 1;
  for (let j = 0; j < ref.length; j++) assert.equal(bias(0, last, j), ref.keyValid[j] ? 0 : MASKED, `key ${j}`);
  assert.equal(bias(0, 3, 4), MASKED); // future key
  for (let j = short.length; j < b.T; j++) assert.equal(bias(1, short.length - 1, j), MASKED); // pad keys
  // Loss selection: answer token a is predicted from slot answerStart + a - 1.
  assert.equal(b.lossSelect[(0 * b.A + 0) * b.T + ref.answerStart - 1], 1);
  assert.deepEqual(Array.from(b.answerTokens), [3, 3]);
});

test('over-long text is truncated to maxPositions; impossible prompts are rejected', () => {
  const small = tinyConfig({ maxPositions: 20 });
  const long = makeExample(1, small, 30, [7]);
  const row = buildRowLayout(long, variant(), TEMPLATE, small, { compact: true });
  assert.equal(row.length, 20);
  assert.throws(
    () => buildRowLayout(long, variant(), TEMPLATE, tinyConfig({ maxPositions: 12 }), { compact: true }),
    RangeError,
  );
});
