// `aimkp bench`: training-step and decoding speed of the default model on this machine, as one JSON object.
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import type { EncodedExample, LmConfig, RowVariant } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import { defaultLmConfig } from '../lm/config';
import { describeBackend, initBackend } from '../tf/backend';
import { AdamW, ADAMW_DEFAULTS, paramSlots } from '../train/adamw';
import { getPreset } from '../train/presets';
import { StrideState } from '../train/stride-state';
import { aimkpStep, standardStep, type StepGradient } from '../train/train-step';
import { perRowStandardStep } from './per-row-baseline';
import type { AimkpSettings } from '../run/train-config';
import { benchRows } from './bench-rows';
import { batchForwardFlops } from './flops';
import { machineInfo, theoreticalPeak, type MachineInfo, type TheoreticalPeak } from './machine';
import { measureMatmulPeak, type MatmulPeak } from './matmul-peak';
import { profileKernels } from './kernel-profile';
import { wasmKernelProducts } from '../lm/wasm-kernels';

export interface BenchOptions {
  quick: boolean;
  /** Data set whose train texts give the row shapes; null or missing = synthetic rows. */
  dataDir: string | null;
  seed: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface StepTiming {
  /** Median over the timed steps (one untimed warm-up step first), or one probe step (see note). */
  msPerStep: number;
  msPerSample: number;
  samplesPerStep: number;
  stepsTimed: number;
  note?: string;
  /** Rows the LM ran per sample (baseline 1; AimKP up to 3). */
  rowsPerSample: number;
  /** Training FLOPs per step = 3 × forward (backward ≈ 2 × forward), padded shapes as executed. */
  gflopPerStep: number;
  /** The same on unpadded rows (masked tokens dropped). */
  usefulGflopPerStep: number;
  achievedGflops: number;
  /** Kernels one step runs (engine.runKernel calls, counted on one extra untimed step). */
  kernelsPerStep: number;
  /** Of these, matrix products (BatchMatMul). */
  matmulsPerStep: number;
  /** 2D products run inside this project's own wasm kernels (models/lm/wasm-kernels.ts; 0 on other backends). */
  innerMatmulsPerStep: number;
  /** Share of the kernels that took under 50 µs. */
  smallKernelShare: number;
}

export interface BenchResult {
  benchmark: 'aimkp-bench-v1';
  quick: boolean;
  date: string;
  machine: MachineInfo & {
    loadAverage1mAtEnd: number;
    backend: string;
    backendName: string;
    simd: boolean | null;
    threads: number | null;
  };
  setup: {
    model: LmConfig;
    parameters: number;
    batchSize: number;
    samplesPerCall: number;
    rows: string;
    meanTextTokens: number;
    meanAnswerTokens: number;
    imageTokens: number;
  };
  train: {
    /** The trainer's baseline step (standardStep → weightedGradients). */
    baseline: StepTiming;
    /** The same objective through perRowGradients().combine (no gather gradient). */
    baselinePerRowPath: StepTiming;
    aimkpWarmup: StepTiming;
    aimkpMasked: StepTiming;
    aimkpEpochs: number;
    baselineEpochs: number;
    /** AimKP vs the trainer's baseline step. */
    ratio: EpochRatios;
    /** AimKP vs the baseline objective on the per-row-gradient path (like-for-like gradient machinery). */
    ratioVsPerRowBaseline: EpochRatios;
  };
  peak: {
    matmul: MatmulPeak[];
    measuredGflops: number;
    theoretical: TheoreticalPeak;
    /** Achieved training GFLOP/s as a fraction of the measured matmul peak. */
    baselineFractionOfMeasured: number;
    baselinePerRowFractionOfMeasured: number;
    aimkpWarmupFractionOfMeasured: number;
    aimkpFractionOfMeasured: number;
    /** The measured matmul peak as a fraction of the theoretical per-core peak × backend threads. */
    measuredFractionOfTheoretical: number | null;
  };
  predict: {
    cases: number;
    maxNewTokens: number;
    greedy: { msPerCase: number; meanNewTokens: number };
    beam5: { msPerCase: number; meanNewTokens: number };
    note: string;
  };
  goals: {
    ratioAtMost1_5: { value: number; met: boolean; likeForLike: number; likeForLikeMet: boolean; against: string };
    peakAtLeast30pct: { value: number; met: boolean; against: string };
  };
}

export interface EpochRatios {
  /** AimKP masked-epoch time / baseline epoch time (same samples). */
  perMaskedEpoch: number;
  /** AimKP warm-up epoch (strides 1: per-row-gradient path, one row per sample) / baseline epoch. */
  warmupEpoch: number;
  /** (warm-up + (E−1) masked epochs) / (E baseline epochs), E = the AimKP preset's epochs (4). */
  averagedOverRun: number;
  /** The same with the warm-up epoch at baseline cost (what a warm-up through the baseline step would give). */
  averagedOverRunWarmupAtBaselineCost: number;
  /** An E-epoch AimKP run / a 6-epoch baseline run (the paper's setting: 15 h vs 9 h = 1.67). */
  runVsBaselineRun: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Quick mode: a tiny model and a few rows (for tests and smoke runs; numbers are not meaningful). */
const QUICK_MODEL = {
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  dFF: 64,
  adapterHidden: 32,
  imageFeatureDim: 16,
  imageGrid: 7,
};

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const log = o.log ?? (() => {});
  const info = await initBackend();
  const mi = machineInfo();
  const preset = getPreset('aimkp');
  if (!preset || !preset.aimkp) throw new Error('bench: the aimkp preset is missing');
  const m = preset.model;
  const grid = o.quick ? QUICK_MODEL.imageGrid : 7;
  const channels = o.quick ? QUICK_MODEL.imageFeatureDim : 1792; // MobileNetV2-1.4's 7×7×1792 map
  const batchSize = o.quick ? 4 : preset.batchSize;
  const samplesPerCall = o.quick ? 4 : preset.samplesPerCall;
  const maxNew = o.quick ? 3 : 40;
  const rows = await benchRows({
    dataDir: o.quick ? null : o.dataDir,
    count: batchSize,
    grid,
    channels,
    maxTextTokens: preset.maxTextTokens,
    maxAnswerTokens: preset.maxAnswerTokens,
    synthetic: o.quick
      ? { vocabSize: 64, textTokens: 8, answerTokens: 4 }
      : { vocabSize: 8000, textTokens: 24, answerTokens: 10 },
    seed: o.seed,
  });
  const t = rows.template;
  const maxPositions =
    t.prefix.length +
    grid * grid +
    preset.maxTextTokens +
    t.instruction.length +
    Math.max(preset.maxAnswerTokens, maxNew) +
    1;
  const config = defaultLmConfig(
    o.quick
      ? { ...QUICK_MODEL, vocabSize: rows.vocabSize, maxPositions, dropout: 0, lora: null }
      : {
          dModel: m.dModel,
          nLayers: m.nLayers,
          nHeads: m.nHeads,
          dFF: m.dFF,
          adapterHidden: m.adapterHidden,
          dropout: m.dropout,
          lora: m.lora,
          imageFeatureDim: channels,
          imageGrid: grid,
          vocabSize: rows.vocabSize,
          maxPositions,
        },
  );
  const model = createKeyphraseLM(config, t, o.seed);
  const optimizer = new AdamW(
    paramSlots(model.trainableVariables(), model.namedVariables(), new RegExp(preset.adapterPattern)),
    { ...ADAMW_DEFAULTS, lr: 1e-4, adapterLr: 1e-4, clipNorm: preset.clipNorm },
  );
  const parameters = model.trainableVariables().reduce((s, v) => s + v.size, 0);
  const batch = rows.examples;
  const steps = o.quick ? 1 : 5;
  log(
    `bench: ${describeBackend(info)}; model d=${config.dModel} L=${config.nLayers} (${parameters} trainable parameters); ${rows.source}`,
  );

