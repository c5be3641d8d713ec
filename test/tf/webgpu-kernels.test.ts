// Which kernels the project runs, and whether the WebGPU backend has each of them (its registry or a fallback).
// The workload runs with a recorder on the engine's kernel dispatch, on wasm and on cpu: the project's own wasm
// kernels (models/lm/wasm-kernels.ts) run on wasm only, and every other backend, webgpu included, takes the plain-op
// path that the cpu run records. @tensorflow/tfjs-backend-webgpu registers its kernels at import time whether or not
// there is an adapter, so the registry is checked here without a GPU.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { EncodedExample, LmConfig, MaskKind, PromptTemplate } from '../../models/lm/contract';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { WASM_ONLY_KERNELS } from '../../models/lm/wasm-kernels';
import { initBackend, switchBackend } from '../../models/tf/backend';
import { WEBGPU_FALLBACK_KERNELS } from '../../models/tf/webgpu-fallback-kernels';
import { AdamW, ADAMW_DEFAULTS, paramSlots } from '../../models/train/adamw';
import { StrideState } from '../../models/train/stride-state';
import { aimkpStep, standardStep } from '../../models/train/train-step';
import { loadImageEncoder } from '../../models/vision/load-image-encoder';

/** kernel name → the parts of the workload that ran it. */
const used = new Map<string, Set<string>>();

const G = 3;
const C = 5;
const template: PromptTemplate = { prefix: Int32Array.from([5]), instruction: Int32Array.from([6, 7]), eos: 3, pad: 0 };
const model = (lora: boolean, freezeLm = false): LmConfig => ({
  vocabSize: 30,
  dModel: 8,
  nLayers: 1,
  nHeads: 2,
  dFF: 16,
  maxPositions: 40,
  imageFeatureDim: C,
  imageGrid: G,
  adapterHidden: 8,
  // Dropout on: its masks are part of a real training step.
  dropout: 0.1,
  lora: lora ? { rank: 2, alpha: 4, dropout: 0.05 } : null,
  freezeLm,
});
const batch: EncodedExample[] = [
  {
    index: 0,
    id: 'a',
    image: Float32Array.from({ length: G * G * C }, (_, i) => Math.sin(i)),
    text: Int32Array.from([8, 9, 10, 11]),
    answer: Int32Array.from([12, 4, 13, 3]),
  },
  { index: 1, id: 'b', image: null, text: Int32Array.from([14, 15, 16]), answer: Int32Array.from([17, 3]) },
];

