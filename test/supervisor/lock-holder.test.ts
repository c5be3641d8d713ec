// What the locks of a served workspace say (issue 16, item 15): the workspace lock names the server, a run the
// server trains names the server and the job (not "aimkp train"), and a stale run lock a server job takes over
// is said (on the server's log), as the CLI says it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { inspectLock, LOCK_FILE } from '../../models/run/run-lock';
import { createService, type Service } from '../../electron/service/index';
import { makeWorkspace, runEvents, tinyAimkp, waitFor, type TestWorkspace } from './fixtures';

let ws: TestWorkspace;
const stepsOf = (runId: string) => {
  try {
    return runEvents(ws.workspace, runId).filter((e) => e.type === 'step').length;
  } catch {
    return 0;
  }
};
let service: Service;
const logs: string[] = [];
before(async () => {
  ws = await makeWorkspace('lock-holder');
  service = createService({
    host: 'browser',
    workspace: ws.workspace,
    bundledDataDir: null,
    locatorFile: null,
    supervisor: { log: (line) => logs.push(line), shutdownTimeoutMs: 60_000 },
  });
});
after(async () => {
  await service?.close();
  ws?.cleanup();
});

test('the workspace lock names the server; a run it trains names the server and the job', async () => {
  const held = inspectLock(ws.workspace);
  assert.ok(held.state === 'held' && held.holder.command === 'aimkp serve', JSON.stringify(held));

  const sup = service.supervisor();
  const job = sup.startTraining({ runId: 'served', dataDir: ws.data, config: tinyAimkp(3) });
  const runDir = join(ws.workspace, 'runs', 'served');
  await waitFor(() => inspectLock(runDir).state === 'held', 120_000, 5);
  const lock = inspectLock(runDir);
  assert.ok(lock.state === 'held', JSON.stringify(lock));
  assert.equal(lock.holder.command, `aimkp serve (job ${job.id})`);
  await waitFor(() => stepsOf('served') >= 2, 120_000, 5);
  sup.stop('served');
  assert.equal((await sup.waitForJob(job.id)).state, 'stopped');
});

test('a server job that takes a stale run lock over says so on the server log', async () => {
  const sup = service.supervisor();
  const runDir = join(ws.workspace, 'runs', 'served');
  // The lock of a CLI training killed with SIGKILL: its pid is gone.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(
    join(runDir, LOCK_FILE),
    JSON.stringify({
      pid: dead,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: 'aimkp train',
      token: 'x',
    }),
  );
  const job = sup.resume('served', { maxSteps: 10 });
  assert.equal((await sup.waitForJob(job.id)).state, 'stopped');
  const said = logs.filter((l) => l.includes('took over the lock of "aimkp train"'));
  assert.equal(said.length, 1, logs.join('\n'));
  assert.match(said[0], new RegExp(`pid ${dead} on ${hostname()}.*: process ${dead} on \\S+ is no longer running`));
});