  /**
   * Step timing. Each kind first runs a 2-sample probe (a warm-up + one timed step): when the full batch would take
   * longer than SLOW_MS, the probe's time is the result (the cost is linear in the samples) and a note says so.
   * Otherwise one full-batch warm-up step. The timed full-batch steps then run in rounds, one step of every kind
   * per round in rotating order, so a slow spell of the machine (shared cores) hits every kind alike; the result
   * is each kind's median.
   */
  const SLOW_MS = 20_000;
  interface Kind {
    label: string;
    run: (samples: EncodedExample[]) => StepGradient;
    flopsFor: (samples: EncodedExample[]) => { executed: number; useful: number; rows: number };
    samples: EncodedExample[];
    times: number[];
    note?: string;
  }
  const once = (k: Kind, samples: EncodedExample[]): number => {
    const t0 = performance.now();
    const g = k.run(samples);
    optimizer.apply(g.grads, 1);
    g.grads.forEach((x) => x.dispose());
    return performance.now() - t0;
  };
  const kinds: Kind[] = [];
  const kind = (
    label: string,
    make: (samples: EncodedExample[]) => () => StepGradient,
    flopsFor: Kind['flopsFor'],
  ): Kind => {
    const k: Kind = { label, run: (b) => make(b)(), flopsFor, samples: batch, times: [] };
    const probe = batch.slice(0, Math.min(2, batch.length));
    once(k, probe);
    const second = once(k, probe);
    if (second > (SLOW_MS * probe.length) / batch.length) {
      k.samples = probe;
      k.times.push(second);
      k.note = `slow path: timed on a ${probe.length}-sample step (${(second / 1000).toFixed(1)} s) after one warm-up step; not repeated`;
    } else {
      once(k, batch);
    }
    kinds.push(k);
    return k;
  };
  const timeAll = (): void => {
    const timed = kinds.filter((k) => k.note === undefined);
    for (let round = 0; round < steps; round++) {
      for (let j = 0; j < timed.length; j++) {
        const k = timed[(round + j) % timed.length];
        k.times.push(once(k, batch));
      }
    }
  };
  const result = (k: Kind): StepTiming => {
    const innerBefore = wasmKernelProducts();
    const { profile } = profileKernels(() => once(k, k.samples));
    const innerMatmulsPerStep = wasmKernelProducts() - innerBefore;
    const msPerStep = median(k.times);
    const f = k.flopsFor(k.samples);
    const gflopPerStep = (3 * f.executed) / 1e9;
    const msPerSample = msPerStep / k.samples.length;
    log(
      `bench: ${k.label}: ${msPerSample.toFixed(1)} ms/sample (${k.samples.length} samples/step); ${profile.kernels} kernels, ${profile.matmuls} matmuls (+${innerMatmulsPerStep} inside fused kernels) per step${k.note ? `; ${k.note}` : ''}`,
    );
    return {
      msPerStep,
      msPerSample,
      samplesPerStep: k.samples.length,
      stepsTimed: k.times.length,
      rowsPerSample: f.rows / k.samples.length,
      gflopPerStep,
      usefulGflopPerStep: (3 * f.useful) / 1e9,
      achievedGflops: gflopPerStep / (msPerStep / 1000),
      kernelsPerStep: profile.kernels,
      matmulsPerStep: profile.matmuls,
      innerMatmulsPerStep,
      smallKernelShare: profile.kernels === 0 ? 0 : profile.under50us / profile.kernels,
      ...(k.note ? { note: k.note } : {}),
    };
  };

