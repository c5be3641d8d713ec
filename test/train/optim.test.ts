import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, mkdirSync, writeFileSync, renameSync, existsSync, readdirSync, rmSync } from 'node:fs';

const temps: string[] = [];
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, ADAMW_DEFAULTS, defaultAdamWKernel, paramSlots, type AdamWKernel } from '../../models/train/adamw';
import { initBackend } from '../../models/tf/backend';
import { mulberry32 } from '../../models/random/mulberry32';
import { lrFactor, warmupSteps } from '../../models/train/schedule';
import { advanceStride, aimkpWeights, gramCosine, keepMasked, type PlannedRow } from '../../models/train/aimkp-weights';
import { resolveConfig } from '../../models/train/config-resolve';
import { StrideState } from '../../models/train/stride-state';
import { PRESET_NAMES, getPreset } from '../../models/train/presets';
import { writeCheckpoint, readCheckpoint, cleanTempFolders } from '../../models/run/checkpoint-io';
import {
  adamwBlob,
  adamwStateOf,
  emptyEpochStats,
  trainStateOf,
  type TrainState,
} from '../../models/train/checkpoint-parts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('AdamW: constant gradient moves each weight by lr·sign(g) after decoupled decay (hand-computed)', () => {
  const p = tf.variable(tf.tensor1d([1, -2]), true, 'lm/w');
  const opt = new AdamW([{ name: 'lm/w', variable: p, group: 'lm' }], {
    ...ADAMW_DEFAULTS,
    lr: 0.1,
    adapterLr: 0,
    weightDecay: 0.01,
    clipNorm: null,
  });
  const g = tf.tensor1d([0.5, -0.1]);
  opt.apply([g], 1);
  // p·(1 − 0.1·0.01) − 0.1·sign(g): bias-corrected m̂ = g and v̂ = g² at step 1.
  close(p.dataSync(), [0.999 - 0.1, -1.998 + 0.1]);
  opt.apply([g], 1);
  close(p.dataSync(), [0.899 * 0.999 - 0.1, -1.898 * 0.999 + 0.1]);
});

test('AdamW: second step with a new gradient equals the torch.optim.AdamW formula', () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = new AdamW([{ name: 'w', variable: p, group: 'lm' }], {
    ...ADAMW_DEFAULTS,
    lr: 0.1,
    adapterLr: 0,
    weightDecay: 0.01,
    clipNorm: null,
  });
  opt.apply([tf.tensor1d([0.5, -0.1])], 1);
  opt.apply([tf.tensor1d([0.1, 0.3])], 1);
  // Reference values from the torch update rule evaluated in float64 (see docs/training.md).
  close(p.dataSync(), [0.8177969063826517, -1.9455209911100655]);
  const s = opt.exportState();
  assert.equal(s.step, 2);
  close(s.m[0], [0.055, 0.021]);
  close(s.v[0], [0.00025975, 0.00009999], 1e-9);
});

test('AdamW: two learning-rate groups, schedule factor, global-norm clipping, state round trip', () => {
  const a = tf.variable(tf.tensor1d([0, 0]), true, 'a');
  const b = tf.variable(tf.tensor1d([0]), true, 'b');
  const named = new Map([
    ['adapter/fc1/kernel', a],
    ['lm/layer0/wq', b],
  ]);
  const slots = paramSlots([a, b], named, /^adapter/);
  assert.deepEqual(
    slots.map((s) => s.group),
    ['adapter', 'lm'],
  );
  const opt = new AdamW(slots, { ...ADAMW_DEFAULTS, lr: 0.2, adapterLr: 0.02, clipNorm: 1 });
  const info = opt.apply([tf.tensor1d([3, 0]), tf.tensor1d([-4])], 0.5);
  assert.ok(Math.abs(info.gradNorm - 5) < 1e-6);
  assert.equal(info.lr, 0.1);
  assert.equal(info.adapterLr, 0.01);
  close(a.dataSync(), [-0.01, 0]);
  close(b.dataSync(), [0.1]);
  // Clipped gradient: g · 1/(5 + 1e-6) → first moment 0.1·g_clipped.
  const st = opt.exportState();
  close(st.m[0], [(0.1 * 3) / 5, 0]);
  close(st.m[1], [(0.1 * -4) / 5]);
  const opt2 = new AdamW(slots, opt.options);
  opt2.importState(st);
  assert.deepEqual(opt2.exportState(), st);
});

