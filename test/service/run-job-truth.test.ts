// Issue 16, "the UI says what is true", at the service: a run's stream carries its job's states and its preparation
// (queued → preparing → encoding → training → an end with its reason), a queued or just-failed run is answered as a
// run (runs.get, runs.history), a Stop that comes after the end says so instead of NOT_FOUND, "Created" is the
// launch, test scores come in vocabulary order, and the robustness suite runs with its defaults (what Compare's
// button sends). Real tiny trainings through the typed client, the local transport and response validation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../../shared/contract/client';
import type { ServiceEvent } from '../../shared/contract/events';
import type { Service } from '../../electron/service/create-service';
import { ROBUSTNESS_JOB, isJobOf } from '../../electron/supervisor/job-kinds';
import { diagnoseRun } from '../../models/index';
import { tempDir } from '../fixtures/temp-dirs';
import { openService, TINY_RUN_OVERRIDES as TINY } from './fixtures';

let root: string;
let service: Service;
let api: ApiClient;
const logged: string[] = [];
before(() => {
  root = tempDir('aimkp-job-truth-');
  // A data set without a single train item: a training on it fails while it prepares, in its first second.
  const noTrain = join(root, 'ws', 'datasets', 'no-train');
  mkdirSync(noTrain, { recursive: true });
  writeFileSync(
    join(noTrain, 'manifest.jsonl'),
    [1, 2, 3]
      .map((i) => JSON.stringify({ id: `t${i}`, split: 'test', text: `post ${i}`, image: null, keyphrases: ['kp'] }))
      .join('\n') + '\n',
  );
  ({ service, api } = openService(join(root, 'ws'), { concurrency: 1, log: (line) => logged.push(line) }));
});
after(() => service?.close());

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jobStates = (events: readonly ServiceEvent[]) => events.flatMap((e) => (e.kind === 'job' ? [e.data.state] : []));