  const plain: RowVariant = { mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 };
  const chunkFlops = (make: (e: EncodedExample) => RowVariant[]) => (samples: EncodedExample[]) => {
    let executed = 0;
    let useful = 0;
    let rowCount = 0;
    for (let i = 0; i < samples.length; i += samplesPerCall) {
      const part = samples.slice(i, i + samplesPerCall);
      const ex: EncodedExample[] = [];
      const vs: RowVariant[] = [];
      for (const e of part) {
        for (const v of make(e)) {
          ex.push(e);
          vs.push(v);
        }
      }
      const f = batchForwardFlops(config, t, ex, vs);
      executed += f.executed;
      useful += f.useful;
      rowCount += f.rows;
    }
    return { executed, useful, rows: rowCount };
  };
  const baseFlops = chunkFlops(() => [plain]);
  const masked2 = (e: EncodedExample): RowVariant[] => [
    plain,
    ...(e.text.length > 0 ? [{ ...plain, textStride: 2 }] : []),
    ...(e.image !== null ? [{ ...plain, imageStride: 2 }] : []),
  ];

  const baselineKind = kind(
    'baseline step (standardStep: weightedGradients)',
    (b) => () => standardStep(model, b, 'multimodal', samplesPerCall),
    baseFlops,
  );
  // The baseline objective through the per-row-gradient path (Gram diagonal only, as AimKP's pairs-only Gram): the like-for-like reference
  // for AimKP's gradient machinery.
  const perRowKind = kind(
    'baseline objective via perRowGradients',
    (b) => () => perRowStandardStep(model, b, samplesPerCall),
    baseFlops,
  );
  const settings: AimkpSettings = preset.aimkp;
  const aimkpWith = (warmup: boolean) => (b: EncodedExample[]) => () =>
    aimkpStep(model, b, {
      settings,
      strides: new StrideState(b.length, { ...settings.stride, warmup }),
      seed: o.seed,
      epoch: 1,
      samplesPerCall,
    });
  const warmupKind = kind('AimKP warm-up step (strides 1)', aimkpWith(true), baseFlops);
  const maskedKind = kind('AimKP masked step (strides 2/2)', aimkpWith(false), chunkFlops(masked2));
  log(`bench: timing ${steps} rounds of ${kinds.length} step kinds`);
  timeAll();
  const baseline = result(baselineKind);
  const perRowBaseline = result(perRowKind);
  const warmup = result(warmupKind);
  const masked = result(maskedKind);
  optimizer.dispose();

