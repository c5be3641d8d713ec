// The data-parallel parts against their single-thread counterparts, on the same inputs: a K = 2 step's summed
// gradient, loss and AimKP decisions (baseline and masked AimKP step; same samples, same strides, dropout 0), every
// rank's replica and optimizer state equal to rank 0's bit for bit after its own updates (also after a resume),
// decoding and
// validation (identical predictions: same batches on identical replicas), image encoding through the cache (the
// same features in the same order, the same issues), and evaluation / robustness jobs end to end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import type { EncodedExample } from '../../models/lm/contract';
import { Replicas } from '../../models/parallel/replicas';
import type { MemoryReply, StateReply } from '../../models/parallel/pool-protocol';
import { AdamW, ADAMW_DEFAULTS, paramSlots } from '../../models/train/adamw';
import { hashSeed } from '../../models/train/rng';
import type { KeyphraseLM } from '../../models/lm/contract';
import { wasmKernelCalls, wasmKernelsReady } from '../../models/lm/wasm-kernels';
import { parallelStep, shardRanges } from '../../models/train/parallel-step';
import { decodeParallel } from '../../models/parallel/parallel-decode';
import { encodeImagesParallel } from '../../models/parallel/parallel-encode';
import { aimkpStep, standardStep } from '../../models/train/train-step';
import { StrideState } from '../../models/train/stride-state';
import { validate } from '../../models/train/validate';
import { train } from '../../models/train/trainer';
import { resolveConfig } from '../../models/train/config-resolve';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { loadDataset } from '../../models/data/load-dataset';
import { encodeImages } from '../../models/vision/feature-cache';
import { loadImageEncoder } from '../../models/vision/load-image-encoder';
import { loadRunForInference } from '../../models/run/run-loader';
import { encodeRunSplit, openRun } from '../../models/evaluate/open-run';
import { predictSplit } from '../../models/evaluate/evaluate-run';
import { runRobustness } from '../../models/evaluate/robustness-run';
import { readPredictionFile } from '../../models/evaluate/prediction-file';
import { getPreset } from '../../models/train/presets';
import { makeExample, maxRelErr, randomizeVariables, TEMPLATE, tinyConfig } from '../lm/fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-dp-parts-'));
const data = join(root, 'data');
const runDir = join(root, 'run');
before(async () => {
  await initBackend('wasm');
  await buildSynthDataset({ n: 40, seed: 7, out: data });
});
after(() => rmSync(root, { recursive: true, force: true }));

test('shards: contiguous, sizes differ by at most one, larger first', () => {
  assert.deepEqual(shardRanges(7, 3), [
    [0, 3],
    [3, 5],
    [5, 7],
  ]);
  assert.deepEqual(shardRanges(1, 2), [
    [0, 1],
    [1, 1],
  ]);
});

const config = tinyConfig({ vocabSize: 40, maxPositions: 64 });
const examples: EncodedExample[] = Array.from({ length: 7 }, (_, i) =>
  makeExample(i, config, 3 + ((i * 5) % 7), [6 + (i % 5), 7 + ((i * 3) % 9), 8]),
);
const flat = (ts: tf.Tensor[]) => Float32Array.from(ts.flatMap((t) => Array.from(t.dataSync())));
/** An optimizer over every trainable variable (the trainer's), the replicas' flat layout in the same order. */
const adamw = (model: KeyphraseLM) =>
  new AdamW(paramSlots(model.trainableVariables(), model.namedVariables(), /^adapter/), {
    ...ADAMW_DEFAULTS,
    lr: 1e-2,
    adapterLr: 1e-3,
    weightDecay: 0.01,
  });

