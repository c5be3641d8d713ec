// Verified checkpoints: every kind of checkpoint file, truncated / emptied / garbled / with one float
// changed / deleted, is caught by the manifest, named with what is wrong, and resume falls back to the
// previous good checkpoint and ends with the same bytes as a run that was never interrupted. Nothing
// corrupt is loaded (best/ for evaluation included) and training never silently restarts from step 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CoreError } from '../../models/core-error';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { readCheckpoint, writeCheckpoint } from '../../models/run/checkpoint-io';
import { emptyEpochStats, type TrainState } from '../../models/train/checkpoint-parts';
import { verifyCheckpointDir } from '../../models/run/checkpoint-manifest';
import { diagnoseRun } from '../../models/run/run-doctor';
import { loadRunForInference } from '../../models/run/run-loader';
import { train } from '../../models/train/trainer';
import type { TrainingEvent } from '../../shared/training-events';
import { assertSameFinal, cliInProcess, tinyTrainConfig } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-rel-ckpt-'));
const data = join(root, 'data');
const reference = join(root, 'reference');
const stopped = join(root, 'stopped');
after(() => rmSync(root, { recursive: true, force: true }));

// The uninterrupted run, and one stopped after step 9 (checkpoints: last = step 9, previous = step 8).
before(async () => {
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  const full = await train({ runDir: reference, dataDir: data, config: tinyTrainConfig() });
  assert.equal(full.status, 'completed');
  assert.equal(full.globalStep, 16);
  const part = await train({ runDir: stopped, dataDir: data, config: tinyTrainConfig(), maxSteps: 9 });
  assert.equal(part.globalStep, 9);
});

function flipOneFloat(file: string): void {
  const b = readFileSync(file);
  const at = 4 * Math.floor(b.length / 8); // a float in the middle
  b.writeFloatLE(b.readFloatLE(at) + 0.001, at);
  writeFileSync(file, b);
}

function garble(file: string): void {
  const b = readFileSync(file);
  for (let i = 0; i < b.length; i += 7) b[i] = (b[i] * 31 + 17) & 0xff;
  writeFileSync(file, b);
}

type Corruption = { file: string; how: string; apply: (file: string) => void };
const CORRUPTIONS: Corruption[] = [
  { file: 'weights.bin', how: 'truncated', apply: (f) => truncateSync(f, Math.floor(readFileSync(f).length / 2)) },
  { file: 'weights.bin', how: 'emptied', apply: (f) => truncateSync(f, 0) },
  { file: 'weights.bin', how: 'garbled', apply: garble },
  { file: 'weights.bin', how: 'one float changed', apply: flipOneFloat },
  { file: 'optimizer.bin', how: 'truncated', apply: (f) => truncateSync(f, 100) },
  { file: 'optimizer.bin', how: 'one float changed', apply: flipOneFloat },
  { file: 'optimizer.json', how: 'garbled', apply: garble },
  { file: 'model.json', how: 'truncated', apply: (f) => truncateSync(f, 40) },
  { file: 'state.json', how: 'deleted', apply: unlinkSync },
  {
    file: 'state.json',
    how: 'one number changed',
    apply: (f) => writeFileSync(f, readFileSync(f, 'utf8').replace('"globalStep":9', '"globalStep":7')),
  },
  { file: 'manifest.json', how: 'deleted', apply: unlinkSync },
  { file: 'manifest.json', how: 'garbled', apply: garble },
];