  const peakSizes = o.quick ? [64, 128] : [256, 512, 1024];
  const matmul = await measureMatmulPeak(peakSizes, o.quick ? 1 : 3);
  const measuredGflops = Math.max(...matmul.map((p) => p.gflops));
  const theo = theoreticalPeak(mi);
  log(`bench: matmul peak ${measuredGflops.toFixed(1)} GFLOP/s`);

  const predictCases = batch.slice(0, o.quick ? 2 : 4).map((e) => ({ ...e, answer: new Int32Array(0) }));
  const timeDecode = (strategy: 'greedy' | 'beam', beamSize: number) => {
    model.generate(predictCases.slice(0, 1), 'multimodal', {
      strategy,
      beamSize,
      temperature: 1,
      maxNewTokens: 1,
      seed: 1,
    });
    const t0 = performance.now();
    const out = model.generate(predictCases, 'multimodal', {
      strategy,
      beamSize,
      temperature: 1,
      maxNewTokens: maxNew,
      seed: 1,
    });
    const ms = performance.now() - t0;
    return { msPerCase: ms / predictCases.length, meanNewTokens: out.reduce((s, a) => s + a.length, 0) / out.length };
  };
  const greedy = timeDecode('greedy', 1);
  log(`bench: greedy decode ${greedy.msPerCase.toFixed(0)} ms/case`);
  const beam5 = timeDecode('beam', 5);
  log(`bench: beam-5 decode ${beam5.msPerCase.toFixed(0)} ms/case`);
  model.dispose();