/** Runs `steps` updates of one kernel on fresh copies of two parameters; returns the weights and moments. */
function runKernel(kernel: AdamWKernel, steps: number, weightDecay: number, clipNorm: number | null) {
  const rand = mulberry32(7);
  // Values across magnitudes, with zeros and subnormal-range gradients (the rounding corners).
  const draw = (n: number, scale: number) =>
    Float32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? 0 : (rand() - 0.5) * scale * 10 ** -(i % 9)));
  const a = tf.variable(tf.tensor(draw(96, 2), [8, 12]));
  const b = tf.variable(tf.tensor(draw(257, 1), [257]));
  const opt = new AdamW(
    [
      { name: 'adapter/w', variable: a, group: 'adapter' },
      { name: 'lm/w', variable: b, group: 'lm' },
    ],
    { ...ADAMW_DEFAULTS, lr: 3e-3, adapterLr: 7e-4, weightDecay, clipNorm },
    kernel,
  );
  const norms: number[] = [];
  for (let t = 0; t < steps; t++) {
    // Large gradients on odd steps so that clipping happens on some steps and not on others.
    const scale = t % 2 === 1 ? 50 : 0.05;
    const grads = [tf.tensor(draw(96, scale), [8, 12]), tf.tensor(draw(257, scale * 1e-30), [257])];
    norms.push(opt.apply(grads, 1 - t / (steps + 1)).gradNorm);
    tf.dispose(grads);
  }
  const out = {
    a: Float32Array.from(a.dataSync()),
    b: Float32Array.from(b.dataSync()),
    state: opt.exportState(),
    norms,
  };
  opt.dispose();
  a.dispose();
  b.dispose();
  return out;
}

test('AdamW: the fused wasm kernel gives the tf-ops update bit for bit', async (t) => {
  await initBackend();
  if (defaultAdamWKernel() !== 'fused') return t.skip(`no fused kernel on the ${tf.getBackend()} backend here`);
  for (const [wd, clip] of [
    [0.01, 1],
    [0, null],
  ] as const) {
    const fused = runKernel('fused', 6, wd, clip);
    const ops = runKernel('tf-ops', 6, wd, clip);
    const where = `weight decay ${wd}, clip ${clip}`;
    assert.deepEqual(fused.norms, ops.norms, where);
    // deepEqual on Float32Arrays compares every element with Object.is: bit-level equality (±0 and NaN included).
    assert.deepEqual(fused.a, ops.a, `adapter weights, ${where}`);
    assert.deepEqual(fused.b, ops.b, `lm weights, ${where}`);
    assert.deepEqual(fused.state, ops.state, `moments, ${where}`);
    assert.notDeepEqual(fused.a, runKernel('fused', 5, wd, clip).a, 'the steps change the weights');
  }
});

test('AdamW: the kernel follows the backend (fused on wasm; tensor ops, and a clear refusal of fused, on cpu)', async () => {
  await tf.setBackend('cpu');
  try {
    assert.equal(defaultAdamWKernel(), 'tf-ops');
    const p = tf.variable(tf.zeros([3]));
    assert.throws(
      () => new AdamW([{ name: 'w', variable: p, group: 'lm' }], { ...ADAMW_DEFAULTS, lr: 1, adapterLr: 1 }, 'fused'),
      /fused kernel needs the wasm backend's kernels \(backend: cpu\)/,
    );
    p.dispose();
  } finally {
    await initBackend();
  }
  if (tf.getBackend() === 'wasm') assert.equal(defaultAdamWKernel(), 'fused');
});

