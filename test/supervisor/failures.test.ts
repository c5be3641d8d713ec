// Jobs that fail without a training step: a worker out of memory, a core error before the run folder exists,
// an unknown task; a queued job cancelled; the job list persisted in jobs.json and read back by a new
// supervisor. The supervisor keeps serving after each.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSupervisor, tinyAimkp } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-sup-fail-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a worker out of memory fails its job with the reason; the supervisor goes on', async () => {
  const sup = newSupervisor(join(root, 'oom'), { workerHeapMb: 4 });
  try {
    const job = sup.enqueue({ kind: 'event-flood', runId: 'x', count: 10 });
    const done = await sup.waitForJob(job.id);
    assert.equal(done.state, 'failed');
    assert.equal(done.error?.code, 'WORKER_DIED');
    assert.match(done.error?.message ?? '', /out of memory/);
  } finally {
    await sup.shutdown();
  }
});

test('core errors and unknown tasks fail only their job; cancel; jobs.json is read back', async () => {
  const ws = join(root, 'errors');
  const sup = newSupervisor(ws, { concurrency: 1 });
  let ids: string[];
  try {
    const missing = join(root, 'no-such-data');
    const bad = sup.startTraining({ runId: 'bad-data', dataDir: missing, config: tinyAimkp(1) });
    const unknown = sup.enqueueTask('no-such-task', {});
    const flood = sup.enqueue({ kind: 'event-flood', runId: 'ok', count: 50 });
    const later = sup.enqueue({ kind: 'event-flood', runId: 'later', count: 50 });
    assert.equal(sup.queue.cancel(later.id), true);
    assert.equal(later.state, 'cancelled');

    const b = await sup.waitForJob(bad.id);
    assert.equal(b.state, 'failed');
    assert.equal(b.error?.code, 'NOT_FOUND');
    assert.ok(b.error?.message.includes(missing), b.error?.message);
    const u = await sup.waitForJob(unknown.id);
    assert.equal(u.state, 'failed');
    assert.equal(u.error?.code, 'BAD_INPUT');
    assert.match(u.error?.message ?? '', /unknown task "no-such-task"/);
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