  const aimkpEpochs = preset.epochs;
  const baselineEpochs = getPreset('baseline')?.epochs ?? 6;
  const ratios = (ref: StepTiming) => {
    const aimkpRun = warmup.msPerSample + (aimkpEpochs - 1) * masked.msPerSample;
    return {
      perMaskedEpoch: masked.msPerSample / ref.msPerSample,
      warmupEpoch: warmup.msPerSample / ref.msPerSample,
      averagedOverRun: aimkpRun / (aimkpEpochs * ref.msPerSample),
      averagedOverRunWarmupAtBaselineCost:
        (ref.msPerSample + (aimkpEpochs - 1) * masked.msPerSample) / (aimkpEpochs * ref.msPerSample),
      runVsBaselineRun: aimkpRun / (baselineEpochs * ref.msPerSample),
    };
  };
  const vsTrainerBaseline = ratios(baseline);
  const vsPerRowBaseline = ratios(perRowBaseline);
  // The achieved rate of the trainer's own steps (the best of its baseline, AimKP warm-up and AimKP masked steps).
  const fraction = Math.max(baseline.achievedGflops, warmup.achievedGflops, masked.achievedGflops) / measuredGflops;
  return {
    benchmark: 'aimkp-bench-v1',
    quick: o.quick,
    date: new Date().toISOString(),
    machine: {
      ...mi,
      loadAverage1mAtEnd: loadavg()[0],
      backend: describeBackend(info),
      backendName: info.name,
      simd: info.simd ?? null,
      threads: info.threads ?? null,
    },
    setup: {
      model: config,
      parameters,
      batchSize,
      samplesPerCall,
      rows: rows.source,
      meanTextTokens: rows.meanTextTokens,
      meanAnswerTokens: rows.meanAnswerTokens,
      imageTokens: grid * grid,
    },
    train: {
      baseline,
      baselinePerRowPath: perRowBaseline,
      aimkpWarmup: warmup,
      aimkpMasked: masked,
      aimkpEpochs,
      baselineEpochs,
      ratio: vsTrainerBaseline,
      ratioVsPerRowBaseline: vsPerRowBaseline,
    },
    peak: {
      matmul,
      measuredGflops,
      theoretical: theo,
      baselineFractionOfMeasured: baseline.achievedGflops / measuredGflops,
      baselinePerRowFractionOfMeasured: perRowBaseline.achievedGflops / measuredGflops,
      aimkpWarmupFractionOfMeasured: warmup.achievedGflops / measuredGflops,
      aimkpFractionOfMeasured: masked.achievedGflops / measuredGflops,
      measuredFractionOfTheoretical:
        theo.perCoreGflops === null ? null : measuredGflops / (theo.perCoreGflops * Math.max(1, info.threads ?? 1)),
    },
    predict: {
      cases: predictCases.length,
      maxNewTokens: maxNew,
      greedy,
      beam5,
      note: 'untrained weights rarely emit EOS early, so these are close to worst-case times (meanNewTokens: tokens actually decoded per case)',
    },
    goals: {
      ratioAtMost1_5: {
        value: vsTrainerBaseline.perMaskedEpoch,
        met: vsTrainerBaseline.perMaskedEpoch <= 1.5,
        likeForLike: vsPerRowBaseline.perMaskedEpoch,
        likeForLikeMet: vsPerRowBaseline.perMaskedEpoch <= 1.5,
        against:
          "per masked epoch, vs the trainer's baseline step (likeForLike: vs the baseline objective on the per-row-gradient path)",
      },
      peakAtLeast30pct: {
        value: fraction,
        met: fraction >= 0.3,
        against:
          'best training step (baseline, AimKP warm-up or AimKP masked) vs the measured tf.matMul peak on the same backend',
      },
    },
  };
}

/** Frees the tf memory the bench left (none expected); exported for tests. */
export function tensorsInUse(): number {
  return tf.memory().numTensors;
}