test('cosine schedule with linear warm-up (HF formula) at known steps', () => {
  const o = { totalSteps: 100, warmupRatio: 0.03 };
  assert.equal(warmupSteps(o), 3);
  assert.equal(lrFactor(0, o), 0);
  assert.ok(Math.abs(lrFactor(1, o) - 1 / 3) < 1e-12);
  assert.equal(lrFactor(3, o), 1);
  assert.ok(Math.abs(lrFactor(3 + 97 / 2, o) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrFactor(3 + 97 / 4, o) - 0.5 * (1 + Math.SQRT1_2)) < 1e-12);
  assert.ok(lrFactor(100, o) < 1e-12);
  assert.equal(lrFactor(0, { totalSteps: 10, warmupRatio: 0 }), 1);
});

/** Gram matrix of explicit toy gradient vectors. */
function gramOf(vectors: number[][]): Float64Array {
  const R = vectors.length;
  const g = new Float64Array(R * R);
  for (let i = 0; i < R; i++)
    for (let j = 0; j < R; j++) g[i * R + j] = vectors[i].reduce((s, x, k) => s + x * vectors[j][k], 0);
  return g;
}

test('AimKP weighting: rejected image row gets 0, kept rows share n_i / (k_i · N)', () => {
  const rows: PlannedRow[] = [
    { sample: 0, kind: 'original' },
    { sample: 0, kind: 'text' },
    { sample: 0, kind: 'image' },
    { sample: 1, kind: 'original' },
    { sample: 1, kind: 'image' },
  ];
  // cos(r0, r1) = 1/√2 > 0.1 keep; cos(r0, r2) = 0 ≤ 0.4 reject; cos(r3, r4) = 1/√2 > 0.4 keep.
  const gram = gramOf([
    [1, 0],
    [1, 1],
    [0, 1],
    [0, 2],
    [1, 1],
  ]);
  const tokens = Int32Array.from([3, 3, 3, 5, 5]);
  const w = aimkpWeights(rows, gram, tokens, { filter: true, tauText: 0.1, tauImage: 0.4 });
  close(w.weights, [3 / 16, 3 / 16, 0, 5 / 16, 5 / 16], 1e-12);
  assert.equal(w.totalAnswerTokens, 8);
  assert.deepEqual(
    w.decisions.map((d) => [d.acceptText, d.acceptImage, d.kept]),
    [
      [true, false, 2],
      [null, true, 2],
    ],
  );
  assert.ok(Math.abs(w.decisions[0].cosText! - Math.SQRT1_2) < 1e-12);
  assert.equal(w.decisions[0].cosImage, 0);
  // Filter off: everything kept, sample 0 splits 3/8 over three rows.
  const all = aimkpWeights(rows, gram, tokens, { filter: false, tauText: 0.1, tauImage: 0.4 });
  close(all.weights, [1 / 8, 1 / 8, 1 / 8, 5 / 16, 5 / 16], 1e-12);
  // Un-normalized (multi-call batches): n_i / k_i.
  close(
    aimkpWeights(rows, gram, tokens, { filter: true, tauText: 0.1, tauImage: 0.4 }, 1).weights,
    [1.5, 1.5, 0, 2.5, 2.5],
    1e-12,
  );
});

test('tie rule as released: kept when cos ≥ tau, stride advances only when cos > tau; zero gradients give cos 0', () => {
  assert.equal(keepMasked(0.4, 0.4, true), true);
  assert.equal(advanceStride(0.4, 0.4, true), false);
  assert.equal(keepMasked(0.3999999, 0.4, true), false);
  assert.equal(advanceStride(0.4000001, 0.4, true), true);
  assert.equal(keepMasked(-1, 0.4, false), true);
  assert.equal(advanceStride(-1, 0.4, false), true);
  const rows: PlannedRow[] = [
    { sample: 0, kind: 'original' },
    { sample: 0, kind: 'text' },
  ];
  // cos = 0.5 exactly (vectors at 60°) with tau_t = 0.5 → kept (weight split over 2 rows), stride does not advance.
  const gram = gramOf([
    [1, 0],
    [0.5, Math.sqrt(3) / 2],
  ]);
  assert.ok(Math.abs(gramCosine(gram, 2, 0, 1) - 0.5) < 1e-12);
  const atTau = aimkpWeights(rows, Float64Array.from([1, 0.5, 0.5, 1]), [2, 2], {
    filter: true,
    tauText: 0.5,
    tauImage: 0.4,
  });
  assert.deepEqual([atTau.decisions[0].acceptText, atTau.decisions[0].advanceText], [true, false]);
  close(atTau.weights, [0.5, 0.5]);
  // Just below the threshold: rejected, weight 0.
  const below = aimkpWeights(rows, Float64Array.from([1, 0.5, 0.5, 1]), [2, 2], {
    filter: true,
    tauText: 0.5000001,
    tauImage: 0.4,
  });
  assert.deepEqual([below.decisions[0].acceptText, below.decisions[0].advanceText], [false, false]);
  close(below.weights, [1, 0]);
  // The stride after a tie: the rejection transition (halve, at least 2, frozen).
  const strides = new StrideState(1, { rule: 'progressive', fixedStride: 2, warmup: true });
  strides.update('text', 0, true); // warm-up 1 → 2
  strides.update('text', 0, true); // advanced 2 → 4
  strides.update('text', 0, atTau.decisions[0].advanceText!);
  assert.deepEqual([strides.get('text', 0), strides.isFrozen('text', 0)], [2, true]);
  assert.equal(gramCosine(Float64Array.from([0, 0, 0, 1]), 2, 0, 1), 0);
});

