/**
 * The GPU check's TensorFlow.js part (scripts/gpu-check.sh runs it; docs/backends-and-encoders.md "Checking a GPU
 * machine"): on one backend (`--backend webgpu` or `tfjs-node-gpu`), in one process,
 *  1. start it — an explicit request, so no fallback: a missing adapter is one line on stderr and exit code 3;
 *  2. the backend self-test (models/tf/backend-self-test.ts): the model's ops against the cpu backend;
 *  3. the gradient check: one baseline and one AimKP training step (masked rows at stride 2, cosine filter) of the
 *     same tiny model on the same batch, on this backend and on wasm; losses, gradients and cosines compared within
 *     GRADIENT_TOLERANCE.
 * Prints one JSON object on stdout (and writes it to --out FILE); exit 0 when everything is within tolerance, 1 when not.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EncodedExample, LmConfig, PromptTemplate } from '../models/lm/contract';
import { createKeyphraseLM } from '../models/lm/keyphrase-lm';
import {
  describeBackend,
  initBackend,
  switchBackend,
  type BackendInfo,
  type ConcreteBackend,
} from '../models/tf/backend';
import { runBackendSelfTest, type SelfTestReport } from '../models/tf/backend-self-test';
import { StrideState } from '../models/train/stride-state';
import type { AimkpSettings } from '../models/index';
import { aimkpStep, standardStep, type StepGradient } from '../models/train/train-step';
import { scriptArgs } from './lib/script-args';

/**
 * What "the same step" means across backends. float32 everywhere, but a GPU sums in another order (and its exp/log
 * differ in the last bits), so values agree to about 1e-6 relative per op and drift a little through a step.
 */
export const GRADIENT_TOLERANCE = {
  /** |loss_target − loss_ref| / max(1, |loss_ref|). */
  loss: 1e-4,
  /** max |g_target − g_ref| / max |g_ref| over the flattened gradient of all trainable variables. */
  gradient: 1e-3,
  /** cosine(g_target, g_ref) at least this. */
  gradientCosine: 0.99999,
  /** |cos_target − cos_ref| of each AimKP filter cosine (original vs masked row gradients). */
  filterCosine: 1e-3,
} as const;

/** The tiny model of the check: LoRA on, dropout off (dropout draws would differ per call, not per backend). */
export const CHECK_MODEL: LmConfig = {
  vocabSize: 40,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  dFF: 32,
  maxPositions: 48,
  imageFeatureDim: 6,
  imageGrid: 4,
  adapterHidden: 12,
  dropout: 0,
  lora: { rank: 4, alpha: 8, dropout: 0 },
};
const TEMPLATE: PromptTemplate = { prefix: Int32Array.from([5]), instruction: Int32Array.from([6, 7]), eos: 3, pad: 0 };
const AIMKP: AimkpSettings = {
  maskText: true,
  maskImage: true,
  filter: true,
  tauText: 0.1,
  tauImage: 0.4,
  stride: { rule: 'progressive', fixedStride: 2, warmup: false },
  maskKind: 'structured',
};

/** Four samples with text and image, one without an image: fixed numbers, no randomness. */
export function checkBatch(): EncodedExample[] {
  const { imageGrid: g, imageFeatureDim: c } = CHECK_MODEL;
  const image = (s: number) => Float32Array.from({ length: g * g * c }, (_, i) => Math.sin(s * 7.1 + i * 0.37));
  const ids = (...v: number[]) => Int32Array.from(v);
  return [
    { index: 0, id: 'a', image: image(1), text: ids(8, 9, 10, 11, 12, 13), answer: ids(20, 4, 21, 3) },
    { index: 1, id: 'b', image: image(2), text: ids(14, 15, 16, 17), answer: ids(22, 3) },
    { index: 2, id: 'c', image: null, text: ids(18, 19, 23, 24, 25), answer: ids(26, 4, 27, 28, 3) },
    { index: 3, id: 'd', image: image(3), text: ids(29, 30, 31, 32, 33, 34, 35), answer: ids(36, 37, 3) },
  ];
}

export interface StepSnapshot {
  baselineLoss: number;
  baselineGrad: Float32Array;
  aimkpLoss: number;
  aimkpGrad: Float32Array;
  /** The AimKP filter cosines, sample by sample: text then image (null where a sample has no such row). */
  filterCosines: (number | null)[];
}

/** One baseline and one AimKP step of a fresh CHECK_MODEL on the current backend. */
export function stepSnapshot(): StepSnapshot {
  const model = createKeyphraseLM(CHECK_MODEL, TEMPLATE, 7);
  try {
    const batch = checkBatch();
    const flat = (g: StepGradient): Float32Array => {
      const parts = g.grads.map((t) => t.dataSync() as Float32Array);
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        out.set(p, offset);
        offset += p.length;
      }
      tf.dispose(g.grads);
      return out;
    };
    const baseline = standardStep(model, batch, 'multimodal', 2);
    const baselineLoss = baseline.loss;
    const baselineGrad = flat(baseline);
    const strides = new StrideState(batch.length, AIMKP.stride);
    const aimkp = aimkpStep(model, batch, { settings: AIMKP, strides, seed: 1, epoch: 1, samplesPerCall: 2 });
    const records = aimkp.samples;
    return {
      baselineLoss,
      baselineGrad,
      aimkpLoss: aimkp.loss,
      aimkpGrad: flat(aimkp),
      filterCosines: records.flatMap((r) => [r.cosText, r.cosImage]),
    };
  } finally {
    model.dispose();
  }
}