test('a K = 2 step: the baseline and a masked AimKP step give the K = 1 gradient, loss and decisions', async () => {
  const model = createKeyphraseLM(config, TEMPLATE, 11);
  // Non-trivial weights: the rows' gradients then point in visibly different directions.
  randomizeVariables(model.namedVariables().values(), 3);
  const optimizer = adamw(model);
  const replicas = Replicas.start(2, 'wasm');
  const tensors = tf.memory().numTensors;
  try {
    await replicas.setModel(model, 11, optimizer.setup());
    await replicas.shareExamples('train', examples, false);
    const positions = examples.map((_, i) => i);
    const workerTensors = async () => (await replicas.request<MemoryReply>(1, { t: 'memory' }).reply).numTensors;
    const onWorker = await workerTensors();

    const one = standardStep(model, examples, 'multimodal', 2);
    const two = await parallelStep(replicas, {
      model,
      optimizer,
      lrFactor: 1,
      set: 'train',
      positions,
      batch: examples,
      samplesPerCall: 2,
      seed: 1,
      step: 0,
      method: { kind: 'standard', mode: 'multimodal' },
    });
    // The summed gradient every rank applied stays in the shared sum until the next step.
    assert.ok(maxRelErr(replicas.sum, flat(one.grads)) < 1e-5, 'baseline gradient');
    assert.ok(Math.abs(two.loss - one.loss) < 1e-6 * one.loss, `loss ${two.loss} vs ${one.loss}`);
    assert.ok(Math.abs(two.variantLoss.original - one.variantLoss.original) < 1e-6 * one.loss);
    assert.equal(two.rows, one.rows);
    tf.dispose(one.grads);

    // Masked: strides 2 everywhere (no warm-up), thresholds between the cosines so that some rows pass.
    const settings = {
      ...getPreset('aimkp')!.aimkp!,
      stride: { rule: 'progressive' as const, fixedStride: 2, warmup: false },
    };
    const probe = new StrideState(examples.length, settings.stride);
    const p = aimkpStep(model, examples, {
      settings: { ...settings, filter: false },
      strides: probe,
      seed: 1,
      epoch: 1,
      samplesPerCall: 2,
    });
    tf.dispose(p.grads);
    // Halfway between the two middle cosines: the rows above pass, the rows below do not.
    const middle = (xs: number[]) => {
      const sorted = xs.sort((a, b) => a - b);
      return (sorted[3] + sorted[4]) / 2;
    };
    const masked = {
      ...settings,
      tauText: middle(p.samples.map((s) => s.cosText!)),
      tauImage: middle(p.samples.map((s) => s.cosImage!)),
    };
    const s1 = new StrideState(examples.length, settings.stride);
    const s2 = new StrideState(examples.length, settings.stride);
    const a = aimkpStep(model, examples, { settings: masked, strides: s1, seed: 1, epoch: 1, samplesPerCall: 2 });
    const b = await parallelStep(replicas, {
      model,
      optimizer,
      lrFactor: 0.5,
      set: 'train',
      positions,
      batch: examples,
      samplesPerCall: 2,
      seed: 1,
      step: 0,
      method: { kind: 'aimkp', settings: masked, strides: s2, seed: 1, epoch: 1 },
    });
    assert.ok(a.checked.text === 7 && a.checked.image === 7);
    assert.deepEqual(a.accepted, { text: 3, image: 3 }, 'some rows pass the filter, some do not');
    assert.ok(maxRelErr(replicas.sum, flat(a.grads)) < 1e-5, 'AimKP gradient');
    assert.ok(Math.abs(b.loss - a.loss) < 1e-5 * a.loss, `loss ${b.loss} vs ${a.loss}`);
    for (const k of ['original', 'text', 'image'] as const)
      assert.ok(Math.abs(b.variantLoss[k]! - a.variantLoss[k]!) < 1e-5 * a.variantLoss[k]!, k);
    assert.deepEqual(b.accepted, a.accepted);
    assert.equal(b.rows, a.rows);
    assert.deepEqual(
      b.samples.map((s) => [s.index, s.strideText, s.strideImage, s.acceptText, s.acceptImage]),
      a.samples.map((s) => [s.index, s.strideText, s.strideImage, s.acceptText, s.acceptImage]),
    );
    b.samples.forEach((s, i) => {
      assert.ok(Math.abs(s.cosText! - a.samples[i].cosText!) < 1e-4);
      assert.ok(Math.abs(s.cosImage! - a.samples[i].cosImage!) < 1e-4);
    });
    assert.deepEqual(s2.toJSON(), s1.toJSON(), 'the same stride moves, frozen flags included');
    // The worker thread has its own wasm instance, and the project's kernels registered there on first use.
    const worker = await replicas.request<MemoryReply>(1, { t: 'memory' }).reply;
    assert.equal(worker.backend, 'wasm');
    assert.ok(wasmKernelsReady() && wasmKernelCalls() > 0, "this thread's steps ran the project's wasm kernels");
    assert.ok(worker.wasmKernelCalls > 0, "the worker's shards ran them too, in its own wasm instance");
    tf.dispose(a.grads);
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left on this thread');
    // The worker applied three updates and ran three shards: nothing left there either.
    await parallelStep(replicas, {
      model,
      optimizer,
      lrFactor: 1,
      set: 'train',
      positions,
      batch: examples,
      samplesPerCall: 2,
      seed: 1,
      step: 1,
      method: { kind: 'standard', mode: 'multimodal' },
    });
    assert.equal(await workerTensors(), onWorker, 'no tensor left on the worker');
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left on this thread after the updates');
  } finally {
    await replicas.close();
    optimizer.dispose();
    model.dispose();
  }
});

