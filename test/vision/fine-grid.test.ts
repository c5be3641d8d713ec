// The finer image grid of issue 19: the bundled MobileNetV2's stride-16 stage at a 256² input (16×16×136 tokens),
// whose structured masks keep the paper's shares (25 / 6.25 / 1.56 % at strides 2 / 4 / 8), cached in float16 under
// its own encoder id, and an LM whose position table holds the 256 image tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { loadImageEncoder } from '../../models/vision/load-image-encoder';
import { decodeBundledMobilenet, MOBILENET_S16_NODE } from '../../models/vision/mobilenet-v2';
import { GraphModelEncoder } from '../../models/vision/graph-model-encoder';
import { encodeImages } from '../../models/vision/feature-cache';
import type { ImageEncoder } from '../../models/vision/image-encoder';
import { keptImageIndices } from '../../shared/masking-rule';
import { buildRowLayout } from '../../models/lm/layout';
import { defaultLmConfig } from '../../models/lm/config';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { maxPositionsFor, promptTemplate } from '../../models/train/data-prep';
import { buildTokenizer } from '../../models/text/tokenizer';
import { CoreError } from '../../models/core-error';

let dir = '';
let s16: ImageEncoder | null = null;
before(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'aimkp-fine-grid-'));
  const disc = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#c33"/><circle cx="32" cy="24" r="16" fill="#23c"/></svg>',
  );
  await sharp(disc).png().toFile(join(dir, 'disc.png'));
  const corner = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#fff"/><rect width="12" height="12" fill="#2a2"/></svg>',
  );
  await sharp(corner).png().toFile(join(dir, 'corner.png'));
});
after(async () => {
  s16?.dispose();
  await rm(dir, { recursive: true, force: true });
});

test('mobilenet-v2-s16 emits 16×16×136 tokens per image at 256², deterministic, different per image and cell', async () => {
  s16 = await loadImageEncoder('mobilenet-v2-s16');
  assert.equal(s16.grid, 16);
  assert.equal(s16.channels, 136);
  assert.match(s16.id, /^mobilenet-v2-1\.4-s16-256@[0-9a-f]{12}$/);
  assert.equal(s16.storage, 'float16');
  const a = await s16.encodeFile(join(dir, 'disc.png'));
  assert.equal(a.length, 256 * 136);
  assert.deepEqual(a, await s16.encodeFile(join(dir, 'disc.png')));
  const b = await s16.encodeFile(join(dir, 'corner.png'));
  assert.notDeepEqual(a, b);
  // A residual sum (no activation): both signs, and within float16's range by far.
  assert.ok(a.some((v) => v < 0) && a.some((v) => v > 0));
  assert.ok(a.every((v) => Math.abs(v) < 1000));
  const cell = (x: Float32Array, r: number, c: number) => x.slice((r * 16 + c) * 136, (r * 16 + c + 1) * 136);
  // The green square sits in the top-left corner: that cell differs from the bottom-right one (white).
  assert.notDeepEqual(cell(b, 0, 0), cell(b, 15, 15));
});

test('the relaxed input shape changes no computation: s16@224 equals the unmodified graph at its declared 224', async () => {
  const relaxed = await loadImageEncoder('mobilenet-v2-s16@224');
  const { artifacts } = decodeBundledMobilenet();
  const original = GraphModelEncoder.create(await tf.loadGraphModel(tf.io.fromMemory(artifacts)), {
    id: 'original',
    inputSize: 224,
    node: MOBILENET_S16_NODE,
  });
  try {
    assert.equal(relaxed.grid, 14);
    assert.match(relaxed.id, /^mobilenet-v2-1\.4-s16-224@/);
    assert.notEqual(relaxed.id, s16?.id);
    const path = join(dir, 'disc.png');
    assert.deepEqual(await relaxed.encodeFile(path), await original.encodeFile(path));
  } finally {
    relaxed.dispose();
    original.dispose();
  }
});

test('encoder specs: a side that is not a multiple of 16 (or out of range) is refused', async () => {
  await assert.rejects(loadImageEncoder('mobilenet-v2-s16@250'), (e: unknown) => {
    assert.ok(e instanceof CoreError);
    assert.match(e.message, /multiple of 16/);
    return true;
  });
  await assert.rejects(loadImageEncoder('mobilenet-v2-s16@2048'), /multiple of 16 in \[64, 1024\]/);
  await assert.rejects(loadImageEncoder('mobilenet-v2-s17'), /unknown/);
});