export interface GradientComparison {
  what: string;
  value: number;
  limit: number;
  ok: boolean;
}

/** Target against reference, measure by measure (see GRADIENT_TOLERANCE). */
export function compareSnapshots(target: StepSnapshot, reference: StepSnapshot): GradientComparison[] {
  const t = GRADIENT_TOLERANCE;
  const out: GradientComparison[] = [];
  const add = (what: string, value: number, limit: number, atMost: boolean) =>
    out.push({ what, value, limit, ok: Number.isFinite(value) && (atMost ? value <= limit : value >= limit) });
  for (const step of ['baseline', 'aimkp'] as const) {
    const lossT = step === 'baseline' ? target.baselineLoss : target.aimkpLoss;
    const lossR = step === 'baseline' ? reference.baselineLoss : reference.aimkpLoss;
    add(`${step} loss rel. diff`, Math.abs(lossT - lossR) / Math.max(1, Math.abs(lossR)), t.loss, true);
    const gT = step === 'baseline' ? target.baselineGrad : target.aimkpGrad;
    const gR = step === 'baseline' ? reference.baselineGrad : reference.aimkpGrad;
    add(`${step} gradient max rel. diff`, maxRelDiff(gT, gR), t.gradient, true);
    add(`${step} gradient cosine`, cosine(gT, gR), t.gradientCosine, false);
  }
  let worst = target.filterCosines.length === reference.filterCosines.length ? 0 : Infinity;
  target.filterCosines.forEach((c, i) => {
    const r = reference.filterCosines[i];
    if ((c === null) !== (r === null)) worst = Infinity;
    else if (c !== null && r !== null) worst = Math.max(worst, Math.abs(c - r));
  });
  add('AimKP filter cosines max abs. diff', worst, t.filterCosine, true);
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -Infinity;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

export interface GpuCheckReport {
  backend: string;
  description: string;
  adapter: BackendInfo['adapter'] | null;
  selfTest: SelfTestReport;
  gradientCheck: {
    reference: string;
    parameters: number;
    tolerance: typeof GRADIENT_TOLERANCE;
    comparisons: GradientComparison[];
    ok: boolean;
  };
  ms: { start: number; selfTest: number; gradientCheck: number };
  ok: boolean;
}

/** Starts `target` (explicitly: no fallback), then the self-test and the gradient check against `reference`. */
export async function gpuCheck(target: ConcreteBackend, reference: ConcreteBackend = 'wasm'): Promise<GpuCheckReport> {
  const t0 = performance.now();
  const info = await initBackend(target);
  const t1 = performance.now();
  const selfTest = await runBackendSelfTest(info.name);
  const t2 = performance.now();
  const refFailure = await switchBackend(reference);
  if (refFailure !== null) throw new Error(`gpu-check: reference backend ${reference}: ${refFailure}`);
  const ref = stepSnapshot();
  const back = await switchBackend(target);
  if (back !== null) throw new Error(`gpu-check: back to ${target}: ${back}`);
  const got = stepSnapshot();
  const comparisons = compareSnapshots(got, ref);
  const t3 = performance.now();
  const gradientCheck = {
    reference,
    parameters: got.baselineGrad.length,
    tolerance: GRADIENT_TOLERANCE,
    comparisons,
    ok: comparisons.every((c) => c.ok),
  };
  return {
    backend: target,
    description: describeBackend(info),
    adapter: info.adapter ?? null,
    selfTest,
    gradientCheck,
    ms: { start: t1 - t0, selfTest: t2 - t1, gradientCheck: t3 - t2 },
    ok: selfTest.ok && gradientCheck.ok,
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = scriptArgs(fileURLToPath(import.meta.url), {
    args: argv,
    options: { backend: { type: 'string', default: 'webgpu' }, out: { type: 'string' } },
  });
  const target = values.backend as ConcreteBackend;
  if (target !== 'webgpu' && target !== 'tfjs-node-gpu') {
    console.error(`gpu-check: --backend must be webgpu or tfjs-node-gpu, got "${target}"`);
    return 2;
  }
  let report: GpuCheckReport;
  try {
    report = await gpuCheck(target);
  } catch (err) {
    // One line: why the backend could not start (no adapter, missing CUDA libraries, …); falling back is not the
    // point here, so initBackend's hint about --backend auto is dropped.
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    console.error(`gpu-check: ${message.replace(/ — use --backend auto .*$/, '')}`);
    return 3;
  }
  const text = JSON.stringify(report, null, 2);
  if (values.out) writeFileSync(values.out, text + '\n');
  console.log(text);
  for (const c of report.selfTest.cases.filter((x) => !x.ok))
    console.error(`gpu-check: self-test ${c.op}: rel. diff ${c.relDiff}${c.error ? ` (${c.error})` : ''}`);
  for (const c of report.gradientCheck.comparisons.filter((x) => !x.ok))
    console.error(`gpu-check: ${c.what} = ${c.value} (limit ${c.limit})`);
  return report.ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Exit explicitly: a live GPU device can keep Node's event loop alive.
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`gpu-check: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
