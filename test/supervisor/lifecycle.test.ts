// Stop, resume, a killed worker and a crashed app, on real tiny trainings in worker threads:
// - a stop takes effect within one step (the steps and milliseconds it took are printed as diagnostics);
// - stop + resume ends with final weights and optimizer state byte-identical to an uninterrupted run;
// - a killed worker fails only its own job (the other training completes) and the run resumes exactly;
// - a supervisor in a process killed with SIGKILL leaves the run 'interrupted'; a new supervisor on the same
//   workspace finds it and resumes it exactly; a graceful shutdown() stops at a step boundary with a checkpoint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLock } from '../../models/run/run-lock';
import type { RunEndEvent, StepEvent } from '../../shared/training-events';
import type { Supervisor } from '../../electron/supervisor/supervisor';
import { runOfSpec } from '../../electron/supervisor/job-kinds';
import { makeWorkspace, newSupervisor, runEvents, tinyAimkp, waitFor, type TestWorkspace } from './fixtures';

let ws: TestWorkspace;
let sup: Supervisor;
before(async () => {
  ws = await makeWorkspace('sup-life');
  sup = newSupervisor(ws.workspace, { concurrency: 2 });
});
after(async () => {
  await sup.shutdown();
  ws.cleanup();
});

const STATE_FILES = [
  join('checkpoints', 'last', 'weights.bin'),
  join('checkpoints', 'last', 'optimizer.bin'),
  join('best', 'weights.bin'),
];

function assertSameFinalState(runId: string, reference: string, workspace = ws.workspace): void {
  for (const f of STATE_FILES) {
    const a = readFileSync(join(workspace, 'runs', runId, f));
    const b = readFileSync(join(ws.workspace, 'runs', reference, f));
    assert.ok(a.equals(b), `${runId}/${f} differs from ${reference}/${f}`);
  }
  const steps = (w: string, id: string) =>
    new Map(
      runEvents(w, id)
        .filter((e): e is StepEvent => e.type === 'step')
        .map((e) => [e.step, e.loss]),
    );
  const ref = steps(ws.workspace, reference);
  for (const [step, loss] of steps(workspace, runId))
    assert.equal(loss, ref.get(step), `${runId}: loss at step ${step}`);
}

const stepsWritten = (runId: string, workspace = ws.workspace) => {
  try {
    return runEvents(workspace, runId).filter((e) => e.type === 'step').length;
  } catch {
    return 0; // no events.jsonl yet
  }
};
const lastRunEnd = (runId: string, workspace = ws.workspace) =>
  runEvents(workspace, runId)
    .filter((e): e is RunEndEvent => e.type === 'run-end')
    .at(-1);

let refReady: Promise<void>;

test('reference: an uninterrupted run completes', async () => {
  const job = sup.startTraining({ runId: 'ref', dataDir: ws.data, config: tinyAimkp(3) });
  refReady = sup.waitForJob(job.id).then((j) => assert.equal(j.state, 'completed', JSON.stringify(j.error)));
  await refReady;
  assert.equal(sup.getRun('ref').status, 'completed');
  assert.equal(sup.getRun('ref').step, 24);
});

test('stop takes effect within one step, with a checkpoint; resume equals the uninterrupted run byte for byte', async (t) => {
  const job = sup.startTraining({ runId: 'split', dataDir: ws.data, config: tinyAimkp(3) });
  // Stop from a timer in the main thread once the masked epoch (steps 9-16) has begun.
  await waitFor(() => stepsWritten('split') >= 10, 120_000, 5);
  const atStop = stepsWritten('split');
  const t0 = Date.now();
  sup.stop('split');
  assert.equal(sup.getRun('split').status, 'stopping');
  const done = await sup.waitForJob(job.id);
  assert.equal(done.state, 'stopped', JSON.stringify(done.error));
  const end = lastRunEnd('split')!;
  assert.equal(end.status, 'stopped');
  const stepsAfter = end.step - atStop;
  const ms = Date.parse(end.time) - t0;
  t.diagnostic(
    `stop: requested after step ${atStop}, stopped after step ${end.step} (${stepsAfter} more step), ${ms} ms after the request`,
  );
  assert.ok(stepsAfter <= 1, `stopped ${stepsAfter} steps after the request`);
  assert.ok(
    runEvents(ws.workspace, 'split').some((e) => e.type === 'checkpoint' && e.which === 'last' && e.step === end.step),
    'checkpoint at the stop step',
  );
  assert.equal(sup.getRun('split').status, 'stopped');

  const resumed = sup.resume('split');
  assert.equal((await sup.waitForJob(resumed.id)).state, 'completed');
  assert.equal(sup.getRun('split').status, 'completed');
  await refReady;
  assertSameFinalState('split', 'ref');
});

