// jobs.json across versions: a file written by the previous version (format v1: training fields at the top of the
// spec, other work as { kind: 'task', task, runId?, params }) loads through the job-kind table, its queued work
// runs, and the next save writes v2; a record that cannot be read is left out with a message naming the file,
// the record and the field, the file as read kept as jobs.json.bak. (This file does not import the benchmark's
// event-flood kind: for it, that kind is unknown, as in the app.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindOfSpec, runOfSpec } from '../../electron/supervisor/job-kinds';
import { upgradeV1Spec } from '../../electron/supervisor/jobs-file';
import { newSupervisor } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-jobs-file-'));
after(() => rmSync(root, { recursive: true, force: true }));

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'jobs-v1.json');

/** The previous version's jobs.json of a workspace at `ws` (its absolute paths were written for /tmp/ws-v1). */
function writeV1(ws: string): string {
  mkdirSync(ws, { recursive: true });
  const file = join(ws, 'jobs.json');
  writeFileSync(file, readFileSync(FIXTURE, 'utf8').replaceAll('/tmp/ws-v1', ws));
  return file;
}

test('the previous version’s jobs.json loads: specs upgraded, running → interrupted, queued work runs, saved as v2', async () => {
  const ws = join(root, 'v1');
  const file = writeV1(ws);
  const original = readFileSync(file, 'utf8');
  const logs: string[] = [];
  const sup = newSupervisor(ws, { log: (l) => logs.push(l) });
  let ids: string[];
  try {
    const jobs = [...sup.queue.list()].reverse(); // oldest first, as in the file
    const row = (i: number) => {
      const j = jobs[i];
      return [j.spec.kind, j.state, runOfSpec(j.spec), kindOfSpec(j.spec).label(j.spec.params), j.error?.code ?? null];
    };
    assert.equal(jobs.length, 5, JSON.stringify(jobs.map((j) => j.spec.kind)));
    assert.deepEqual(row(0), ['train', 'failed', 'old-train', 'train aimkp (seed 3) → old-train', 'NOT_FOUND']);
    assert.deepEqual(row(1), ['import', 'completed', null, 'import old set (synthetic)', null]);
    assert.deepEqual(row(2), [
      'evaluate',
      'failed',
      'old-eval',
      'evaluate old-eval test multimodal+text, greedy',
      'NOT_FOUND',
    ]);
    // Running when the previous app died: interrupted, resumable.
    assert.deepEqual(row(3), ['resume', 'interrupted', 'old-train', 'resume old-train', 'APP_CRASHED']);
    const train = jobs[0].spec.params as {
      runId: string;
      dataDir: string;
      config: { preset: string };
      maxSteps: number;
    };
    assert.deepEqual(
      [train.runId, train.dataDir, train.config.preset, train.maxSteps],
      ['old-train', join(ws, 'no-data'), 'aimkp', 4],
    );

    // The benchmark's kind is not the app's: left out, reported, the file kept as read.
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(
      logs[0],
      /jobs\.json: jobs\[3\] \(job [0-9a-f-]+\): field "kind": unknown job kind "event-flood" \(known: train, resume, evaluate, robustness, predict, import, dataset-load, probe\); left out of the job list \(the file as read is kept as .*jobs\.json\.bak\)/,
    );
    assert.equal(readFileSync(`${file}.bak`, 'utf8'), original);

    // Queued by the previous version: it runs now.
    const queued = jobs[4];
    assert.equal(queued.spec.kind, 'import');
    const done = await sup.waitForJob(queued.id);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.ok(existsSync(join(ws, 'datasets', 'queued-set', 'manifest.jsonl')));
    ids = jobs.map((j) => j.id);
  } finally {
    await sup.shutdown();
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { format: string; jobs: { id: string; spec: object }[] };
  assert.equal(saved.format, 'aimkp-jobs-v2');
  assert.deepEqual(saved.jobs.map((j) => j.id).sort(), [...ids].sort());
  assert.deepEqual(saved.jobs.find((j) => j.id === ids[2])?.spec, {
    kind: 'evaluate',
    params: {
      runDir: join(ws, 'runs', 'old-eval'),
      split: 'test',
      modes: ['multimodal', 'text'],
      decode: { strategy: 'greedy' },
      checkpoint: 'best',
      runId: 'old-eval',
    },
  });
  const again = newSupervisor(ws);
  try {
    assert.deepEqual(
      ids.map((id) => again.queue.get(id)?.state),
      ['failed', 'completed', 'failed', 'interrupted', 'completed'],
    );
  } finally {
    await again.shutdown();
  }
});

test('records that cannot be read are left out, each reported with its field; a file that is not a job list is refused', async () => {
  const ws = join(root, 'bad');
  mkdirSync(ws, { recursive: true });
  const record = {
    id: 'a',
    spec: {
      kind: 'evaluate',
      params: {
        runId: 'r',
        runDir: '/w/runs/r',
        split: 'train',
        modes: ['text'],
        decode: { strategy: 'greedy' },
        checkpoint: 'best',
      },
    },
    state: 'completed',
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    endedAt: null,
    error: null,
    progress: null,
    result: null,
  };
  const good = { ...record, id: 'b', spec: { ...record.spec, params: { ...record.spec.params, split: 'test' } } };
  const noState = { ...good, id: 'c', state: 'paused' };
  writeFileSync(join(ws, 'jobs.json'), JSON.stringify({ format: 'aimkp-jobs-v2', jobs: [record, good, noState] }));
  const logs: string[] = [];
  const sup = newSupervisor(ws, { log: (l) => logs.push(l) });
  try {
    assert.deepEqual(
      sup.queue.list().map((j) => j.id),
      ['b'],
    );
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.match(logs[0], /jobs\.json: jobs\[0\] \(job a\): field "params\.split": .*"valid".*"test"/);
    assert.match(logs[1], /jobs\.json: jobs\[2\] \(job c\): field "state": /);
  } finally {
    await sup.shutdown();
  }

  const future = join(root, 'future');
  mkdirSync(future, { recursive: true });
  writeFileSync(join(future, 'jobs.json'), JSON.stringify({ format: 'aimkp-jobs-v9', jobs: [] }));
  assert.throws(() => newSupervisor(future), /jobs\.json: field "format": expected "aimkp-jobs-v2"/);
});

test('v1 specs in today’s shape', () => {
  assert.deepEqual(upgradeV1Spec({ kind: 'resume', runId: 'r', maxSteps: 3 }), {
    kind: 'resume',
    params: { runId: 'r', maxSteps: 3 },
  });
  assert.deepEqual(upgradeV1Spec({ kind: 'task', task: 'robustness', runId: 'r', params: { split: 'test' } }), {
    kind: 'robustness',
    params: { split: 'test', runId: 'r' },
  });
  assert.deepEqual(upgradeV1Spec({ kind: 'task', task: 'import', params: { name: 'x' } }), {
    kind: 'import',
    params: { name: 'x' },
  });
});
