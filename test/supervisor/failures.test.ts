// Jobs that fail without a training step: a worker out of memory, a core error before the run folder exists,
// a job kind the worker does not know; a spec the job-kind table refuses at creation; a queued job cancelled; the
// job list persisted in jobs.json and read back by a new supervisor. The supervisor keeps serving after each.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { registerJobKind } from '../../electron/supervisor/job-kinds';
import { EVENT_FLOOD_JOB, FLOOD_WORKER_ENTRY } from '../../scripts/supervisor-bench/event-flood';
import { newSupervisor, tinyAimkp } from './fixtures';

/** A kind registered in this (main) thread only: the worker, which never imports this file, does not know it. */
const MAIN_THREAD_ONLY = registerJobKind({
  name: 'main-thread-only',
  params: z.strictObject({ n: z.int() }),
  trainsRun: false,
  reportsOn: 'job',
  listedAs: 'evaluate',
  runOf: () => null,
  label: (p) => `main thread only ${p.n}`,
  run: async () => ({ state: 'completed' }),
});

const root = mkdtempSync(join(tmpdir(), 'aimkp-sup-fail-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a worker out of memory fails its job with the reason; the supervisor goes on', async () => {
  const sup = newSupervisor(join(root, 'oom'), { workerHeapMb: 4, workerEntry: FLOOD_WORKER_ENTRY });
  try {
    const job = sup.enqueue(EVENT_FLOOD_JOB, { runId: 'x', count: 10 });
    const done = await sup.waitForJob(job.id);
    assert.equal(done.state, 'failed');
    assert.equal(done.error?.code, 'WORKER_DIED');
    assert.match(done.error?.message ?? '', /out of memory/);
  } finally {
    await sup.shutdown();
  }
});

test('core errors and kinds unknown to the worker fail only their job; bad specs are refused; cancel; jobs.json is read back', async () => {
  const ws = join(root, 'errors');
  const sup = newSupervisor(ws, { concurrency: 1, workerEntry: FLOOD_WORKER_ENTRY });
  let ids: string[];
  try {
    // Refused when created, naming the field: an unknown kind, bad params, a kind that is never queued.
    assert.throws(
      () => sup.queue.enqueue({ kind: 'no-such-task', params: {} }),
      /field "kind": unknown job kind "no-such-task" \(known: train, resume, evaluate/,
    );
    assert.throws(() => sup.enqueue(EVENT_FLOOD_JOB, { runId: '../up', count: 5 }), /field "params.runId": a run id/);
    assert.throws(
      () => sup.queue.enqueue({ kind: 'event-flood', params: { runId: 'x', count: 'many' } }),
      /field "params.count"/,
    );
    assert.throws(
      () => sup.startTraining({ runId: 'bad-config', dataDir: root, config: { ...tinyAimkp(1), epochs: 0 } }),
      /field "params.config": training config: field "epochs": expected an integer in \[1, 1000\], got 0/,
    );
    assert.equal(existsSync(join(ws, 'runs', 'bad-config')), false, 'a refused run leaves no folder');
    assert.throws(() => sup.queue.enqueue({ kind: 'probe', params: {} }), /runs at once, outside the queue/);

    const missing = join(root, 'no-such-data');
    const bad = sup.startTraining({ runId: 'bad-data', dataDir: missing, config: tinyAimkp(1) });
    const unknown = sup.enqueue(MAIN_THREAD_ONLY, { n: 1 });
    const flood = sup.enqueue(EVENT_FLOOD_JOB, { runId: 'ok', count: 50 });
    const later = sup.enqueue(EVENT_FLOOD_JOB, { runId: 'later', count: 50 });
    assert.equal(sup.queue.cancel(later.id), true);
    assert.equal(later.state, 'cancelled');

    const b = await sup.waitForJob(bad.id);
    assert.equal(b.state, 'failed');
    assert.equal(b.error?.code, 'NOT_FOUND');
    assert.ok(b.error?.message.includes(missing), b.error?.message);
    const u = await sup.waitForJob(unknown.id);
    assert.equal(u.state, 'failed');
    assert.equal(u.error?.code, 'BAD_INPUT');
    assert.match(u.error?.message ?? '', /field "kind": unknown job kind "main-thread-only"/);
    assert.equal((await sup.waitForJob(flood.id)).state, 'completed');
    assert.deepEqual(
      (await sup.eventsSince('ok', 45)).map((e) => e.seq),
      [46, 47, 48, 49, 50],
    );
    // The task's own stream: queued → running → failed, with the error.
    const stream = await sup.eventsSince(`job:${unknown.id}`, 0);
    assert.deepEqual(
      stream.map((e) => (e.kind === 'job' ? e.data.state : e.kind)),
      ['queued', 'running', 'failed'],
    );
    ids = [bad.id, unknown.id, flood.id, later.id];
  } finally {
    await sup.shutdown();
  }
  const stored = JSON.parse(readFileSync(join(ws, 'jobs.json'), 'utf8')) as { jobs: { id: string; state: string }[] };
  assert.deepEqual(
    ids.map((id) => stored.jobs.find((j) => j.id === id)?.state),
    ['failed', 'failed', 'completed', 'cancelled'],
  );
  // Read back through the job-kind table (the flood kind is registered in this thread by its import).
  const again = newSupervisor(ws);
  try {
    assert.deepEqual(
      ids.map((id) => again.queue.get(id)?.state),
      ['failed', 'failed', 'completed', 'cancelled'],
    );
  } finally {
    await again.shutdown();
  }
});

test('a new run stopped before its first step (or cancelled while queued) ends stopped and leaves no folder', async () => {
  const ws = join(root, 'early-stop');
  const sup = newSupervisor(ws, { concurrency: 1 });
  try {
    const data = join(root, 'no-data-needed');
    const first = sup.startTraining({ runId: 'early', dataDir: data, config: tinyAimkp(1) });
    const second = sup.startTraining({ runId: 'queued', dataDir: data, config: tinyAimkp(1) });
    assert.equal(first.state, 'running');
    assert.equal(second.state, 'queued');
    sup.stop('queued');
    sup.stop('early');
    assert.equal((await sup.waitForJob(second.id)).state, 'cancelled');
    assert.equal((await sup.waitForJob(first.id)).state, 'stopped');
    for (const id of ['early', 'queued']) assert.equal(existsSync(join(ws, 'runs', id)), false, id);
  } finally {
    await sup.shutdown();
  }
});