test('K = 3: every rank sums a range of the gradient; a rank with an empty shard adds nothing (stale slot left out) but applies the update', async () => {
  const model = createKeyphraseLM(config, TEMPLATE, 11);
  randomizeVariables(model.namedVariables().values(), 5);
  const optimizer = adamw(model);
  const replicas = Replicas.start(3, 'wasm');
  try {
    await replicas.setModel(model, 11, optimizer.setup());
    await replicas.shareExamples('train', examples, false);
    const method = { kind: 'standard' as const, mode: 'multimodal' as const };
    for (const n of [5, 2]) {
      // 5 samples: every rank's slot gets a gradient; then 2: rank 2's shard is empty and its slot stale.
      const batch = examples.slice(0, n);
      const one = standardStep(model, batch, 'multimodal', 2);
      const three = await parallelStep(replicas, {
        model,
        optimizer,
        lrFactor: 1,
        set: 'train',
        positions: batch.map((_, i) => i),
        batch,
        samplesPerCall: 2,
        seed: 1,
        step: n,
        method,
      });
      assert.ok(maxRelErr(replicas.sum, flat(one.grads)) < 1e-5, `gradient of ${n} samples`);
      assert.ok(Math.abs(three.loss - one.loss) < 1e-6 * one.loss);
      tf.dispose(one.grads);
    }
  } finally {
    await replicas.close();
    optimizer.dispose();
    model.dispose();
  }
});

/** Rank 0's optimizer parameters and state, as a worker's StateReply holds them. */
function stateOf(optimizer: AdamW, updates: number): StateReply {
  return {
    updates,
    weights: optimizer.slots.map((s) => ({ name: s.name, values: Float32Array.from(s.variable.dataSync()) })),
    optimizer: optimizer.exportState(),
  };
}

/** Steps of a small run: batch sizes (7 = 3 + 2 + 2 on K = 3; 2 leaves rank 2 an empty shard) and LR factors. */
const RUN_STEPS = [
  { n: 7, lr: 0.5 },
  { n: 5, lr: 1 },
  { n: 2, lr: 1 },
  { n: 7, lr: 0.75 },
];

