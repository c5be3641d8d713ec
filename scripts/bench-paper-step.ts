// `npm run bench:paper-step`: the three calls the ClipArt-KP redo spends its time in, on the large base (`aimkp
// pretrain --size large`: d 256, 4 layers, dFF 1024, 16k vocabulary, the 16×16 image grid), timed on this thread and
// kernel-profiled:
//   pretrain  one pretraining call: 2 chunks × 341 tokens of text, no image (samplesPerCall 2 of the large size);
//   finetune  one paper-setting fine-tuning call: 16 samples with 16×16×136 image features, a 3–7-token text and a
//             4–10-token answer, LoRA r 16 (dropout 0.05) on the frozen LM, as paper-baseline trains;
//   masked    one paper-setting AimKP masked step: paper-aimkp on the same 16 samples at strides 2/2 (the step of
//             every epoch after the warm-up), filter and all.
// Inputs are random (fixed seed) and the weights fresh: the step's cost depends on shapes, not on values, so no data
// set or pretrained run is needed. The top kernels say where the time goes (the native vector kernels' effect:
// compare with AIMKP_NATIVE_VECTOR=off, or AIMKP_NATIVE_MATMUL=off for plain wasm). Prints one JSON object (and a
// table on stderr).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { profileKernels, type KernelProfile } from '../models/bench/kernel-profile';
import { machineInfo } from '../models/bench/machine';
import type { EncodedExample, LmConfig } from '../models/lm/contract';
import { countParameters } from '../models/lm/config';
import { createKeyphraseLM, plainVariant } from '../models/lm/keyphrase-lm';
import { describeBackend, initBackend } from '../models/tf/backend';
import { getPreset } from '../models/train/presets';
import { StrideState } from '../models/train/stride-state';
import { aimkpStep } from '../models/train/train-step';
import { BACKEND_CHOICES, type BackendRequest } from '../shared/vocabulary';
import { fileURLToPath } from 'node:url';
import { CHUNK, FEATURES, GRID, largeBaseConfig, randomInputs } from './lib/large-base';
import { scriptArgs } from './lib/script-args';

const USAGE = `Usage: npm run bench:paper-step -- [--which pretrain,finetune,masked] [--repeats R] [--warmup W]
                                     [--top N] [--sites] [--backend NAME] [--out FILE]
  --which L     which calls (default all three)
  --repeats R   timed calls of each (default 3; the median and the best are reported)
  --warmup W    untimed calls first (default 1)
  --top N       kernels listed per call (default 12)
  --sites       also attribute kernels to call sites (slow; only the profiled call)
  --backend B   default wasm (with the native matmul and vector kernels when the addon is built)
  --out FILE    also write the JSON there`;

const { values } = scriptArgs(
  fileURLToPath(import.meta.url),
  {
    options: {
      which: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      top: { type: 'string' },
      sites: { type: 'boolean' },
      backend: { type: 'string' },
      out: { type: 'string' },
    },
  },
  USAGE,
);
const CALLS = ['pretrain', 'finetune', 'masked'] as const;
type Call = (typeof CALLS)[number];
const which = (values.which ?? CALLS.join(',')).split(',') as Call[];
const repeats = Number(values.repeats ?? 3);
const warmup = Number(values.warmup ?? 1);
const top = Number(values.top ?? 12);
const backend = (values.backend ?? 'wasm') as BackendRequest;
const bad = (why: string) => {
  console.error(`bench:paper-step: ${why}\n${USAGE}`);
  process.exit(2);
};
for (const w of which) if (!CALLS.includes(w)) bad(`--which: "${w}" is not one of ${CALLS.join(', ')}`);
for (const [flag, n, min] of [
  ['--repeats', repeats, 1],
  ['--warmup', warmup, 0],
  ['--top', top, 0],
] as const)
  if (!Number.isInteger(n) || n < min) bad(`${flag} must be an integer ≥ ${min}`);
if (!BACKEND_CHOICES.includes(backend)) bad(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);

// ---- the shapes ---------------------------------------------------------------------------------------------

const SAMPLES = 16; // the presets' batch, one call
const inputs = randomInputs();
const template = inputs.template;
const samples: EncodedExample[] = Array.from({ length: SAMPLES }, (_, i) =>
  inputs.example(i, 3 + (i % 5), 4 + (i % 7)),
);
const chunks: EncodedExample[] = [0, 1].map((i) => ({
  index: i,
  id: `c${i}`,
  image: null,
  text: new Int32Array(0),
  answer: inputs.tokens(CHUNK),
}));

