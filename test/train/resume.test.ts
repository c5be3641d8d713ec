// Exact resume: a run stopped after k steps (checkpoint) and resumed must continue bit-for-bit like a run
// that never stopped — model, AdamW moments, stride maps + frozen flags, RNG and data order included.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import { train } from '../../models/train/trainer';
import type { TrainConfig } from '../../models/run/train-config';
import type { StepEvent, TrainingEvent } from '../../shared/training-events';

const root = mkdtempSync(join(tmpdir(), 'aimkp-resume-'));
const data = join(root, 'data');
after(() => rmSync(root, { recursive: true, force: true }));

function tinyConfig(dropout: number): TrainConfig {
  const c = resolveConfig({ preset: 'aimkp', flags: { epochs: 2, encoder: 'patch:3:4', seed: 3 } });
  c.model = { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout, lora: null };
  c.batchSize = 4;
  c.samplesPerCall = 4;
  c.maxValid = 4;
  c.checkpointEvery = 0;
  // A freshly trained tiny model gives cosines near 1; tau_v = 1 rejects every image row (cos > 1 never
  // holds), so halving + freezing is exercised, while text rows (tau_t 0.5) are accepted and keep doubling.
  c.aimkp!.tauText = 0.5;
  c.aimkp!.tauImage = 1;
  return c;
}

const lossAtK1 = new Map<number, number>();
for (const dropout of [0, 0.1])
  test(`stopped after k steps and resumed == uninterrupted (loss at k+1, strides, RNG, weights; dropout ${dropout})`, async () => {
    if (dropout === 0) await buildSynthDataset({ n: 40, seed: 5, out: data });
    const full = `full-${dropout}`;
    const split = `split-${dropout}`;
    const k = 10; // 8 steps per epoch: k falls inside the second (masked) epoch
    const stepsOf = (events: TrainingEvent[]) => events.filter((e): e is StepEvent => e.type === 'step');

    const fullEvents: TrainingEvent[] = [];
    const fullRun = await train({
      runDir: join(root, full),
      dataDir: data,
      config: tinyConfig(dropout),
      maxSteps: k + 2,
      onEvent: (e) => fullEvents.push(e),
    });
    assert.equal(fullRun.status, 'stopped');
    assert.equal(fullRun.globalStep, k + 2);

    // The interrupted run is stopped like Ctrl-C: an abort signal raised during step k.
    const stopper = new AbortController();
    const first = await train({
      runDir: join(root, split),
      dataDir: data,
      config: tinyConfig(dropout),
      signal: stopper.signal,
      onEvent: (e) => e.type === 'step' && e.step === k && stopper.abort(),
    });
    assert.equal(first.status, 'stopped');
    assert.equal(first.globalStep, k);
    const resumedEvents: TrainingEvent[] = [];
    const second = await train({
      runDir: join(root, split),
      resume: true,
      maxSteps: k + 2,
      onEvent: (e) => resumedEvents.push(e),
    });
    const start = resumedEvents.find((e) => e.type === 'run-start');
    assert.ok(start && start.type === 'run-start' && start.resumed && start.startStep === k);
    assert.deepEqual(
      second.losses.map((l) => l.step),
      [k + 1, k + 2],
    );

    for (const step of [k + 1, k + 2]) {
      const a = stepsOf(fullEvents).find((e) => e.step === step)!;
      const b = stepsOf(resumedEvents).find((e) => e.step === step)!;
      assert.equal(b.loss, a.loss, `loss at step ${step}`);
      assert.deepEqual(b.samples, a.samples, `samples, strides, cosines and decisions at step ${step}`);
      assert.deepEqual(b.variantLoss, a.variantLoss);
    }
    lossAtK1.set(dropout, stepsOf(fullEvents).find((e) => e.step === k + 1)!.loss);
    // Dropout is really on in the second run (its losses differ from the dropout-free run's).
    if (dropout > 0) assert.notEqual(lossAtK1.get(dropout), lossAtK1.get(0));
    // The masked epoch really ran masked rows through the filter, with at least one rejection before k.
    const masked = stepsOf(fullEvents).filter((e) => e.checked.text + e.checked.image > 0);
    assert.ok(masked.length > 0);
    const rejected = stepsOf(fullEvents).some(
      (e) => e.step <= k && e.samples.some((s) => s.acceptText === false || s.acceptImage === false),
    );
    assert.ok(rejected, 'the test should exercise a rejection (frozen stride) before the stop');

    const read = (run: string, file: string) => readFileSync(join(root, run, 'checkpoints', 'last', file));
    // Wall-clock time is the one field that may differ.
    const untimed = (buf: Buffer) => {
      const st = JSON.parse(buf.toString());
      delete st.epochStats.trainMs;
      return st;
    };
    const sa = untimed(read(full, 'state.json'));
    const sb = untimed(read(split, 'state.json'));
    assert.deepEqual(sb, sa, 'state.json (strides, frozen flags, RNG, data order, epoch stats) identical');
    assert.ok(sa.frozenText.includes(true) || sa.frozenImage.includes(true));
    assert.ok(read(split, 'weights.bin').equals(read(full, 'weights.bin')), 'weights identical');
    assert.ok(read(split, 'optimizer.bin').equals(read(full, 'optimizer.bin')), 'AdamW moments identical');

    // Refuses to start over an existing run without --resume.
    await assert.rejects(
      train({ runDir: join(root, full), dataDir: data, config: tinyConfig(dropout) }),
      /already exists/,
    );
  });