/** `steps` optimizer steps over `replicas` from RUN_STEPS[from], dropout reseeded per step as the trainer does. */
async function runSteps(replicas: Replicas, model: KeyphraseLM, optimizer: AdamW, from: number, to: number) {
  for (let k = from; k < to; k++) {
    const { n, lr } = RUN_STEPS[k];
    const batch = examples.slice(k % 2, (k % 2) + n);
    model.reseedDropout(hashSeed(1, k, 0xd5));
    await parallelStep(replicas, {
      model,
      optimizer,
      lrFactor: lr,
      set: 'train',
      positions: batch.map((_, i) => i + (k % 2)),
      batch,
      samplesPerCall: 2,
      seed: 1,
      step: k,
      method: { kind: 'standard', mode: 'multimodal' },
    });
  }
}

async function workerStates(replicas: Replicas): Promise<StateReply[]> {
  const out: StateReply[] = [];
  for (let r = 1; r < replicas.ranks; r++) out.push(await replicas.request<StateReply>(r, { t: 'state' }).reply);
  return out;
}

/** The same bits (Float32Arrays compared byte for byte, so -0 ≠ 0 and NaN = NaN count too). */
function assertSameBits(a: StateReply, b: StateReply, what: string): void {
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  assert.equal(a.updates, b.updates, `${what}: updates`);
  assert.equal(a.optimizer.step, b.optimizer.step, `${what}: optimizer step`);
  assert.deepEqual(
    a.weights.map((w) => w.name),
    b.weights.map((w) => w.name),
  );
  a.weights.forEach((w, i) => assert.ok(bytes(w.values).equals(bytes(b.weights[i].values)), `${what}: ${w.name}`));
  for (const k of ['m', 'v'] as const)
    a.optimizer[k].forEach((x, i) =>
      assert.ok(bytes(x).equals(bytes(b.optimizer[k][i])), `${what}: ${k} of ${a.optimizer.names[i]}`),
    );
}

test("every rank's replica and AdamW state equal rank 0's bit for bit after its own updates; a resume restores them on every rank", async () => {
  const fresh = () => {
    const m = createKeyphraseLM({ ...config, dropout: 0.1 }, TEMPLATE, 11);
    randomizeVariables(m.namedVariables().values(), 9);
    return m;
  };
  const model = fresh();
  const optimizer = adamw(model);
  let replicas = Replicas.start(3, 'wasm');
  let saved: { weights: Map<string, Float32Array>; optimizer: ReturnType<AdamW['exportState']> } | null = null;
  let reference: StateReply;
  try {
    await replicas.setModel(model, 11, optimizer.setup());
    await replicas.shareExamples('train', examples, false);
    await runSteps(replicas, model, optimizer, 0, 2);
    // A checkpoint after 2 steps: rank 0's weights and optimizer state (what the trainer writes).
    saved = {
      weights: new Map([...model.namedVariables()].map(([n, v]) => [n, Float32Array.from(v.dataSync())])),
      optimizer: optimizer.exportState(),
    };
    for (const w of await workerStates(replicas)) assertSameBits(w, stateOf(optimizer, 2), 'after 2 steps');
    await runSteps(replicas, model, optimizer, 2, 4);
    reference = stateOf(optimizer, 4);
    // Rank 2's shard was empty at step 3: it applied the update all the same.
    for (const w of await workerStates(replicas)) assertSameBits(w, reference, 'after 4 steps');
  } finally {
    await replicas.close();
    optimizer.dispose();
    model.dispose();
  }

  // Resume from the checkpoint with K = 3: rank 0 restores, setModel hands its state to every worker; the same
  // bits as the uninterrupted run on every rank. With K = 2 the shards change (so does the sum's rounding, and Adam's
  // first steps amplify it where a gradient is near zero): every rank still equals rank 0 exactly (the trainer-level
  // tolerance of another K is test/parallel/train-parallel.test.ts's).
  for (const k of [3, 2]) {
    const resumed = fresh();
    const opt = adamw(resumed);
    replicas = Replicas.start(k, 'wasm');
    try {
      for (const [n, v] of resumed.namedVariables())
        tf.tidy(() => v.assign(tf.tensor(saved!.weights.get(n)!, v.shape, 'float32')));
      opt.importState(saved!.optimizer);
      await replicas.setModel(resumed, 11, opt.setup());
      await replicas.shareExamples('train', examples, false);
      await runSteps(replicas, resumed, opt, 2, 4);
      const state = stateOf(opt, 2);
      for (const w of await workerStates(replicas)) assertSameBits(w, state, `resumed with K = ${k}`);
      assert.equal(state.optimizer.step, 4, 'the optimizer went on from the restored step count');
      if (k === 3) assertSameBits({ ...state, updates: 4 }, reference!, 'resumed K = 3 vs uninterrupted');
    } finally {
      await replicas.close();
      opt.dispose();
      resumed.dispose();
    }
  }
});