for (const [i, c] of CORRUPTIONS.entries()) {
  test(`checkpoints/last/${c.file} ${c.how} → resume falls back to previous (step 8), same final bytes as an uninterrupted run`, async () => {
    const run = join(root, `case-${i}`);
    cpSync(stopped, run, { recursive: true });
    const target = join(run, 'checkpoints', 'last', c.file);
    const before = existsSync(target) ? readFileSync(target) : null;
    c.apply(target);
    if (before !== null && existsSync(target))
      assert.ok(!readFileSync(target).equals(before), 'the corruption changed the file');

    const verdict = await verifyCheckpointDir(join(run, 'checkpoints', 'last'));
    assert.equal(verdict.ok, false);
    assert.ok(!verdict.ok && verdict.file.endsWith(c.file), `the problem names ${c.file}: ${JSON.stringify(verdict)}`);

    const doctor = await diagnoseRun(run);
    assert.equal(doctor.level, 'problem');
    assert.equal(doctor.resumeFrom, join('checkpoints', 'previous'));
    assert.ok(doctor.checks.some((k) => k.level === 'problem' && k.message.includes(c.file)));

    const logs: string[] = [];
    const events: TrainingEvent[] = [];
    const r = await train({ runDir: run, resume: true, log: (l) => logs.push(l), onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'completed');
    const warning = logs.find((l) => l.includes('resuming from'));
    assert.ok(warning, `says which checkpoint it resumes from: ${logs.join(' | ')}`);
    assert.ok(
      warning.includes(c.file) && warning.includes(join('checkpoints', 'previous')) && warning.includes('step 8'),
      warning,
    );
    const start = events.find((e) => e.type === 'run-start');
    assert.ok(
      start?.type === 'run-start' && start.startStep === 8,
      'continued from step 8, not 0 and not the corrupt step 9',
    );
    assertSameFinal(run, reference, `${c.file} ${c.how}`);
    // The corrupt checkpoint was replaced; the last two checkpoints are good again.
    for (const slot of ['last', 'previous'])
      assert.ok((await verifyCheckpointDir(join(run, 'checkpoints', slot))).ok, `${slot} verifies`);
  });
}

test('both kept checkpoints corrupt → resume refuses with CHECKPOINT_CORRUPT naming both files; it never restarts at step 0', async () => {
  const run = join(root, 'both');
  cpSync(stopped, run, { recursive: true });
  unlinkSync(join(run, 'checkpoints', 'last', 'state.json'));
  flipOneFloat(join(run, 'checkpoints', 'previous', 'weights.bin'));
  const eventsBefore = readFileSync(join(run, 'events.jsonl'), 'utf8');
  await assert.rejects(train({ runDir: run, resume: true }), (e: unknown) => {
    assert.ok(e instanceof CoreError && e.code === 'CHECKPOINT_CORRUPT', String(e));
    assert.match(e.message, /last.state\.json: missing/);
    assert.match(e.message, /previous.weights\.bin: content differs from the manifest/);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
  // No run-start was appended: nothing started over.
  assert.ok(!readFileSync(join(run, 'events.jsonl'), 'utf8').slice(eventsBefore.length).includes('"run-start"'));
  const cli = await cliInProcess('train', '--out', run, '--resume');
  assert.equal(cli.code, 3);
  assert.equal(cli.stderr.split('\n').length, 1, cli.stderr);
});

test('a corrupt best/ is never loaded for evaluation: the error names best/weights.bin and what is wrong', async () => {
  const run = join(root, 'best-corrupt');
  cpSync(reference, run, { recursive: true });
  flipOneFloat(join(run, 'best', 'weights.bin'));
  await assert.rejects(loadRunForInference(run, 'best'), (e: unknown) => {
    assert.ok(e instanceof CoreError && e.code === 'CHECKPOINT_CORRUPT', String(e));
    assert.ok(e.message.includes(join(run, 'best', 'weights.bin')), e.message);
    assert.match(e.message, /SHA-256 mismatch/);
    return true;
  });
  truncateSync(join(run, 'best', 'weights.bin'), 10);
  const cli = await cliInProcess('eval', '--run', run, '--data', data, '--split', 'test', '--modes', 'text');
  assert.equal(cli.code, 3, cli.stderr);
  assert.match(cli.stderr, /best.weights\.bin: 10 bytes, the manifest says \d+ \(truncated\)/);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  // 'last' is still fine.
  const ok = await loadRunForInference(run, 'last');
  ok.model.dispose();
});

function state(globalStep: number): TrainState {
  return {
    version: 1,
    epoch: 0,
    stepInEpoch: globalStep,
    globalStep,
    dataOrder: [],
    rngState: [1, 2, 3, 4],
    strideText: [],
    strideImage: [],
    frozenText: [],
    frozenImage: [],
    bestScore: null,
    bestEpoch: null,
    history: [],
    epochStats: emptyEpochStats(),
  };
}

test('rotation keeps the last two GOOD checkpoints: a corrupt last is discarded, not kept as previous', async () => {
  const dir = join(root, 'rotation', 'checkpoints');
  const target = join(dir, 'last');
  const weights = (x: number) => new Map<string, tf.Tensor>([['w', tf.tensor1d([x, x + 1])]]);
  const write = (step: number, onDiscard?: (l: string) => void) =>
    writeCheckpoint(target, { weights: weights(step), optimizer: null, state: state(step), modelInfo: null }, dir, {
      keepPrevious: true,
      onDiscard,
    });
  await write(1);
  await write(2);
  assert.equal((await readCheckpoint(target, false)).state.globalStep, 2);
  assert.equal((await readCheckpoint(join(dir, 'previous'), false)).state.globalStep, 1);
  truncateSync(join(target, 'weights.bin'), 3);
  // Loading `last` now comes from previous.
  assert.equal((await readCheckpoint(target, false)).state.globalStep, 1);
  const discarded: string[] = [];
  await write(3, (l) => discarded.push(l));
  assert.equal(discarded.length, 1);
  assert.match(discarded[0], /weights\.bin: 3 bytes/);
  assert.equal((await readCheckpoint(target, false)).state.globalStep, 3);
  assert.equal(
    (await readCheckpoint(join(dir, 'previous'), false)).state.globalStep,
    1,
    'the good step-1 checkpoint stayed',
  );
});

test('aimkp doctor: a healthy completed run, a corrupt one (exit 3, names the file), an interrupted one with a stale lock; --json', async () => {
  const healthy = await cliInProcess('doctor', reference);
  assert.equal(healthy.code, 0, healthy.stdout);
  assert.match(healthy.stdout, /ok {4}checkpoints\/last +step 16, epoch 2, every file matches its manifest/);
  assert.match(healthy.stdout, /condition: completed\nnext: training is complete/);

  const run = join(root, 'doctor-corrupt');
  cpSync(stopped, run, { recursive: true });
  flipOneFloat(join(run, 'checkpoints', 'last', 'optimizer.bin'));
  // A writer killed mid-run: its lock (a pid that no longer exists) and a cut last event line stay behind.
  writeFileSync(
    join(run, 'run.lock'),
    JSON.stringify({
      pid: 4_000_000,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: 'aimkp train',
      token: 't',
    }),
  );
  writeFileSync(join(run, 'events.jsonl'), readFileSync(join(run, 'events.jsonl'), 'utf8') + '{"type":"st');
  const bad = await cliInProcess('doctor', run);
  assert.equal(bad.code, 3);
  assert.match(
    bad.stdout,
    /FAIL {2}checkpoints\/last +checkpoints\/last\/optimizer\.bin: content differs from the manifest/,
  );
  assert.match(bad.stdout, /warn {2}lock +stale: process 4000000 on .* is no longer running/);
  assert.match(bad.stdout, /warn {2}events\.jsonl +the last line is cut off/);
  assert.match(bad.stdout, /next: continue with: aimkp train --out .* --resume \(from checkpoints\/previous, step 8\)/);
  const json = JSON.parse((await cliInProcess('doctor', run, '--json')).stdout) as {
    condition: string;
    resumeFrom: string;
    lock: { state: string };
  };
  assert.deepEqual(
    [json.condition, json.resumeFrom, json.lock.state],
    ['interrupted', join('checkpoints', 'previous'), 'stale'],
  );
  // The resume repairs what doctor found: the cut line is removed, the lock taken over, previous used.
  const logs: string[] = [];
  await train({ runDir: run, resume: true, log: (l) => logs.push(l) });
  assert.ok(logs.some((l) => l.includes('took over the lock')));
  assertSameFinal(run, reference, 'after doctor');
  const after = await cliInProcess('doctor', run);
  assert.equal(after.code, 0, after.stdout);
});