test('presets: every name resolves; the tau sweep and ablations change what they say', () => {
  for (const name of PRESET_NAMES) assert.equal(resolveConfig({ preset: name }).preset, name);
  const a = getPreset('aimkp')!;
  assert.equal(a.epochs, 4);
  assert.deepEqual(
    [a.aimkp!.tauText, a.aimkp!.tauImage, a.aimkp!.stride.warmup, a.aimkp!.maskKind],
    [0.1, 0.4, true, 'structured'],
  );
  assert.equal(getPreset('baseline')!.epochs, 6);
  assert.equal(getPreset('image-specialist')!.mode, 'image');
  assert.deepEqual(
    [getPreset('aimkp-tau-0.05-0.15')!.aimkp!.tauText, getPreset('aimkp-tau-0.05-0.15')!.aimkp!.tauImage],
    [0.05, 0.15],
  );
  assert.equal(getPreset('aimkp-no-filter')!.aimkp!.filter, false);
  assert.equal(getPreset('aimkp-pool')!.aimkp!.maskKind, 'pool');
  assert.equal(getPreset('aimkp-fixed-4')!.aimkp!.stride.fixedStride, 4);
  assert.equal(getPreset('aimkp-no-warmup')!.aimkp!.stride.warmup, false);
  // Presets are copies: mutating one does not change the table.
  a.aimkp!.tauText = 0.9;
  assert.equal(getPreset('aimkp')!.aimkp!.tauText, 0.1);
});

test('--config overrides nested fields; errors name the file and the field; flags win', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-cfg-'));
  temps.push(dir);
  const file = join(dir, 'c.json');
  writeFileSync(
    file,
    JSON.stringify({
      epochs: 2,
      aimkp: { tauImage: 0.3, stride: { rule: 'linear' } },
      model: { lora: { rank: 4, alpha: 8, dropout: 0 } },
    }),
  );
  const c = resolveConfig({ preset: 'aimkp', configFile: file, flags: { epochs: 3 } });
  assert.deepEqual(
    [c.epochs, c.aimkp!.tauImage, c.aimkp!.tauText, c.aimkp!.stride.rule, c.aimkp!.stride.warmup, c.model.lora?.rank],
    [3, 0.3, 0.1, 'linear', true, 4],
  );
  writeFileSync(file, JSON.stringify({ aimkp: { tauTxt: 0.3 } }));
  assert.throws(
    () => resolveConfig({ preset: 'aimkp', configFile: file }),
    (e: Error) => e.message.includes(file) && e.message.includes('"aimkp.tauTxt"') && /unknown/.test(e.message),
  );
  writeFileSync(file, JSON.stringify({ lr: '0.1' }));
  assert.throws(() => resolveConfig({ preset: 'aimkp', configFile: file }), /field "lr": expected a number/);
  writeFileSync(file, JSON.stringify({ aimkp: { tauText: 2 } }));
  assert.throws(() => resolveConfig({ preset: 'aimkp', configFile: file }), /field "aimkp.tauText"/);
  writeFileSync(file, '{\n "epochs": 2,\n oops\n}');
  assert.throws(() => resolveConfig({ preset: 'aimkp', configFile: file }), /line 3: invalid JSON/);
  assert.throws(() => resolveConfig({ preset: 'nope' }), /unknown preset "nope"/);
});