test("a worker's step that fails wakes every rank at the barrier: rank 0 reports that worker's error, nothing hangs", async () => {
  const model = createKeyphraseLM(config, TEMPLATE, 11);
  const optimizer = adamw(model);
  const replicas = Replicas.start(3, 'wasm');
  try {
    await replicas.setModel(model, 11, optimizer.setup());
    // Rank 0 computes its shard from `batch`; the workers look the set up and do not hold it.
    await assert.rejects(
      parallelStep(replicas, {
        model,
        optimizer,
        lrFactor: 1,
        set: 'not-shared',
        positions: examples.map((_, i) => i),
        batch: examples,
        samplesPerCall: 2,
        seed: 1,
        step: 0,
        method: { kind: 'standard', mode: 'multimodal' },
      }),
      (err: Error) => /worker rank [12]: no example set "not-shared" on this worker/.test(err.message),
    );
    assert.equal(optimizer.step, 0, 'rank 0 applied no update');
    // The workers answer again (none is stuck in the barrier).
    const alive = await replicas.request<MemoryReply>(2, { t: 'memory' }).reply;
    assert.equal(alive.backend, 'wasm');
  } finally {
    await replicas.close();
    optimizer.dispose();
    model.dispose();
  }
});

test('decoding and validation over K = 2 give exactly the K = 1 predictions; encoding gives the same features', async () => {
  // A trained tiny run (one thread), then its valid split decoded both ways.
  const c = resolveConfig({ preset: 'baseline', flags: { epochs: 1, encoder: 'patch:3:4', seed: 2 } });
  c.model = { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0, lora: null };
  c.batchSize = 4;
  c.maxValid = 0;
  await train({ runDir, dataDir: data, config: c, backend: 'wasm', workers: 1 });
  const loaded = await loadRunForInference(runDir, 'best');
  const replicas = Replicas.start(2, 'wasm');
  try {
    const opened = await openRun(runDir, 'best', () => undefined, 'wasm');
    const split = await encodeRunSplit(opened, data, 'valid');
    opened.model.dispose();
    await replicas.setModel(loaded.model, 0);
    await replicas.shareExamples('valid', split.examples, true);
    const workerTensors = async () => (await replicas.request<MemoryReply>(1, { t: 'memory' }).reply).numTensors;
    const onWorker = await workerTensors();
    const options = { strategy: 'greedy' as const, beamSize: 1, temperature: 1, maxNewTokens: 8, seed: 0 };
    for (const batchSize of [3, 32]) {
      const serial: Int32Array[] = [];
      for (let i = 0; i < split.examples.length; i += batchSize)
        serial.push(
          ...loaded.model.generate(
            split.examples.slice(i, i + batchSize).map((e) => ({ ...e, answer: new Int32Array(0) })),
            'multimodal',
            options,
          ),
        );
      const done: number[] = [];
      const parallel = await decodeParallel(replicas, {
        model: loaded.model,
        set: 'valid',
        examples: split.examples,
        batchSize,
        mode: 'multimodal',
        options,
        what: 'test',
        onBatch: (d) => done.push(d),
      });
      assert.deepEqual(
        parallel.map((x) => Array.from(x)),
        serial.map((x) => Array.from(x)),
        `batch ${batchSize}`,
      );
      assert.equal(done.at(-1), split.examples.length);
    }
    assert.ok(
      (
        await decodeParallel(replicas, {
          model: loaded.model,
          set: 'valid',
          examples: split.examples,
          batchSize: 3,
          mode: 'multimodal',
          options,
          what: 'test',
        })
      ).some((x) => x.length > 0),
      'the trained model says something',
    );
    const cfg = { ...loaded.config, validBatch: 3 };
    const v1 = await validate(loaded.model, loaded.tokenizer, split.examples, split.gold, cfg);
    const v2 = await validate(loaded.model, loaded.tokenizer, split.examples, split.gold, cfg, {
      replicas: { replicas, set: 'valid' },
    });
    assert.deepEqual(v2, v1);
    assert.equal(await workerTensors(), onWorker, 'decoding left no tensor on the worker');

    // Encoding: a fresh cache each way, one corrupt image among them.
    const items = (await loadDataset(data, { splits: ['train'], checkImages: false })).items.slice(0, 9);
    writeFileSync(join(data, items[4].image!), 'not an image');
    const encoder = await loadImageEncoder('patch:3:4');
    const serial = await encodeImages(encoder, data, items, { cacheDir: join(root, 'cache-1') });
    const progress: number[] = [];
    const parallel = await encodeImagesParallel(replicas, encoder, 'patch:3:4', data, items, {
      cacheDir: join(root, 'cache-2'),
      onProgress: (p) => progress.push(p.done),
    });
    encoder.dispose();
    assert.deepEqual([...parallel.keys()], [...serial.keys()]);
    for (const [id, f] of serial) assert.deepEqual(parallel.get(id), f, id);
    assert.deepEqual(parallel.issues, serial.issues);
    assert.equal(parallel.issues.length, 1);
    assert.equal(parallel.stats.computed + parallel.stats.cached + parallel.stats.failed, items.length);
    assert.equal(Math.max(...progress), items.length);
    // Read back from the cache the workers wrote: the same again.
    const reader = await loadImageEncoder('patch:3:4');
    const again = await encodeImages(reader, data, items, { cacheDir: join(root, 'cache-2') });
    reader.dispose();
    assert.equal(again.stats.computed, 0);
    for (const [id, f] of serial) assert.deepEqual(again.get(id), f, id);
  } finally {
    await replicas.close();
    loaded.model.dispose();
  }
});

