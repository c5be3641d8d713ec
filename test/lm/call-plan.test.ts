// The call planner: length-homogeneous passes chosen by padded FLOPs + a per-pass cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLmConfig } from '../../models/lm/config';
import {
  DEFAULT_PASS_BYTES,
  DEFAULT_PASS_OVERHEAD_FLOPS,
  passBytes,
  planCost,
  planPasses,
} from '../../models/lm/call-plan';
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

// The large base of the paper-setting redo (`aimkp pretrain --size large`) on the 16×16 grid, with LoRA.
const large = defaultLmConfig({
  vocabSize: 16000,
  dModel: 256,
  nLayers: 4,
  nHeads: 8,
  dFF: 1024,
  adapterHidden: 256,
  imageFeatureDim: 136,
  imageGrid: 16,
  maxPositions: 342,
  dropout: 0,
  lora: { rank: 16, alpha: 32, dropout: 0.05 },
});

function largeRows(n: number, textLen: number): RowLayout[] {
  return Array.from({ length: n }, (_, i) =>
    buildRowLayout(
      {
        index: i,
        id: `l${i}`,
        image: new Float32Array(256 * 136),
        text: Int32Array.from({ length: textLen }, (_, k) => 6 + k),
        answer: Int32Array.from({ length: 7 }, (_, k) => 6 + k),
      },
      variant(),
      TEMPLATE,
      large,
      { compact: true },
    ),
  );
}

test('passBytes: known answer from its terms, linear in rows, quadratic in slots through attention', () => {
  const c = large;
  // One row, 100 slots, 64 image tokens, 7 answer tokens, by hand.
  const perLayer = 100 * (72 * 256 + 8 * 1024) + 8 * 8 * 100 * 100;
  const image = 64 * 12 * (136 + 256 + 256);
  const answer = 7 * 5 * 16000;
  assert.equal(passBytes(c, 1, 100, 64, 7), 4 * (4 * perLayer + image + answer));
  assert.equal(passBytes(c, 6, 100, 64, 7), 6 * passBytes(c, 1, 100, 64, 7));
  const attention = (slots: number) => passBytes(c, 1, slots, 0, 0) - passBytes({ ...c, nHeads: 0 }, 1, slots, 0, 0);
  assert.equal(attention(200), 4 * attention(100));
  // What `npm run bench:memory` measured (docs/model.md "Pass memory"): 16 rows of 278 slots grew the wasm heap by
  // 2,982 MiB (3,176 while Identity still copied the tensors the tape saves).
  const measured16 = 2982 * 2 ** 20;
  const est = passBytes(c, 16, 278, 256, 7);
  assert.ok(Math.abs(est - measured16) / measured16 < 0.1, `estimate ${est} within 10 % of the measured heap`);
});

test('the memory cap splits a call whose rows would not fit one pass; a row over the cap runs alone', () => {
  // 32 rows of identical length (a 1-token text, whose text-masked copy is as long as the original): the FLOP plan
  // alone makes one pass, which exhausted the 4 GiB wasm heap.
  const rows = largeRows(32, 1);
  assert.equal(new Set(rows.map((r) => r.length)).size, 1);
  assert.deepEqual(planPasses(large, rows, { passBytesBudget: Infinity }), [rows.map((_, i) => i)]);
  const perRow = passBytes(large, 1, rows[0].length, 256, 7);
  const budget = DEFAULT_PASS_BYTES.wasm;
  const fit = Math.floor(budget / perRow);
  assert.ok(fit >= 2 && fit < 16, `${fit} rows fit the default cap`);
  const passes = planPasses(large, rows, { passBytesBudget: budget });
  assert.equal(passes.length, Math.ceil(32 / fit), 'as few passes as the cap allows');
  for (const p of passes) assert.ok(passBytes(large, p.length, rows[0].length, 256, 7) <= budget);
  assert.deepEqual(
    passes.flat().sort((a, b) => a - b),
    rows.map((_, i) => i),
  );
  // One pass asked for (Infinity overhead): still capped.
  assert.equal(planPasses(large, rows, { passOverheadFlops: Infinity, passBytesBudget: budget }).length, passes.length);
  // A cap below one row: every row alone, none dropped.
  assert.deepEqual(planPasses(large, rows.slice(0, 3), { passBytesBudget: perRow / 2 }), [[0], [1], [2]]);
});

test('the default cap leaves the presets’ model alone: the same plans as with no cap', () => {
  const rows = aimkpRows();
  for (const passOverheadFlops of [0, 30e6, Infinity])
    assert.deepEqual(
      planPasses(config, rows, { passOverheadFlops }),
      planPasses(config, rows, { passOverheadFlops, passBytesBudget: Infinity }),
    );
});