function state(globalStep: number): TrainState {
  return {
    version: 1,
    epoch: 0,
    stepInEpoch: globalStep,
    globalStep,
    dataOrder: [1, 0],
    rngState: [1, 2, 3, 4],
    strideText: [2, 4],
    strideImage: [1, 2],
    frozenText: [false, true],
    frozenImage: [false, false],
    bestScore: null,
    bestEpoch: null,
    history: [],
    epochStats: emptyEpochStats(),
  };
}

test('checkpoints: exact round trip; a crash mid-write or mid-swap leaves the previous checkpoint loadable', async () => {
  const run = mkdtempSync(join(tmpdir(), 'aimkp-ckpt-'));
  temps.push(run);
  const tmpRoot = join(run, 'checkpoints');
  const target = join(tmpRoot, 'last');
  const w1 = new Map<string, tf.Tensor>([
    [
      'adapter/w',
      tf.tensor2d([
        [1.5, -2.25],
        [3, 4],
      ]),
    ],
    ['lm/b', tf.tensor1d([0.1])],
  ]);
  const opt = {
    step: 7,
    names: ['adapter/w'],
    m: [Float32Array.from([1, 2, 3, 4])],
    v: [Float32Array.from([5, 6, 7, 8])],
  };
  await writeCheckpoint(
    target,
    { weights: w1, optimizer: adamwBlob(opt), state: state(7), modelInfo: { dModel: 2 } },
    tmpRoot,
  );
  const first = await readCheckpoint(target, true);
  assert.deepEqual(Array.from(first.weights['adapter/w'].dataSync()), [1.5, -2.25, 3, 4]);
  assert.deepEqual(trainStateOf(first), state(7));
  assert.deepEqual(adamwStateOf(first.optimizer!, first.dir), opt);
  // The run format stores the optimizer opaquely: a header and named arrays, as the trainer handed them in.
  assert.deepEqual(first.optimizer!.header, { format: 'aimkp-adamw-v1', step: 7, names: ['adapter/w'] });
  assert.deepEqual([...first.optimizer!.arrays.keys()], ['m/adapter/w', 'v/adapter/w']);
  first.optimizer!.arrays.delete('v/adapter/w');
  assert.throws(() => adamwStateOf(first.optimizer!, first.dir), /optimizer\.bin: moment "v\/adapter\/w" missing/);
  assert.deepEqual(first.modelInfo, { dModel: 2 });

  // Crash while writing the next one: a half-written temp folder (no state.json) next to last/.
  const partial = join(tmpRoot, '.tmp-99999-1');
  mkdirSync(partial);
  writeFileSync(join(partial, 'weights.bin'), Buffer.alloc(3));
  assert.equal((await readCheckpoint(target, true)).state.globalStep, 7);

  // Crash in the middle of the swap: last/ already renamed to .prev-last, the new folder not yet in place.
  renameSync(target, join(tmpRoot, '.prev-last'));
  const fallback = await readCheckpoint(target, true);
  assert.equal(fallback.state.globalStep, 7);
  assert.ok(fallback.dir.endsWith('.prev-last'));

  // The next successful write replaces both, and the leftover temp folder can be cleaned.
  await writeCheckpoint(target, { weights: w1, optimizer: null, state: state(9), modelInfo: null }, tmpRoot);
  assert.equal((await readCheckpoint(target, false)).state.globalStep, 9);
  assert.ok(!existsSync(join(tmpRoot, '.prev-last')));
  assert.deepEqual(await cleanTempFolders(tmpRoot), ['.tmp-99999-1']);
  assert.deepEqual(readdirSync(tmpRoot), ['last']);
  await assert.rejects(readCheckpoint(join(tmpRoot, 'nothing'), false), /no complete checkpoint/);
});