test('evaluation and robustness jobs with K = 2 write what K = 1 writes', async () => {
  const decode = {
    strategy: 'beam-sample' as const,
    beamSize: 2,
    temperature: 0.5,
    maxNewTokens: 6,
    repeats: 2,
    seed: 3,
  };
  const common = { runDir, dataDir: data, split: 'test' as const, batchSize: 3, decode, backend: 'wasm' as const };
  const p1 = await predictSplit({ ...common, workers: 1, out: join(root, 'p1.jsonl') });
  const p2 = await predictSplit({ ...common, workers: 2, out: join(root, 'p2.jsonl') });
  assert.deepEqual(readPredictionFile(p2.file).records, readPredictionFile(p1.file).records);
  assert.deepEqual(p2.scores, p1.scores);
  const suite = { ratios: [0, 0.5], strides: [2], sigmas: [1], pattern: 'random' as const, seed: 1 };
  const r1 = await runRobustness({ runDir, dataDir: data, limit: 7, batchSize: 3, suite, out: null, workers: 1 });
  const r2 = await runRobustness({ runDir, dataDir: data, limit: 7, batchSize: 3, suite, out: null, workers: 2 });
  const strip = (r: typeof r1) => r.report.conditions.map(({ seconds: _, ...c }) => c);
  assert.deepEqual(strip(r2), strip(r1));
});