before(async () => {
  await initBackend('wasm');
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const dispatch = engine.runKernel.bind(engine);
  let part = 'setup';
  engine.runKernel = (name: string, ...rest: unknown[]) => {
    if (!used.has(name)) used.set(name, new Set());
    used.get(name)?.add(part);
    return dispatch(name, ...rest);
  };

  // Training: the standard step, the AimKP step with each mask kind, LoRA and a frozen LM, then AdamW's update; on
  // wasm (its own kernels) and on cpu (the plain ops every other backend runs).
  for (const backend of ['wasm', 'cpu'] as const) {
    assert.equal(await switchBackend(backend), null);
    const on = backend === 'wasm' ? '' : ' on cpu';
    for (const [label, config] of [
      ['full', model(false)],
      ['lora', model(true)],
      ['frozen LM', model(false, true)],
    ] as const) {
      part = `train (${label})${on}`;
      const lm = createKeyphraseLM(config, template, 3);
      const optimizer = new AdamW(paramSlots(lm.trainableVariables(), lm.namedVariables(), /^adapter\//), {
        ...ADAMW_DEFAULTS,
        lr: 1e-3,
        adapterLr: 1e-3,
        clipNorm: 1,
      });
      const step = standardStep(lm, batch, 'multimodal', 2);
      optimizer.apply(step.grads, 1);
      tf.dispose(step.grads);
      for (const maskKind of ['structured', 'random', 'pool'] as MaskKind[]) {
        const settings = {
          maskText: true,
          maskImage: true,
          filter: true,
          tauText: 0.1,
          tauImage: 0.4,
          stride: { rule: 'progressive' as const, fixedStride: 2, warmup: false },
          maskKind,
        };
        const strides = new StrideState(batch.length, settings.stride);
        const a = aimkpStep(lm, batch, { settings, strides, seed: 1, epoch: 1, samplesPerCall: 2 });
        optimizer.apply(a.grads, 1);
        tf.dispose(a.grads);
      }
      // The specialists' steps (a frozen LM trains only the adapter, which a text-only prompt does not reach).
      for (const mode of config.freezeLm ? (['image'] as const) : (['text', 'image'] as const))
        tf.dispose(standardStep(lm, batch, mode, 2).grads);
      lm.losses(
        batch,
        batch.map(() => ({
          mode: 'multimodal' as const,
          textStride: 1,
          imageStride: 1,
          kind: 'structured' as const,
          seed: 0,
        })),
      );

      part = `decode (${label})${on}`;
      for (const strategy of ['greedy', 'beam', 'beam-sample'] as const) {
        lm.generate(batch, 'multimodal', { strategy, beamSize: 3, temperature: 0.5, maxNewTokens: 3, seed: 1 });
      }
      optimizer.dispose();
      lm.dispose();
    }
  }
  assert.equal(await switchBackend('wasm'), null);

  // The image encoders on one real image.
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-kernels-'));
  try {
    const image = join(dir, 'a.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 40 } } })
      .png()
      .toFile(image);
    for (const spec of ['mobilenet-v2', 'mobilenet-v2-bottleneck', 'patch:4:8']) {
      part = `encoder ${spec}`;
      const encoder = await loadImageEncoder(spec);
      await encoder.encodeFile(image);
      encoder.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  engine.runKernel = dispatch;
  await import('@tensorflow/tfjs-backend-webgpu');
});

const registry = (backend: string) => new Set(tf.getKernelsForBackend(backend).map((k) => k.kernelName));

test('the recorder saw the training step, decoding and the encoders', () => {
  const parts = new Set([...used.values()].flatMap((s) => [...s]));
  for (const part of [
    'train (full)',
    'train (lora)',
    'train (frozen LM)',
    'decode (full)',
    'train (full) on cpu',
    'decode (lora) on cpu',
    'encoder mobilenet-v2',
  ])
    assert.ok(parts.has(part), part);
  // Kernels known to be in these paths (a recorder that saw nothing would pass the next test vacuously).
  for (const name of ['BatchMatMul', 'Softmax', 'GatherV2', 'FusedConv2D', 'FusedDepthwiseConv2D', 'Sum'])
    assert.ok(used.has(name), name);
});

test('every kernel the project runs is in the webgpu registry or among the webgpu fallback kernels', (t) => {
  const webgpu = registry('webgpu');
  assert.ok(webgpu.size > 100, `webgpu registry has ${webgpu.size} kernels: was the package imported?`);
  const fallbacks = new Set<string>(WEBGPU_FALLBACK_KERNELS);
  const wasmOnly = new Set<string>(WASM_ONLY_KERNELS);
  for (const name of WASM_ONLY_KERNELS)
    assert.ok(![...(used.get(name) ?? [])].some((part) => part.endsWith('on cpu')), `${name} ran off wasm`);
  const missing = [...used.keys()].filter((name) => !webgpu.has(name) && !fallbacks.has(name) && !wasmOnly.has(name));
  assert.deepEqual(
    missing.map((name) => `${name} (${[...(used.get(name) ?? [])].join(', ')})`),
    [],
    'kernels the project runs that webgpu neither has nor bridges',
  );
  t.diagnostic(`${used.size} kernels used: ${[...used.keys()].sort().join(' ')}`);
});

test('the webgpu fallback list is exactly what the cpu backend has and tfjs-backend-webgpu 4.22 lacks', () => {
  const webgpu = registry('webgpu');
  const cpu = registry('cpu');
  // Registered fallbacks are in the webgpu registry only once the backend starts; before that the list is compared.
  const lacking = [...cpu].filter((name) => !webgpu.has(name)).sort();
  assert.deepEqual([...WEBGPU_FALLBACK_KERNELS].sort(), lacking);
  for (const name of WEBGPU_FALLBACK_KERNELS) assert.ok(tf.getKernel(name, 'cpu'), `cpu has ${name}`);
});
