// `npm run bench:memory`: what the large base (`aimkp pretrain --size large`: d 256, 4 layers, 8 heads, dFF 1024,
// 16k vocabulary, the 16×16 grid, LoRA r 16) holds in memory, the figures behind docs/model.md "Pass memory":
//   pass     one training pass of R identical rows of S slots (split off: the planner does not cut it), for the rows
//            × slots of the table and with d, dFF, heads and layers varied one at a time; beside each, the planner's
//            estimate (call-plan.ts passBytes) and their ratio;
//   decode   greedy decoding of a validation batch (32 rows of a 24-token text, 16 new tokens);
//   step     a paper-aimkp masked step of 16 samples as the trainer runs it (the planner's memory cap on), for the two
//            cases the cap was made for: 1-token texts (rows of one length) and 40-token texts with 30-token answers.
// Each figure runs in a fresh process, because the wasm heap never shrinks: its growth over the call (HEAPU8.length
// after − before, the allocator's high-water mark) is the figure, with tf's own peak of live tensor bytes
// (tf.profile) beside it. Inputs are random and the weights fresh: memory depends on shapes, not values. A figure
// that exhausts the 4 GiB heap is reported as such (the 24 × 278 row does). Prints one JSON object, a table on stderr.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { machineInfo } from '../models/bench/machine';
import { passBytes } from '../models/lm/call-plan';
import type { EncodedExample, LmConfig, RowVariant } from '../models/lm/contract';
import { createKeyphraseLM, plainVariant, type KeyphraseLMCore } from '../models/lm/keyphrase-lm';
import { buildRowLayout } from '../models/lm/layout';
import { describeBackend, initBackend } from '../models/tf/backend';
import { getPreset } from '../models/train/presets';
import { StrideState } from '../models/train/stride-state';
import { aimkpStep } from '../models/train/train-step';
import { largeBaseConfig, randomInputs, type Shape } from './lib/large-base';
import { scriptArgs } from './lib/script-args';

const USAGE = `Usage: npm run bench:memory -- [--which pass,decode,step] [--quick] [--out FILE]
  --which L   which sections (default all three)
  --quick     a few figures only (4 × 278, 16 × 38, the decode batch at 8 rows)
  --out FILE  also write the JSON there`;

// ---- the cases ----------------------------------------------------------------------------------------------

const lora = getPreset('paper-aimkp')!.model.lora;

type Case =
  | { section: 'pass'; rows: number; text: number; answer: number; imageStride: number; shape: Shape }
  | { section: 'decode'; rows: number; text: number; newTokens: number }
  | { section: 'step'; samples: number; text: number; answer: number };

const PASS_CASES: Case[] = [
  ...[4, 8, 16, 24].map((rows) => ({ section: 'pass' as const, rows, text: 3, answer: 5, imageStride: 1, shape: {} })),
  ...[2, 4].map((imageStride) => ({ section: 'pass' as const, rows: 16, text: 3, answer: 5, imageStride, shape: {} })),
  ...[{ dFF: 256 }, { dModel: 128, nHeads: 4 }, { nLayers: 2 }, { nHeads: 2 }].map((shape) => ({
    section: 'pass' as const,
    rows: 8,
    text: 3,
    answer: 5,
    imageStride: 1,
    shape,
  })),
];
const DECODE_CASES: Case[] = [{ section: 'decode', rows: 32, text: 24, newTokens: 16 }];
const STEP_CASES: Case[] = [
  { section: 'step', samples: 16, text: 1, answer: 4 },
  { section: 'step', samples: 16, text: 40, answer: 30 },
];
const QUICK: Case[] = [PASS_CASES[0], PASS_CASES[5], { section: 'decode', rows: 8, text: 24, newTokens: 16 }];

const config = (shape: Shape): LmConfig => largeBaseConfig(lora, shape);

const inputs = randomInputs();
const template = inputs.template;
const examples = (n: number, text: number, answer: number): EncodedExample[] =>
  Array.from({ length: n }, (_, i) => inputs.example(i, text, answer));
const variant = (imageStride: number): RowVariant => ({ ...plainVariant('multimodal'), imageStride });

// ---- one figure (in the child process) ----------------------------------------------------------------------

interface Figure {
  case: Case;
  label: string;
  slots: number;
  /** The planner's estimate (pass only). */
  estimateBytes: number | null;
  heapGrowthBytes: number | null;
  peakTensorBytes: number | null;
  ms: number | null;
  /** Why the figure is missing (the heap ran out). */
  error: string | null;
}

function heapBytes(): number {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8?.length ?? Number.NaN;
}

function label(c: Case): string {
  if (c.section === 'pass') {
    const shape = Object.entries(c.shape)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return `${c.rows} rows${c.imageStride > 1 ? `, image stride ${c.imageStride}` : ''}${shape ? `, ${shape}` : ''}`;
  }
  if (c.section === 'decode') return `greedy decoding, ${c.rows} rows, ${c.newTokens} new tokens`;
  return `masked step, ${c.samples} samples, ${c.text}-token texts, ${c.answer}-token answers`;
}

