// The data-parallel worker count through the app's path: Settings' `workers` reaches a training job's train()
// (run-start and the checkpoint record it), a job's own `workers` wins over it, and a bad setting is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStartEvent } from '../../shared/training-events';
import type { Supervisor } from '../../electron/supervisor/supervisor';
import { makeWorkspace, newSupervisor, runEvents, tinyAimkp, type TestWorkspace } from './fixtures';

let ws: TestWorkspace;
let sup: Supervisor;
before(async () => {
  ws = await makeWorkspace('sup-workers');
  sup = newSupervisor(ws.workspace, { concurrency: 1 });
});
after(async () => {
  await sup.shutdown();
  ws.cleanup();
});

const startOf = (runId: string) =>
  runEvents(ws.workspace, runId).find((e): e is RunStartEvent => e.type === 'run-start');
const checkpointWorkers = (runId: string) =>
  (
    JSON.parse(readFileSync(join(ws.workspace, 'runs', runId, 'checkpoints', 'last', 'state.json'), 'utf8')) as {
      workers: number;
    }
  ).workers;

test("Settings' workers reach the training job; a job's own workers win", async () => {
  assert.equal((await sup.setSettings({ workers: 2 })).workers, 2);
  const a = sup.startTraining({ runId: 'k2', dataDir: ws.data, config: tinyAimkp(1), maxSteps: 3 });
  assert.equal((await sup.waitForJob(a.id)).state, 'stopped');
  assert.equal(startOf('k2')?.workers, 2);
  assert.equal(checkpointWorkers('k2'), 2);

  const b = sup.startTraining({ runId: 'k1', dataDir: ws.data, config: tinyAimkp(1), maxSteps: 3, workers: 1 });
  assert.equal((await sup.waitForJob(b.id)).state, 'stopped');
  assert.equal(startOf('k1')?.workers, 1);

  // A resume with another K than the checkpoint's: said in run-start (and so in the Run view's log).
  const c = sup.resume('k2', { workers: 1 });
  assert.equal((await sup.waitForJob(c.id)).state, 'completed');
  const resumed = runEvents(ws.workspace, 'k2').filter((e): e is RunStartEvent => e.type === 'run-start')[1];
  assert.deepEqual([resumed.workers, resumed.workersChange?.checkpoint, resumed.workersChange?.now], [1, 2, 1]);
  await sup.setSettings({ workers: null });
});
