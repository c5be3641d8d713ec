import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../models/tf/backend';
import { loadImageEncoder } from '../../models/vision/load-image-encoder';
import * as tf from '@tensorflow/tfjs';
import { decodeBundledMobilenet, MOBILENET_FEATURE_NODE } from '../../models/vision/mobilenet-v2';
import type { ImageEncoder } from '../../models/vision/image-encoder';
import { CoreError } from '../../models/core-error';

let dir = '';
before(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'aimkp-vision-'));
  // Two different small pictures: a red field with a blue disc, and a green/white stripe pattern.
  const disc = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#c33"/><circle cx="32" cy="24" r="16" fill="#23c"/></svg>',
  );
  await sharp(disc).png().toFile(join(dir, 'disc.png'));
  const stripes = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#fff"/><rect width="10" height="40" fill="#2a2"/><rect x="20" width="10" height="40" fill="#2a2"/></svg>',
  );
  await sharp(stripes).jpeg().toFile(join(dir, 'stripes.jpg'));
  // 8×8: quadrants red, green / blue, transparent (→ flattened onto white).
  const px = Buffer.alloc(8 * 8 * 4);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const quad = (y < 4 ? 0 : 2) + (x < 4 ? 0 : 1);
      const rgba = [
        [255, 0, 0, 255],
        [0, 128, 0, 255],
        [0, 0, 255, 255],
        [0, 0, 0, 0],
      ][quad];
      px.set(rgba, (y * 8 + x) * 4);
    }
  }
  await sharp(px, { raw: { width: 8, height: 8, channels: 4 } })
    .png()
    .toFile(join(dir, 'quadrants.png'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('patch:2:4 on a 2×2 grid of solid colours gives exact token values', async () => {
  const enc = await loadImageEncoder('patch:2:4');
  assert.equal(enc.grid, 2);
  assert.equal(enc.channels, 4 * 4 * 3);
  assert.equal(enc.id, 'patch-g2-p4-v1');
  const out = await enc.encodeFile(join(dir, 'quadrants.png'));
  assert.equal(out.length, 2 * 2 * 48);
  const colours = [
    [1, 0, 0],
    [0, 128 / 255, 0],
    [0, 0, 1],
    [1, 1, 1],
  ];
  for (let cell = 0; cell < 4; cell++) {
    const token = Array.from(out.slice(cell * 48, (cell + 1) * 48));
    const expected = Array.from({ length: 16 }, () => colours[cell]).flat();
    assert.deepEqual(
      token.map((v) => Math.fround(v)),
      expected.map((v) => Math.fround(v)),
      `cell ${cell}`,
    );
  }
});

test('patch spec validation', async () => {
  await assert.rejects(loadImageEncoder('patch:0:4'), CoreError);
  await assert.rejects(loadImageEncoder('patch:2'), CoreError);
  await assert.rejects(loadImageEncoder('resnet'), /unknown/);
});

let mobilenet: ImageEncoder | null = null;

test('mobilenet-v2 loads offline and gives deterministic 7×7×C features that differ between images', async () => {
  mobilenet = await loadImageEncoder('mobilenet-v2');
  assert.equal(mobilenet.grid, 7);
  assert.equal(mobilenet.channels, 1792);
  assert.match(mobilenet.id, /^mobilenet-v2-1\.4-conv1@[0-9a-f]{12}$/);
  const a1 = await mobilenet.encodeFile(join(dir, 'disc.png'));
  const a2 = await mobilenet.encodeFile(join(dir, 'disc.png'));
  const b = await mobilenet.encodeFile(join(dir, 'stripes.jpg'));
  assert.equal(a1.length, 7 * 7 * 1792);
  assert.deepEqual(a1, a2);
  // ReLU6 output: every value in [0, 6], a real share of them active.
  assert.ok(a1.every((v) => v >= 0 && v <= 6));
  assert.ok(a1.filter((v) => v > 0).length > a1.length / 50);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a1.length; i++) {
    diff += (a1[i] - b[i]) ** 2;
    norm += a1[i] ** 2;
  }
  assert.ok(diff > 0.1 * norm, `features of different images too close: ${diff} vs ${norm}`);
  // The disc is centred: the centre cell differs from a corner cell of the same image.
  const cell = (r: number, c: number): Float32Array => a1.slice((r * 7 + c) * 1792, (r * 7 + c + 1) * 1792);
  assert.notDeepEqual(cell(3, 3), cell(0, 0));
});

test('mobilenet-v2-bottleneck gives deterministic 7×7×448 features that Conv_1 maps to the mobilenet-v2 features', async () => {
  assert.ok(mobilenet, 'needs the mobilenet test');
  const enc = await loadImageEncoder('mobilenet-v2-bottleneck');
  try {
    assert.equal(enc.grid, 7);
    assert.equal(enc.channels, 448);
    assert.match(enc.id, /^mobilenet-v2-1\.4-bottleneck@[0-9a-f]{12}$/);
    assert.notEqual(enc.id, mobilenet.id);
    const path = join(dir, 'disc.png');
    const z1 = await enc.encodeFile(path);
    assert.equal(z1.length, 7 * 7 * 448);
    assert.deepEqual(z1, await enc.encodeFile(path));
    // Linear projection (no ReLU6): negative values occur.
    assert.ok(z1.some((v) => v < 0));
    // Known answer: Conv_1 is a 1×1 conv with folded BN + ReLU6 over exactly these features.
    const { artifacts } = decodeBundledMobilenet();
    const w = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs!);
    const prefix = MOBILENET_FEATURE_NODE.replace(/Relu6$/, '');
    const conv1 = tf.tidy(() =>
      tf.clipByValue(
        tf
          .matMul(tf.tensor2d(z1, [49, 448]), w[`${prefix}Conv2D_weights`].reshape([448, 1792]))
          .add(w[`${prefix}Conv2D_bn_offset`]),
        0,
        6,
      ),
    );
    const expected = await mobilenet.encodeFile(path);
    const got = conv1.dataSync();
    let maxErr = 0;
    for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - expected[i]));
    assert.ok(maxErr < 1e-3, `Conv_1(bottleneck) differs from mobilenet-v2 by ${maxErr}`);
    conv1.dispose();
    Object.values(w).forEach((t) => t.dispose());
  } finally {
    enc.dispose();
  }
});