interface Setup {
  what: string;
  rows: number;
  config: LmConfig;
  once: () => void;
}

function setup(call: Call): Setup {
  if (call === 'pretrain') {
    const model = createKeyphraseLM(
      largeBaseConfig(null),
      { prefix: Int32Array.of(1), instruction: new Int32Array(0), eos: 3, pad: 0 },
      1,
    );
    return {
      what: `pretraining call: ${chunks.length} chunks × ${CHUNK} tokens, text only`,
      rows: chunks.length,
      config: model.config,
      once: () => {
        const out = model.weightedGradients(
          chunks,
          chunks.map(() => plainVariant('text')),
          [0.5, 0.5],
          true,
        );
        tf.dispose(out.grads);
      },
    };
  }
  const preset = getPreset(call === 'finetune' ? 'paper-baseline' : 'paper-aimkp')!;
  const model = createKeyphraseLM(largeBaseConfig(preset.model.lora), template, 1);
  const common = { rows: SAMPLES, config: model.config };
  if (call === 'finetune')
    return {
      ...common,
      what: `paper-setting fine-tuning call (${preset.preset}): ${SAMPLES} samples, image ${GRID}×${GRID}×${FEATURES} + text, LoRA r ${preset.model.lora?.rank}`,
      once: () => {
        const variants = samples.map(() => plainVariant('multimodal'));
        const out = model.weightedGradients(
          samples,
          variants,
          samples.map(() => 1 / SAMPLES),
          true,
        );
        tf.dispose(out.grads);
      },
    };
  const settings = preset.aimkp!;
  const first = new StrideState(1, { ...settings.stride, warmup: false });
  return {
    ...common,
    what: `paper-setting AimKP masked step (${preset.preset}): ${SAMPLES} samples at strides ${first.text[0]}/${first.image[0]}, filter included`,
    once: () => {
      const strides = new StrideState(SAMPLES, { ...settings.stride, warmup: false });
      const g = aimkpStep(model, samples, { settings, strides, seed: 1, epoch: 1, samplesPerCall: SAMPLES });
      tf.dispose(g.grads);
    },
  };
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const tallies = (m: KernelProfile['byKernel'], n: number) =>
  [...m]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, n)
    .map(([name, t]) => ({ name, count: t.count, ms: round(t.ms) }));

// ---- run ----------------------------------------------------------------------------------------------------

const info = await initBackend(backend);
const backendLine = describeBackend(info);
console.error(backendLine);
const results = [];
for (const call of which) {
  const load1Before = loadavg()[0];
  const b = setup(call);
  for (let i = 0; i < warmup; i++) b.once();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    b.once();
    ms.push(performance.now() - t0);
  }
  const { profile } = profileKernels(b.once, { sites: values.sites === true });
  const r = {
    call,
    what: b.what,
    rows: b.rows,
    parameters: countParameters(b.config).total,
    trainable: countParameters(b.config).trainable,
    msPerCall: ms.map((x) => round(x)),
    medianMs: round(median(ms)),
    bestMs: round(Math.min(...ms)),
    profile: {
      kernels: profile.kernels,
      matmuls: profile.matmuls,
      kernelMs: round(profile.kernelMs),
      under50us: profile.under50us,
      top: tallies(profile.byKernel, top),
      ...(values.sites ? { sites: tallies(profile.bySite, top) } : {}),
    },
    load1: [round(load1Before, 2), round(loadavg()[0], 2)],
  };
  results.push(r);
  console.error(
    `\n${call}: ${b.what}\n  median ${r.medianMs} ms, best ${r.bestMs} ms over ${repeats} (load ${r.load1.join(' → ')}); ` +
      `profiled call: ${profile.kernels} kernels (${profile.matmuls} matmuls), ${r.profile.kernelMs} ms in kernels`,
  );
  for (const k of r.profile.top)
    console.error(`    ${k.name.padEnd(28)} ${String(k.count).padStart(6)} ${k.ms.toFixed(1).padStart(9)} ms`);
  // Each model's variables go before the next is built (the three would not fit the wasm heap together).
  tf.disposeVariables();
}
const out = {
  bench: 'paper-step',
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: backendLine,
  tfBackend: tf.getBackend(),
  env: {
    AIMKP_NATIVE_MATMUL: process.env.AIMKP_NATIVE_MATMUL ?? null,
    AIMKP_NATIVE_VECTOR: process.env.AIMKP_NATIVE_VECTOR ?? null,
  },
  repeats,
  warmup,
  results,
};
const json = JSON.stringify(out, null, 2);
console.log(json);
if (values.out) writeFileSync(values.out, json + '\n');
