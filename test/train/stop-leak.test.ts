// The trainer as the workbench's worker drives it: a stop fired from a timer takes effect within one optimizer
// step (and within one validation batch), a stop while preparing is reported before the run folder exists, and
// no tensor outlives a run (completed, stopped, or failed in the middle of a step).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import { train } from '../../models/train/trainer';
import { standardStep, aimkpStep } from '../../models/train/train-step';
import { StrideState } from '../../models/train/stride-state';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import type { EncodedExample } from '../../models/lm/contract';
import type { TrainConfig } from '../../models/run/train-config';
import { CoreError } from '../../models/core-error';
import {
  parseTrainingEvent,
  type ErrorEvent,
  type ProgressEvent,
  type StepEvent,
  type TrainingEvent,
} from '../../shared/training-events';

const root = mkdtempSync(join(tmpdir(), 'aimkp-stop-'));
const data = join(root, 'data');
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await buildSynthDataset({ n: 60, seed: 9, out: data });
});

function tiny(preset: 'baseline' | 'aimkp', epochs: number): TrainConfig {
  const c = resolveConfig({ preset, flags: { epochs, encoder: 'patch:3:4', seed: 5 } });
  c.model = { ...c.model, dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0, lora: null };
  c.batchSize = 4;
  c.samplesPerCall = 2; // two calls per step: the accumulation path runs
  c.maxValid = 6;
  c.validBatch = 1;
  c.checkpointEvery = 0; // the old loop saw a stop only at a checkpoint: none until the epoch ends
  return c;
}

function fileEvents(run: string): TrainingEvent[] {
  return readFileSync(join(run, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseTrainingEvent)
    .filter((e): e is TrainingEvent => e !== null);
}

test('a stop fired from a timer ends training within one step, with checkpoints/last at that step; resume completes', async (t) => {
  const run = join(root, 'timer-stop');
  const controller = new AbortController();
  let steps = 0;
  let stepsAtAbort = -1;
  let abortedAt = 0;
  let lastStepEndedAt = 0;
  const pending = train({
    runDir: run,
    dataDir: data,
    config: tiny('aimkp', 3),
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type !== 'step') return;
      steps++;
      lastStepEndedAt = performance.now();
      // Armed here, fired by the timer: the abort runs outside the trainer's call stack, as a stop request
      // arriving from the supervisor would.
      if (steps === 3)
        setTimeout(() => {
          stepsAtAbort = steps;
          abortedAt = performance.now();
          controller.abort();
        }, 0);
    },
  });
  const result = await pending;
  const returnedAt = performance.now();
  assert.equal(result.status, 'stopped');
  assert.ok(stepsAtAbort >= 3, 'the timer fired during training');
  const after = steps - stepsAtAbort;
  assert.ok(after <= 1, `${after} step(s) after the abort`);
  assert.equal(result.globalStep, steps);
  assert.ok(result.globalStep < 15 * 3, 'stopped long before the end');
  const state = JSON.parse(readFileSync(join(run, 'checkpoints', 'last', 'state.json'), 'utf8')) as {
    globalStep: number;
  };
  assert.equal(state.globalStep, result.globalStep);
  const ev = fileEvents(run);
  const end = ev[ev.length - 1];
  assert.ok(end.type === 'run-end' && end.status === 'stopped');
  t.diagnostic(
    `training: ${after} step(s) after the abort; last step ended ${Math.max(0, lastStepEndedAt - abortedAt).toFixed(1)} ms after it; train() returned (checkpoint written) ${(returnedAt - abortedAt).toFixed(1)} ms after it`,
  );

  const resumed = await train({ runDir: run, resume: true });
  assert.equal(resumed.status, 'completed');
  assert.equal(resumed.losses[0].step, result.globalStep + 1);
});

test('a stop during validation (fired from a timer) ends within one batch; the epoch validates again on resume', async (t) => {
  const run = join(root, 'valid-stop');
  const controller = new AbortController();
  let abortedAt = 0;
  const progress: ProgressEvent[] = [];
  const result = await train({
    runDir: run,
    dataDir: data,
    config: tiny('baseline', 2),
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type !== 'progress') return;
      progress.push(e);
      if (e.phase === 'validating' && e.done === 0)
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 0);
    },
  });
  const ms = performance.now() - abortedAt;
  assert.equal(result.status, 'stopped');
  assert.equal(result.epoch, 0, 'the epoch did not end');
  const stepsPerEpoch = Math.ceil(48 / 4);
  assert.equal(result.globalStep, stepsPerEpoch);
  const validated = progress.filter((e) => e.phase === 'validating').map((e) => e.done ?? 0);
  assert.ok(Math.max(...validated) <= 1, `validation batches done after the abort: ${Math.max(...validated)}`);
  t.diagnostic(`validation: stopped and checkpointed ${ms.toFixed(1)} ms after the abort`);
  const events: TrainingEvent[] = [];
  const resumed = await train({ runDir: run, resume: true, onEvent: (e) => events.push(e) });
  assert.equal(resumed.status, 'completed');
  const ends = events.filter((e) => e.type === 'epoch-end');
  assert.deepEqual(
    ends.map((e) => e.type === 'epoch-end' && e.epoch),
    [0, 1],
    'epoch 0 is validated on resume',
  );
  assert.equal(events.filter((e): e is StepEvent => e.type === 'step')[0].step, stepsPerEpoch + 1);
});