let good = '';
test('a queued run is a run: runs.get and runs.history answer it; its stream says queued, then fails with the reason', async () => {
  const imported = await api.call('datasets.import', {
    name: 'Synth 40',
    source: { kind: 'synthetic', items: 40, seed: 5 },
  });
  assert.equal((await service.supervisor().waitForJob(imported.jobId)).state, 'completed');

  const launchedBefore = new Date().toISOString();
  const a = await api.call('runs.start', {
    preset: 'baseline',
    dataset: imported.datasetId,
    overrides: TINY,
    seeds: [1],
  });
  const launchedBy = new Date().toISOString();
  // Queued behind the first (concurrency 1); fails as soon as it prepares.
  const b = await api.call('runs.start', { preset: 'baseline', dataset: 'no-train', overrides: TINY, seeds: [2] });
  good = a.runs[0].id;
  const bad = b.runs[0].id;
  const seenGood: ServiceEvent[] = [];
  const seenBad: ServiceEvent[] = [];
  const subs = [
    api.subscribe(good, 0, (batch) => seenGood.push(...batch.events)),
    api.subscribe(bad, 0, (batch) => seenBad.push(...batch.events)),
  ];
  try {
    // Queued: a summary with status queued and the config it was launched with, never NOT_FOUND.
    const queued = await api.call('runs.get', { id: bad });
    assert.equal(queued.run.status, 'queued');
    assert.equal(queued.config.preset, 'baseline');
    assert.deepEqual(queued.checkpoints, { last: null, best: null });
    const history = await api.call('runs.history', { id: bad });
    assert.equal(history.job?.state, 'queued');
    assert.equal(history.steps.step.length, 0);

    assert.equal((await service.supervisor().waitForJob(a.runs[0].jobId)).state, 'completed');
    assert.equal((await service.supervisor().waitForJob(b.runs[0].jobId)).state, 'failed');
    await until(
      'both streams delivered their ends',
      () => jobStates(seenGood).includes('completed') && jobStates(seenBad).includes('failed'),
    );

    // The good run: queued → running → completed, and its preparation before the first step.
    assert.deepEqual(jobStates(seenGood), ['queued', 'running', 'completed']);
    const kinds = seenGood.map((e) => (e.kind === 'progress' ? `progress:${e.data.phase}` : e.kind));
    const firstStep = kinds.indexOf('step');
    assert.ok(firstStep > 0, 'the run trained');
    for (const phase of ['progress:preparing', 'progress:encoding']) {
      const at = kinds.indexOf(phase);
      assert.ok(
        at >= 0 && at < firstStep,
        `${phase} comes before the first step: ${kinds.slice(0, firstStep + 1).join(' ')}`,
      );
    }
    const encoding = seenGood.filter((e) => e.kind === 'progress' && e.data.phase === 'encoding');
    assert.ok(
      encoding.some((e) => e.kind === 'progress' && e.data.total !== null && e.data.total > 0),
      'encoding says how many images',
    );
    // Seqs are the stream's own, gap-free, job lines included.
    assert.deepEqual(
      seenGood.map((e) => e.seq),
      seenGood.map((_, i) => i + 1),
    );

    // The bad run: queued → running → failed, with the core's reason on the run's own stream.
    assert.deepEqual(jobStates(seenBad), ['queued', 'running', 'failed']);
    const failed = [...seenBad].reverse().find((e) => e.kind === 'job');
    assert.ok(failed?.kind === 'job');
    assert.equal(failed.data.error?.code, 'BAD_INPUT');
    assert.match(failed.data.error?.message ?? '', /no usable train items/);
    assert.ok(
      logged.some((l) => l.includes(b.runs[0].jobId) && /failed: \[BAD_INPUT\]/.test(l)),
      'the failure is logged with the job id',
    );

    // Still a run: runs.get answers it as failed with why; Stop after the end says so (no NOT_FOUND).
    const got = await api.call('runs.get', { id: bad });
    assert.equal(got.run.status, 'failed');
    assert.equal(got.run.error?.code, 'BAD_INPUT');
    const stopped = await api.call('runs.stop', { id: bad });
    assert.equal(stopped.outcome, 'finished');
    assert.equal(stopped.run.status, 'failed');
    const stoppedGood = await api.call('runs.stop', { id: good });
    assert.equal(stoppedGood.outcome, 'finished');
    assert.equal(stoppedGood.run.status, 'completed');
    await assert.rejects(api.call('runs.stop', { id: 'no-such-run' }), /NOT_FOUND|no such run/);

    // The history fold knows the job's end too.
    assert.equal((await api.call('runs.history', { id: bad })).job?.state, 'failed');
    const goodHistory = await api.call('runs.history', { id: good });
    assert.equal(goodHistory.job?.state, 'completed');
    assert.ok((goodHistory.time?.closedMs ?? 0) > 0, 'time trained is counted');

    // "Created" is the launch, not when config.json was written after the data was prepared.
    const summary = (await api.call('runs.get', { id: good })).run;
    assert.ok(
      summary.createdAt !== null && summary.createdAt >= launchedBefore && summary.createdAt <= launchedBy,
      `${summary.createdAt} in [${launchedBefore}, ${launchedBy}]`,
    );

    // The job lines in events.jsonl do not confuse aimkp doctor.
    const dir = join(root, 'ws', 'runs', good);
    assert.match(readFileSync(join(dir, 'events.jsonl'), 'utf8'), /^\{"type":"job"/m);
    const doctor = await diagnoseRun(dir);
    assert.equal(doctor.condition, 'completed');
    assert.equal(doctor.events.lastType, 'run-end');
  } finally {
    for (const s of subs) s.close();
  }
});

test('test scores are listed multimodal, text, image whatever order they were evaluated in', async () => {
  const r = await api.call('runs.evaluate', { id: good, modes: ['image', 'text', 'multimodal'] });
  assert.equal((await service.supervisor().waitForJob(r.jobId)).state, 'completed');
  const got = await api.call('runs.get', { id: good });
  assert.deepEqual(
    got.metrics.map((m) => m.mode),
    ['multimodal', 'text', 'image'],
  );
  assert.deepEqual(
    got.run.test.map((m) => m.mode),
    ['multimodal', 'text', 'image'],
  );
});

test("the robustness suite with its defaults (Compare's button) runs and reports", async () => {
  const r = await api.call('runs.robustness', { id: good });
  const job = service.supervisor().queue.get(r.jobId)!;
  assert.ok(isJobOf(job.spec, ROBUSTNESS_JOB));
  // While the suite is queued or runs, the run is still what its training left: completed (Compare lists finished
  // runs only; the status bar counts running ones).
  assert.ok(!['completed', 'failed'].includes(job.state), job.state);
  assert.equal((await api.call('runs.get', { id: good })).run.status, 'completed');
  assert.equal((await api.call('runs.list', {})).runs.find((x) => x.id === good)?.status, 'completed');
  assert.deepEqual(job.spec.params.suite, {}, 'no undefined fields travel to the worker');
  const ended = await service.supervisor().waitForJob(r.jobId);
  assert.equal(ended.state, 'completed', JSON.stringify(ended.error));
  const got = await api.call('runs.get', { id: good });
  assert.equal(got.robustness.length, 1);
  assert.ok(got.robustness[0].conditions.length > 5);
});
