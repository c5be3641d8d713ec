// The call planner: length-homogeneous passes chosen by padded FLOPs + a per-pass cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLmConfig } from '../../models/lm/config';
import { DEFAULT_PASS_OVERHEAD_FLOPS, planCost, planPasses } from '../../models/lm/call-plan';
import { forwardFlops } from '../../models/lm/flops';
import { buildRowLayout, type RowLayout } from '../../models/lm/layout';
import type { EncodedExample, RowVariant } from '../../models/lm/contract';
import { TEMPLATE, variant } from './fixtures';

// The presets' model on MobileNetV2 features: 7×7×1792 image tokens, d 128, 2 layers.
const config = defaultLmConfig({
  vocabSize: 4000,
  dModel: 128,
  nLayers: 2,
  nHeads: 4,
  dFF: 256,
  adapterHidden: 256,
  imageFeatureDim: 1792,
  imageGrid: 7,
  maxPositions: 160,
  dropout: 0,
  lora: null,
});

function example(index: number, textLen: number, answerLen: number): EncodedExample {
  return {
    index,
    id: `e${index}`,
    image: new Float32Array(49 * 1792),
    text: Int32Array.from({ length: textLen }, (_, i) => 6 + i),
    answer: Int32Array.from({ length: answerLen }, (_, i) => 6 + i),
  };
}

function layouts(items: [EncodedExample, RowVariant][]): RowLayout[] {
  return items.map(([e, v]) => buildRowLayout(e, v, TEMPLATE, config, { compact: true }));
}

/** 16 AimKP samples: original, text-masked (s=2) and image-masked (s=2) rows. */
function aimkpRows(): RowLayout[] {
  const items: [EncodedExample, RowVariant][] = [];
  for (let i = 0; i < 16; i++) {
    const e = example(i, 3 + (i % 5), 6 + (i % 3));
    items.push([e, variant()], [e, variant({ textStride: 2 })], [e, variant({ imageStride: 2 })]);
  }
  return layouts(items);
}

test('every row lands in exactly one pass; passes are length-sorted and each pass lists rows in order', () => {
  const rows = aimkpRows();
  const passes = planPasses(config, rows);
  const seen = passes.flat().sort((a, b) => a - b);
  assert.deepEqual(
    seen,
    rows.map((_, i) => i),
  );
  for (const p of passes)
    assert.deepEqual(
      p,
      [...p].sort((a, b) => a - b),
    );
  const maxLen = passes.map((p) => Math.max(...p.map((r) => rows[r].length)));
  const minLen = passes.map((p) => Math.min(...p.map((r) => rows[r].length)));
  for (let k = 1; k < passes.length; k++)
    assert.ok(minLen[k] >= maxLen[k - 1], 'passes are contiguous runs of the length order');
});

test('AimKP rows: the image-masked rows (9 of 49 image tokens) get their own pass, and padding mostly goes', () => {
  const rows = aimkpRows();
  const passes = planPasses(config, rows);
  assert.ok(passes.length >= 2 && passes.length <= 4, `${passes.length} passes`);
  // No pass mixes a full image span with a 9-token one.
  for (const p of passes) {
    const spans = new Set(p.map((r) => rows[r].imgIdx.length));
    assert.equal(spans.size, 1, `pass mixes image spans ${[...spans]}`);
  }
  const single = planCost(config, rows, [rows.map((_, i) => i)]);
  const split = planCost(config, rows, passes);
  const useful = rows.reduce(
    (s, r) =>
      s + forwardFlops(config, { imageTokens: r.imgIdx.length, seqLen: r.length, answerTokens: r.answer.length }).total,
    0,
  );
  // At least three quarters of the padding goes.
  assert.ok(split - useful < 0.25 * (single - useful), `split ${split}, one pass ${single}, useful ${useful}`);
  // The plan is optimal among length-sorted splits, so its padding + overhead cannot exceed one pass's.
  assert.ok(split + passes.length * DEFAULT_PASS_OVERHEAD_FLOPS <= single + DEFAULT_PASS_OVERHEAD_FLOPS);
  assert.ok(split >= useful);
});

test('the per-pass cost decides: Infinity = one pass, 0 = one pass per distinct row shape, uniform rows = one pass', () => {
  const rows = aimkpRows();
  assert.equal(planPasses(config, rows, { passOverheadFlops: Infinity }).length, 1);
  const shapes = new Set(rows.map((r) => `${r.length}/${r.imgIdx.length}/${r.answer.length}`));
  assert.equal(planPasses(config, rows, { passOverheadFlops: 0 }).length, shapes.size);
  const same = layouts(
    Array.from({ length: 8 }, (_, i) => [example(i, 4, 6), variant()] as [EncodedExample, RowVariant]),
  );
  assert.deepEqual(planPasses(config, same), [[0, 1, 2, 3, 4, 5, 6, 7]]);
  assert.deepEqual(planPasses(config, []), []);
});

test('known answer: two length clusters split exactly when the saved padding exceeds the per-pass cost', () => {
  // 4 long rows (40 text tokens) and 4 short rows (2 text tokens), same image and answer.
  const rows = layouts([
    ...Array.from({ length: 4 }, (_, i) => [example(i, 40, 6), variant()] as [EncodedExample, RowVariant]),
    ...Array.from({ length: 4 }, (_, i) => [example(4 + i, 2, 6), variant()] as [EncodedExample, RowVariant]),
  ]);
  const long = rows[0].length;
  const short = rows[4].length;
  assert.equal(long - short, 38);
  const seq = (len: number) => forwardFlops(config, { imageTokens: 0, seqLen: len, answerTokens: 6 }).total;
  const saved = 4 * (seq(long) - seq(short)); // padding the short rows would cost
  assert.deepEqual(planPasses(config, rows, { passOverheadFlops: saved * 0.99 }), [
    [4, 5, 6, 7],
    [0, 1, 2, 3],
  ]);
  assert.deepEqual(planPasses(config, rows, { passOverheadFlops: saved * 1.01 }), [[0, 1, 2, 3, 4, 5, 6, 7]]);
});