test('tfjs:/folder#node loads a graph model from disk and reproduces the built-in encoder', async () => {
  assert.ok(mobilenet, 'needs the mobilenet test');
  const { artifacts } = decodeBundledMobilenet();
  const folder = join(dir, 'model');
  await mkdir(folder);
  const modelJson = {
    format: artifacts.format,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
  };
  await writeFile(join(folder, 'model.json'), JSON.stringify(modelJson));
  await writeFile(join(folder, 'group1-shard1of1.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
  const enc = await loadImageEncoder(`tfjs:${folder}#${MOBILENET_FEATURE_NODE}`);
  try {
    assert.equal(enc.grid, 7);
    assert.equal(enc.channels, 1792);
    assert.match(enc.id, /^tfjs-[0-9a-f]{12}-/);
    assert.deepEqual(
      await enc.encodeFile(join(dir, 'stripes.jpg')),
      await mobilenet.encodeFile(join(dir, 'stripes.jpg')),
    );
  } finally {
    enc.dispose();
  }
  // Without a node the output is [1,5] (the nsfw head): not a grid.
  await assert.rejects(loadImageEncoder(`tfjs:${folder}`), /not \[1,G,G,C\]/);
  await assert.rejects(
    loadImageEncoder(`tfjs:${join(dir, 'nowhere')}`),
    (e: unknown) => e instanceof CoreError && /model\.json/.test(e.message),
  );
});

test('a corrupt image makes encodeFile reject (the cache turns that into an issue)', async () => {
  assert.ok(mobilenet);
  await writeFile(join(dir, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  await assert.rejects(mobilenet.encodeFile(join(dir, 'broken.jpg')));
  mobilenet.dispose();
});