test('structured image masks on the 16×16 grid keep 64 / 16 / 4 tokens at strides 2 / 4 / 8 (the paper’s shares)', () => {
  const kept = [2, 4, 8].map((s) => keptImageIndices(16, s));
  assert.deepEqual(
    kept.map((k) => k.length),
    [64, 16, 4],
  );
  assert.deepEqual(
    kept.map((k) => (100 * k.length) / 256),
    [25, 6.25, 1.5625],
  );
  assert.deepEqual(kept[2], [7 * 16 + 7, 7 * 16 + 15, 15 * 16 + 7, 15 * 16 + 15]);
  // The LM's row layout keeps the same cells (compacted rows carry only them).
  const lm = defaultLmConfig({ vocabSize: 20, imageGrid: 16, imageFeatureDim: 2, maxPositions: 300 });
  const example = {
    index: 0,
    id: 'x',
    image: new Float32Array(256 * 2),
    text: Int32Array.of(7, 8),
    answer: Int32Array.of(9, 5),
  };
  const template = { prefix: Int32Array.of(1), instruction: Int32Array.of(2), eos: 5, pad: 0 };
  for (const [s, n] of [
    [1, 256],
    [2, 64],
    [4, 16],
    [8, 4],
  ]) {
    const row = buildRowLayout(
      example,
      { mode: 'multimodal', textStride: 1, imageStride: s, kind: 'structured', seed: 1 },
      template,
      lm,
      { compact: true },
    );
    assert.equal(row.imageSlots.length, n, `stride ${s}`);
    if (s > 1) assert.deepEqual(row.imgIdx, keptImageIndices(16, s));
  }
});

test('float16 cache round trip under the encoder id: file size, folder, and identical features on the second run', async () => {
  assert.ok(s16, 'needs the first test');
  const cacheDir = join(dir, 'cache');
  const items = [
    { id: 'a', image: 'disc.png' },
    { id: 'b', image: 'corner.png' },
  ];
  // No storage named: the encoder's own (float16) is used.
  const first = await encodeImages(s16, dir, items, { cacheDir });
  assert.deepEqual(first.stats, { done: 2, total: 2, cached: 0, computed: 2, failed: 0 });
  const folder = join(cacheDir, 'features', s16.id);
  const files = (await readdir(folder, { recursive: true })).filter((f) => f.endsWith('.f16'));
  assert.equal(files.length, 2);
  for (const f of files) assert.equal((await stat(join(folder, f))).size, 256 * 136 * 2);
  const second = await encodeImages(s16, dir, items, { cacheDir });
  assert.deepEqual(second.stats, { done: 2, total: 2, cached: 2, computed: 0, failed: 0 });
  assert.deepEqual(second.get('a'), first.get('a'));
  assert.deepEqual(second.get('b'), first.get('b'));
  // What the first run served is float16-rounded (so both runs train on the same numbers), close to the raw output.
  const raw = await s16.encodeFile(join(dir, 'disc.png'));
  const served = first.get('a')!;
  let maxErr = 0;
  for (let i = 0; i < raw.length; i++)
    maxErr = Math.max(maxErr, Math.abs(raw[i] - served[i]) / Math.max(1, Math.abs(raw[i])));
  assert.ok(maxErr > 0 && maxErr < 1e-3, `float16 rounding error ${maxErr}`);
});

test('the LM holds a 16×16 grid: maxPositions = prompt + 256 image tokens + text + answer (beyond the old 256)', () => {
  const tokenizer = buildTokenizer(['a red circle', 'circle'], {
    minCount: 1,
    extra: ['USER:', 'What phrases should be used to tag the media? ASSISTANT:'],
  });
  const template = promptTemplate(tokenizer);
  const limits = { maxTextTokens: 48, maxAnswerTokens: 24 };
  const positions = maxPositionsFor(template, 16, limits);
  assert.equal(positions, template.prefix.length + 256 + 48 + template.instruction.length + 24);
  assert.ok(positions > 256 && positions < 384, `${positions}`);
  const config = defaultLmConfig({
    vocabSize: tokenizer.vocabSize,
    dModel: 16,
    nLayers: 1,
    nHeads: 2,
    dFF: 32,
    adapterHidden: 8,
    imageGrid: 16,
    imageFeatureDim: 136,
    maxPositions: positions,
    dropout: 0,
  });
  const lm = createKeyphraseLM(config, template, 1);
  try {
    const text = tokenizer.encode('a red circle a red circle a red circle');
    const example = {
      index: 0,
      id: 'x',
      image: Float32Array.from({ length: 256 * 136 }, (_, i) => Math.sin(i)),
      text: Int32Array.from({ length: 48 }, (_, i) => text[i % text.length]),
      answer: Int32Array.from(
        [...tokenizer.encodeKeyphrases(['circle'])].concat(Array(21).fill(tokenizer.specials.eos)).slice(0, 24),
      ),
    };
    const r = lm.losses(
      [example],
      [{ mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 }],
    );
    assert.ok(Number.isFinite(r.losses[0]) && r.losses[0] > 0);
  } finally {
    lm.dispose();
  }
});
