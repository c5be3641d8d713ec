// Data-parallel training through train(): K = 1 is the single-thread trainer bit for bit (the hashes below were
// written by main before data parallelism existed), a fixed K = 2 is deterministic and resumes byte-identically, a
// resume with another K says so and lands within float tolerance, a dead worker fails the run clearly, and every
// worker thread ends on every exit path with no tensor left on this thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { isCoreError } from '../../models/core-error';
import { resolveConfig } from '../../models/train/config-resolve';
import { train } from '../../models/train/trainer';
import { observePools, type WorkerPool } from '../../models/parallel/pool';
import type { TrainConfig } from '../../models/run/train-config';
import type { RunStartEvent, StepEvent, TrainingEvent } from '../../shared/training-events';

const AIMKP = fileURLToPath(new URL('../../bin/aimkp.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'aimkp-dp-train-'));
const data = join(root, 'data');
const pools: WorkerPool[] = [];
before(async () => {
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  observePools({ started: (p) => pools.push(p) });
});
after(() => {
  observePools(null);
  rmSync(root, { recursive: true, force: true });
});

/** 32 train items, batch 4: 8 steps per epoch; step 12 is inside the masked second epoch. */
function tiny(preset: 'baseline' | 'aimkp', dropout: number): TrainConfig {
  const c = resolveConfig({ preset, flags: { epochs: 2, encoder: 'patch:3:4', seed: 3 } });
  c.model = { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout, lora: null };
  c.batchSize = 4;
  c.samplesPerCall = 2;
  c.maxValid = 4;
  c.checkpointEvery = 0;
  if (c.aimkp) {
    // Text rows pass (cos > 0.5), image rows never do (cos > 1): doubling and halving + freezing both happen.
    c.aimkp.tauText = 0.5;
    c.aimkp.tauImage = 1;
  }
  return c;
}

const sha = (run: string, file: string) =>
  createHash('sha256')
    .update(readFileSync(join(root, run, 'checkpoints', 'last', file)))
    .digest('hex');
const bytes = (run: string, file: string) => readFileSync(join(root, run, 'checkpoints', 'last', file));
const untimedState = (run: string) => {
  const st = JSON.parse(bytes(run, 'state.json').toString());
  delete st.epochStats.trainMs;
  return st;
};
const stepsOf = (events: TrainingEvent[]) => events.filter((e): e is StepEvent => e.type === 'step');

async function run(
  name: string,
  config: TrainConfig | undefined,
  workers: number,
  extra: Partial<Parameters<typeof train>[0]> = {},
) {
  const events: TrainingEvent[] = [];
  const logs: string[] = [];
  const result = await train({
    runDir: join(root, name),
    dataDir: data,
    config,
    backend: 'wasm',
    maxSteps: 12,
    workers,
    onEvent: (e) => events.push(e),
    log: (l) => logs.push(l),
    ...extra,
  });
  assert.equal(pools.filter((p) => p.live > 0).length, 0, 'every worker thread ended');
  return { result, events, logs };
}

// sha256 of checkpoints/last/{weights,optimizer}.bin after 12 steps, written by main (2184405: after perf-leanstep's kernels, without this work)
// with the same data, config and backend. They change only if the step's arithmetic changes on purpose (regenerate
// with a K = 1 run of this config then, and say why in the commit).
// The hashes are main's plain-wasm arithmetic (before data parallelism and the native matmuls): this file trains on
// plain wasm, so that K = 1 is compared bit for bit with that trainer (the native matmuls have their own checks in
// test/tf/native-matmul.test.ts). Read when the backend starts, inherited by worker threads and child processes.
process.env.AIMKP_NATIVE_MATMUL = 'off';

const MAIN_K1 = {
  baseline: {
    weights: '3910cb952b01582169ca816fc7e090edc8e2fa49399c54eac97dd70b938bc258',
    optimizer: '180d99c645560f51c8ea89f4591010eb467f7c345b663c7e9519fcec06f97e1e',
  },
  aimkp: {
    weights: '73af88eb6ce42dc93bd916f3d606e6456a9e1e91b2c568702fb30cd5b8279e7e',
    optimizer: 'bb3091491d9683c99212f0ebd862c09978510a7254a61a7844f14bcc37a65ea9',
  },
};

for (const preset of ['baseline', 'aimkp'] as const)
  test(`K = 1 (${preset}) is the single-thread trainer bit for bit: weights and optimizer equal main's`, async () => {
    const tensors = tf.memory().numTensors;
    const { result } = await run(`k1-${preset}`, tiny(preset, 0.1), 1);
    assert.equal(result.globalStep, 12);
    assert.equal(sha(`k1-${preset}`, 'weights.bin'), MAIN_K1[preset].weights);
    assert.equal(sha(`k1-${preset}`, 'optimizer.bin'), MAIN_K1[preset].optimizer);
    assert.equal(untimedState(`k1-${preset}`).workers, 1, 'the checkpoint records K');
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left on this thread');
  });

test('K = 2 is deterministic (two runs: identical checkpoints) and a stop + resume with K = 2 is byte-identical', async () => {
  const tensors = tf.memory().numTensors;
  const a = await run('k2-a', tiny('aimkp', 0.1), 2);
  await run('k2-b', tiny('aimkp', 0.1), 2);
  const start = a.events.find((e): e is RunStartEvent => e.type === 'run-start')!;
  assert.equal(start.workers, 2);
  assert.equal(start.workersChange, undefined);
  for (const f of ['weights.bin', 'optimizer.bin']) assert.ok(bytes('k2-b', f).equals(bytes('k2-a', f)), f);
  assert.deepEqual(untimedState('k2-b'), untimedState('k2-a'));
  assert.equal(untimedState('k2-a').workers, 2);
  // Not the K = 1 run: rank 1's dropout masks are its own.
  assert.notEqual(sha('k2-a', 'weights.bin'), MAIN_K1.aimkp.weights);
  // The masked epoch ran the filter (text accepted, image rejected and frozen).
  const masked = stepsOf(a.events).filter((e) => e.checked.text + e.checked.image > 0);
  assert.ok(masked.length > 0 && masked.every((e) => e.samples.length === 4));
  assert.ok(untimedState('k2-a').frozenImage.includes(true));

  // Stopped like Ctrl-C during step 10 (inside the masked epoch), then resumed with K = 2.
  const stopper = new AbortController();
  const first = await run('k2-split', tiny('aimkp', 0.1), 2, {
    maxSteps: undefined,
    signal: stopper.signal,
    onEvent: (e) => e.type === 'step' && e.step === 10 && stopper.abort(),
  });
  assert.equal(first.result.status, 'stopped');
  assert.equal(first.result.globalStep, 10);
  const resumed = await run('k2-split', undefined, 2, { resume: true });
  const rs = resumed.events.find((e): e is RunStartEvent => e.type === 'run-start')!;
  assert.ok(rs.resumed && rs.startStep === 10 && rs.workersChange === undefined);
  for (const step of [11, 12]) {
    const x = stepsOf(a.events).find((e) => e.step === step)!;
    const y = stepsOf(resumed.events).find((e) => e.step === step)!;
    assert.equal(y.loss, x.loss, `loss at step ${step}`);
    assert.deepEqual(y.samples, x.samples, `cosines, decisions and strides at step ${step}`);
  }
  for (const f of ['weights.bin', 'optimizer.bin']) assert.ok(bytes('k2-split', f).equals(bytes('k2-a', f)), f);
  assert.deepEqual(untimedState('k2-split'), untimedState('k2-a'));
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left on this thread');
});

test('K = 2 killed (SIGKILL) mid-run, resumed with K = 2: the bytes of the uninterrupted run', async () => {
  const config = { ...tiny('aimkp', 0.1), checkpointEvery: 3 };
  await run('kill-full', config, 2, { maxSteps: undefined });
  // The same run through the CLI in a child process, killed as soon as a checkpoint after step 6 is on disk.
  const configFile = join(root, 'kill-config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const out = join(root, 'kill-split');
  const child = spawn(
    process.execPath,
    [AIMKP, 'train', '--data', data, '--out', out, '--config', configFile, '--workers', '2', '--backend', 'wasm'],
    { stdio: 'ignore' },
  );
  const exited = once(child, 'exit');
  let killedAt = -1;
  for (let waited = 0; killedAt < 0; waited += 10) {
    assert.ok(waited < 120_000 && child.exitCode === null, 'the child reached a checkpoint after step 6');
    await new Promise((r) => setTimeout(r, 10));
    const lines = existsSync(join(out, 'events.jsonl')) ? readFileSync(join(out, 'events.jsonl'), 'utf8') : '';
    const saved = lines
      .split('\n')
      .filter((l) => l.includes('"type":"checkpoint"'))
      .map((l) => JSON.parse(l) as { step: number });
    if (saved.some((c) => c.step >= 6)) {
      child.kill('SIGKILL');
      killedAt = Math.max(...saved.map((c) => c.step));
    }
  }
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
  const resumed = await run('kill-split', undefined, 2, { resume: true, maxSteps: undefined });
  const rs = resumed.events.find((e): e is RunStartEvent => e.type === 'run-start')!;
  assert.ok(rs.resumed && rs.startStep >= killedAt && rs.startStep < 16, `resumed at step ${rs.startStep}`);
  assert.equal(rs.workersChange, undefined);
  assert.equal(resumed.result.status, 'completed');
  for (const f of ['weights.bin', 'optimizer.bin']) assert.ok(bytes('kill-split', f).equals(bytes('kill-full', f)), f);
  assert.deepEqual(untimedState('kill-split'), untimedState('kill-full'));
});

test('a resume with another K says so (log, run-start) and ends within float tolerance of the uninterrupted run', async () => {
  // Dropout 0: with dropout, rank 1's samples get other masks, which is a different (equally valid) run.
  const full = await run('kc-full', tiny('aimkp', 0), 1);
  const stopper = new AbortController();
  await run('kc-split', tiny('aimkp', 0), 1, {
    maxSteps: undefined,
    signal: stopper.signal,
    onEvent: (e) => e.type === 'step' && e.step === 10 && stopper.abort(),
  });
  const resumed = await run('kc-split', undefined, 2, { resume: true });
  const said =
    'resumed with 2 workers; the checkpoint was written with 1: the result matches an uninterrupted run within float tolerance, not bit for bit';
  const rs = resumed.events.find((e): e is RunStartEvent => e.type === 'run-start')!;
  assert.deepEqual(rs.workersChange, { checkpoint: 1, now: 2, message: said });
  assert.equal(rs.workers, 2);
  assert.ok(
    resumed.logs.some((l) => l.includes(said)),
    resumed.logs.join('\n'),
  );
  const lossA = stepsOf(full.events).find((e) => e.step === 12)!.loss;
  const lossB = stepsOf(resumed.events).find((e) => e.step === 12)!.loss;
  assert.ok(Math.abs(lossA - lossB) <= 1e-5 * Math.abs(lossA), `final loss ${lossB} vs ${lossA}`);
  const decisions = (events: TrainingEvent[], step: number) =>
    stepsOf(events)
      .find((e) => e.step === step)!
      .samples.map((s) => [s.index, s.strideText, s.strideImage, s.acceptText, s.acceptImage]);
  assert.deepEqual(decisions(resumed.events, 12), decisions(full.events, 12), 'the same filter decisions');
  const wa = new Float32Array(new Uint8Array(bytes('kc-full', 'weights.bin')).buffer);
  const wb = new Float32Array(new Uint8Array(bytes('kc-split', 'weights.bin')).buffer);
  let worst = 0;
  for (let i = 0; i < wa.length; i++) worst = Math.max(worst, Math.abs(wa[i] - wb[i]));
  assert.ok(worst < 1e-5, `weights differ by ${worst} at most (within float tolerance)`);
  assert.equal(untimedState('kc-split').workers, 2, 'the checkpoint now records the K its last steps ran on');
});

test('a worker killed mid-step fails the run with WORKER_DIED naming its rank; nothing hangs or leaks; it resumes', async () => {
  const tensors = tf.memory().numTensors;
  let steps = 0;
  observePools({
    started: (p) => pools.push(p),
    posted: (pool, rank, kind) => {
      if (kind === 'step' && ++steps === 3) void pool.terminateRank(rank);
    },
  });
  const events: TrainingEvent[] = [];
  try {
    await assert.rejects(
      run('dead', { ...tiny('aimkp', 0), checkpointEvery: 1 }, 2, { onEvent: (e) => events.push(e) }),
      (err: unknown) =>
        isCoreError(err) &&
        err.code === 'WORKER_DIED' &&
        /worker rank 1 of 2 died during a step request/.test(err.message),
    );
  } finally {
    observePools({ started: (p) => pools.push(p) });
  }
  assert.equal(pools.filter((p) => p.live > 0).length, 0, 'the other workers were terminated');
  const error = events.find((e) => e.type === 'error');
  assert.ok(error && error.type === 'error' && error.code === 'WORKER_DIED' && error.phase === 'training');
  assert.equal(stepsOf(events).length, 2, 'two steps completed before the kill');
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left on this thread');
  // The failed run resumes from its last checkpoint (step 2) with fresh workers.
  const resumed = await run('dead', undefined, 2, { resume: true });
  assert.equal(resumed.events.find((e): e is RunStartEvent => e.type === 'run-start')?.startStep, 2);
  assert.equal(resumed.result.globalStep, 12);
});

test('workers end on every exit path: an abort during image encoding', async () => {
  const stopper = new AbortController();
  const before = pools.length;
  await assert.rejects(
    train({
      runDir: join(root, 'abort-encoding'),
      dataDir: data,
      config: tiny('baseline', 0),
      backend: 'wasm',
      workers: 2,
      cacheDir: join(root, 'fresh-cache'),
      signal: stopper.signal,
      onEvent: (e) => e.type === 'progress' && e.phase === 'encoding' && stopper.abort(),
    }),
    (err: unknown) => isCoreError(err) && err.code === 'ABORTED',
  );
  assert.equal(pools.length, before + 1, 'the run had started its workers');
  assert.equal(pools.filter((p) => p.live > 0).length, 0);
});

test('--workers is checked', async () => {
  await assert.rejects(
    train({ runDir: join(root, 'bad-k'), dataDir: data, config: tiny('baseline', 0), workers: 0 }),
    (err: unknown) =>
      isCoreError(err) && err.code === 'BAD_INPUT' && /workers: expected an integer from 1/.test(err.message),
  );
});