async function measure(c: Case): Promise<Figure> {
  const cfg = config(c.section === 'pass' ? c.shape : {});
  const model: KeyphraseLMCore = createKeyphraseLM(cfg, template, 1);
  const n = c.section === 'step' ? c.samples : c.rows;
  const batch = examples(n, c.text, c.section === 'decode' ? 0 : c.answer);
  const row = buildRowLayout(batch[0], variant(c.section === 'pass' ? c.imageStride : 1), template, cfg, {
    compact: true,
    reserve: c.section === 'decode' ? c.newTokens : 0,
  });
  // Decoding fills `newTokens` more slots after the prompt.
  const slots = row.length + (c.section === 'decode' ? c.newTokens : 0);
  const estimateBytes =
    c.section === 'pass' ? passBytes(cfg, c.rows, slots, row.imageSlots.length, row.answer.length) : null;
  let run: () => void;
  if (c.section === 'pass') {
    const variants = batch.map(() => variant(c.imageStride));
    run = () => {
      const out = model.weightedGradientsWith(
        batch,
        variants,
        batch.map(() => 1 / n),
        true,
        { split: false },
      );
      tf.dispose(out.grads);
    };
  } else if (c.section === 'decode') {
    run = () => {
      model.generate(batch, 'multimodal', {
        strategy: 'greedy',
        beamSize: 1,
        temperature: 1,
        maxNewTokens: c.newTokens,
        seed: 1,
      });
    };
  } else {
    const settings = getPreset('paper-aimkp')!.aimkp!;
    run = () => {
      const strides = new StrideState(n, { ...settings.stride, warmup: false });
      const g = aimkpStep(model, batch, { settings, strides, seed: 1, epoch: 1, samplesPerCall: n });
      tf.dispose(g.grads);
    };
  }
  const before = heapBytes();
  const held = tf.memory().numBytes;
  const figure: Figure = {
    case: c,
    label: label(c),
    slots,
    estimateBytes,
    heapGrowthBytes: null,
    peakTensorBytes: null,
    ms: null,
    error: null,
  };
  try {
    // First call: the heap's growth. Second: the time (warm). Third, under tf.profile (which slows kernels down):
    // the peak of live tensor bytes.
    run();
    figure.heapGrowthBytes = heapBytes() - before;
    const t0 = performance.now();
    run();
    figure.ms = Math.round(performance.now() - t0);
    figure.peakTensorBytes = (await tf.profile(run)).peakBytes - held;
  } catch (e) {
    figure.error =
      e instanceof Error ? `${e.name}: ${e.message} (${e.stack?.split('\n')[1]?.trim() ?? ''})` : String(e);
  }
  return figure;
}

// ---- the parent: one child per figure -----------------------------------------------------------------------

const { values } = scriptArgs(
  fileURLToPath(import.meta.url),
  {
    options: {
      which: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      child: { type: 'string' },
    },
  },
  USAGE,
);

if (values.child !== undefined) {
  await initBackend('wasm');
  console.log(JSON.stringify(await measure(JSON.parse(values.child) as Case)));
  process.exit(0);
}

const SECTIONS = ['pass', 'decode', 'step'] as const;
const which = (values.which ?? SECTIONS.join(',')).split(',');
for (const w of which)
  if (!(SECTIONS as readonly string[]).includes(w)) {
    console.error(`bench:memory: --which: "${w}" is not one of ${SECTIONS.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
const cases = (values.quick ? QUICK : [...PASS_CASES, ...DECODE_CASES, ...STEP_CASES]).filter((c) =>
  which.includes(c.section),
);

const info = await initBackend('wasm');
const backendLine = describeBackend(info);
console.error(backendLine);
const MiB = (b: number | null) => (b === null ? '—' : (b / 2 ** 20).toFixed(0));
const self = fileURLToPath(import.meta.url);
const figures: (Figure & { load1: [number, number] })[] = [];
for (const c of cases) {
  const load1Before = loadavg()[0];
  const child = spawnSync(process.execPath, [...process.execArgv, self, '--child', JSON.stringify(c)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = child.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  // A heap that runs out may abort the child instead of throwing in it: that is a figure too.
  const figure: Figure = line
    ? (JSON.parse(line) as Figure)
    : {
        case: c,
        label: label(c),
        slots: Number.NaN,
        estimateBytes: null,
        heapGrowthBytes: null,
        peakTensorBytes: null,
        ms: null,
        error: `the process ended (status ${child.status}, signal ${child.signal}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      };
  const f = {
    ...figure,
    load1: [Math.round(load1Before * 100) / 100, Math.round(loadavg()[0] * 100) / 100] as [number, number],
  };
  figures.push(f);
  const ratio =
    f.estimateBytes !== null && f.heapGrowthBytes !== null ? (f.estimateBytes / f.heapGrowthBytes).toFixed(2) : '—';
  console.error(
    `${f.case.section.padEnd(6)} ${f.label.padEnd(62)} ${String(f.slots).padStart(4)} slots  heap +${MiB(f.heapGrowthBytes).padStart(5)} MiB` +
      `  tensors ${MiB(f.peakTensorBytes).padStart(5)} MiB  estimate ${MiB(f.estimateBytes).padStart(5)} MiB (×${ratio})` +
      `  ${f.ms ?? '—'} ms${f.error ? `  ERROR ${f.error}` : ''}`,
  );
}
const out = {
  bench: 'memory',
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: backendLine,
  env: {
    AIMKP_NATIVE_MATMUL: process.env.AIMKP_NATIVE_MATMUL ?? null,
    AIMKP_NATIVE_VECTOR: process.env.AIMKP_NATIVE_VECTOR ?? null,
  },
  figures,
};
const json = JSON.stringify(out, null, 2);
console.log(json);
if (values.out) writeFileSync(values.out, json + '\n');