test('typed progress: preparing → encoding (images counted) → training → validating → checkpointing, in the file after the folder exists', async () => {
  const run = join(root, 'phases');
  const seen: TrainingEvent[] = [];
  await train({
    runDir: run,
    dataDir: data,
    config: { ...tiny('baseline', 1), maxValid: 2, validBatch: 2 },
    onEvent: (e) => seen.push(e),
  });
  const phases = seen
    .filter((e): e is ProgressEvent => e.type === 'progress')
    .map((e) => e.phase)
    .filter((p, i, a) => p !== a[i - 1]);
  assert.deepEqual(phases.slice(0, 5), ['preparing', 'encoding', 'training', 'validating', 'checkpointing']);
  const encoding = seen.filter((e): e is ProgressEvent => e.type === 'progress' && e.phase === 'encoding');
  const lastEnc = encoding[encoding.length - 1];
  assert.deepEqual([lastEnc.done, lastEnc.total, lastEnc.unit], [48 + 2, 48 + 2, 'images']);
  assert.equal(lastEnc.images!.computed + lastEnc.images!.cached, 50);
  const file = fileEvents(run);
  assert.equal(file[0].type, 'run-start', 'events before the run folder existed are not in events.jsonl');
  assert.equal(file[file.length - 1].type, 'run-end');
  assert.ok(file.some((e) => e.type === 'progress' && e.phase === 'checkpointing'));
});

test('a stop while preparing: CoreError ABORTED, reported as an error event before the run folder exists', async () => {
  const run = join(root, 'never');
  const controller = new AbortController();
  controller.abort();
  const events: TrainingEvent[] = [];
  await assert.rejects(
    train({
      runDir: run,
      dataDir: data,
      config: tiny('baseline', 1),
      signal: controller.signal,
      cacheDir: join(root, 'fresh-cache'),
      onEvent: (e) => events.push(e),
    }),
    (e: unknown) => e instanceof CoreError && e.code === 'ABORTED',
  );
  const err = events.find((e): e is ErrorEvent => e.type === 'error')!;
  assert.deepEqual([err.code, err.phase], ['ABORTED', 'encoding']);
  assert.ok(!existsSync(join(run, 'config.json')), 'no run was written');

  // A bad data folder fails while preparing, with its code.
  const bad: TrainingEvent[] = [];
  await assert.rejects(
    train({
      runDir: join(root, 'bad'),
      dataDir: join(root, 'no-such-data'),
      config: tiny('baseline', 1),
      onEvent: (e) => bad.push(e),
    }),
    CoreError,
  );
  const badErr = bad.find((e): e is ErrorEvent => e.type === 'error')!;
  assert.equal(badErr.phase, 'preparing');
  assert.ok(badErr.code !== undefined && badErr.code !== 'INTERNAL', badErr.code);
});

test('no tensor outlives a run: completed (AimKP, masked epochs), stopped, or failed during a step', async () => {
  // Warm up: the backend and any kernel-level state exist before counting.
  await train({ runDir: join(root, 'warm'), dataDir: data, config: tiny('baseline', 1) });
  const count = () => tf.memory().numTensors;

  let before = count();
  await train({ runDir: join(root, 'leak-complete'), dataDir: data, config: tiny('aimkp', 2) });
  assert.equal(count(), before, 'after a completed AimKP run');

  before = count();
  const controller = new AbortController();
  const stopped = await train({
    runDir: join(root, 'leak-stop'),
    dataDir: data,
    config: tiny('aimkp', 2),
    signal: controller.signal,
    onEvent: (e) => e.type === 'step' && e.step === 14 && setTimeout(() => controller.abort(), 0),
  });
  assert.equal(stopped.status, 'stopped');
  assert.equal(count(), before, 'after a stopped run');

  before = count();
  await assert.rejects(
    train({
      runDir: join(root, 'leak-fail'),
      dataDir: data,
      config: tiny('aimkp', 2),
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 14) throw new Error('listener failed');
      },
    }),
    /listener failed/,
  );
  assert.equal(count(), before, 'after a run that failed at a step');
});

test('a step that fails in its second call frees the gradient of the first (standard and AimKP steps)', () => {
  const grid = 2;
  const dim = 3;
  const lm = {
    vocabSize: 20,
    dModel: 8,
    nLayers: 1,
    nHeads: 2,
    dFF: 16,
    maxPositions: 40,
    imageFeatureDim: dim,
    imageGrid: grid,
    adapterHidden: 8,
    dropout: 0,
    lora: null,
  };
  const model = createKeyphraseLM(
    lm,
    { prefix: Int32Array.from([1]), instruction: Int32Array.from([2]), eos: 3, pad: 0 },
    1,
  );
  try {
    const ex = (index: number, imageValues: number): EncodedExample => ({
      index,
      id: `e${index}`,
      image: new Float32Array(imageValues).fill(0.5),
      text: Int32Array.from([5, 6, 7]),
      answer: Int32Array.from([8, 9, 3]),
    });
    const good = [ex(0, grid * grid * dim), ex(1, grid * grid * dim)];
    const broken = ex(2, 5); // wrong feature size: the model throws on the second call
    const before = tf.memory().numTensors;
    assert.throws(() => standardStep(model, [...good, broken], 'multimodal', 2));
    assert.equal(tf.memory().numTensors, before, 'standard step');
    const strides = new StrideState(3, { rule: 'progressive', fixedStride: 2, warmup: true });
    const settings = resolveConfig({ preset: 'aimkp', flags: {} }).aimkp!;
    assert.throws(() =>
      aimkpStep(model, [...good, broken], { settings, strides, seed: 1, epoch: 0, samplesPerCall: 2 }),
    );
    assert.equal(tf.memory().numTensors, before, 'AimKP step');
  } finally {
    model.dispose();
  }
});