test('a killed worker fails only its own job; the other training completes; the killed run resumes exactly', async () => {
  const victim = sup.startTraining({ runId: 'killed', dataDir: ws.data, config: tinyAimkp(3) });
  const survivor = sup.startTraining({ runId: 'survivor', dataDir: ws.data, config: tinyAimkp(2) });
  await waitFor(() => stepsWritten('killed') >= 5 && stepsWritten('survivor') >= 1, 120_000, 5);
  assert.ok(sup.runner.workers.get(victim.id), 'the victim has a worker');
  await sup.runner.workers.get(victim.id)!.terminate();

  const dead = await sup.waitForJob(victim.id);
  assert.equal(dead.state, 'failed');
  assert.equal(dead.error?.code, 'WORKER_DIED');
  const run = sup.getRun('killed');
  assert.equal(run.status, 'failed');
  assert.match(run.reason?.message ?? '', /worker exited/);
  const last = runEvents(ws.workspace, 'killed').at(-1)!;
  assert.ok(last.type === 'error' && last.code === 'WORKER_DIED', 'events.jsonl ends with the error');
  assert.notEqual(
    inspectLock(join(ws.workspace, 'runs', 'killed')).state,
    'held',
    'the dead worker’s lock is released',
  );

  const other = await sup.waitForJob(survivor.id);
  assert.equal(other.state, 'completed', JSON.stringify(other.error));

  const again = sup.resume('killed');
  assert.equal((await sup.waitForJob(again.id)).state, 'completed');
  await refReady;
  assertSameFinalState('killed', 'ref');
});

test('after SIGKILL of the app a new supervisor lists the run as interrupted and resumes it exactly; shutdown() stops at a step boundary', async () => {
  // A workspace of its own: one supervisor per workspace (the test's supervisor holds the other one).
  const workspace = join(ws.root, 'ws-crash');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'supervisor-crash-child.ts'), workspace, ws.data],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('steps'), 180_000, 20);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  // The reference's concurrency: a job's data-parallel K is cores / concurrency, and equal bytes need the same K.
  const second = newSupervisor(workspace, { concurrency: 2 });
  try {
    const run = second.getRun('crashed');
    assert.equal(run.status, 'interrupted');
    const crashedJob = second.queue.list().find((j) => runOfSpec(j.spec) === 'crashed')!;
    assert.equal(crashedJob.state, 'interrupted');
    assert.equal(crashedJob.error?.code, 'APP_CRASHED');
    assert.throws(() => newSupervisor(workspace), /in use/, 'one supervisor per workspace');
    const job = second.resume('crashed');
    assert.equal((await second.waitForJob(job.id)).state, 'completed');
    await refReady;
    assertSameFinalState('crashed', 'ref', workspace);

    // Graceful quit: the running job stops at a step boundary with a checkpoint and is recorded as interrupted.
    const quitJob = second.startTraining({ runId: 'quit', dataDir: ws.data, config: tinyAimkp(3) });
    await waitFor(() => stepsWritten('quit', workspace) >= 4, 120_000, 5);
    const atQuit = stepsWritten('quit', workspace);
    await second.shutdown();
    assert.equal(second.queue.get(quitJob.id)?.state, 'interrupted');
    const end = lastRunEnd('quit', workspace)!;
    assert.ok(end.status === 'stopped' && end.step - atQuit <= 1, `quit after step ${atQuit}, ended at ${end.step}`);
  } finally {
    await second.shutdown();
  }
  const third = newSupervisor(workspace, { concurrency: 2 });
  try {
    assert.equal(third.getRun('quit').status, 'interrupted');
    const job = third.resume('quit');
    assert.equal((await third.waitForJob(job.id)).state, 'completed');
    assertSameFinalState('quit', 'ref', workspace);
  } finally {
    await third.shutdown();
  }
});

test('a run made by `aimkp train --out <workspace>/runs/X` is listed, replayable and resumable by the supervisor', async () => {
  const { trainCommand } = await import('../../models/cli/commands/train');
  const cfg = join(ws.root, 'cli.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
      batchSize: 8,
      samplesPerCall: 8,
      maxValid: 4,
    }),
  );
  const out = join(ws.workspace, 'runs', 'from-cli');
  const code = await trainCommand([
    '--data',
    ws.data,
    '--preset',
    'baseline',
    '--out',
    out,
    '--epochs',
    '2',
    '--encoder',
    'patch:3:4',
    '--config',
    cfg,
    '--max-steps',
    '3',
    '--quiet',
  ]);
  assert.equal(code, 0);
  const run = sup.listRuns().find((r) => r.id === 'from-cli');
  assert.ok(run, 'listed');
  assert.equal(run.status, 'stopped');
  assert.equal(run.meta.origin, undefined);
  const file = runEvents(ws.workspace, 'from-cli');
  assert.deepEqual(
    (await sup.eventsSince('from-cli', 0)).map((e) => e.seq),
    file.map((_, i) => i + 1),
  );
  const job = sup.resume('from-cli');
  assert.equal((await sup.waitForJob(job.id)).state, 'completed');
  assert.equal(sup.getRun('from-cli').status, 'completed');
  assert.equal(sup.getRun('from-cli').step, 8);
});
