// The job worker's entry (a worker_threads thread; bundled as dist-electron/worker.js, run from TypeScript with
// `--import tsx` in development and tests). One worker runs one job and exits; a crash here ends only this job.
import { parentPort, workerData } from 'node:worker_threads';
import { runJob, type TaskContext } from './worker-tasks';
import { registerServiceTasks } from './service-tasks';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-entry.ts must run in a worker thread');
const init = workerData as WorkerInit;
const stopFlag = new Int32Array(init.stopFlag);
const controller = new AbortController();
const post = (m: FromWorker) => port.postMessage(m);

const checkStop = (): boolean => {
  if (!controller.signal.aborted && Atomics.load(stopFlag, 0) === 1) controller.abort();
  return controller.signal.aborted;
};

port.on('message', (m: ToWorker) => {
  if (m.t === 'stop') {
    Atomics.store(stopFlag, 0, 1);
    checkStop();
  }
});

const ctx: TaskContext = {
  runsDir: init.runsDir,
  datasetsDir: init.datasetsDir,
  cacheDir: init.cacheDir,
  backend: init.backend,
  signal: controller.signal,
  checkStop,
  poke: (runId) => post({ t: 'poke', runId }),
  progress: (progress) => {
    post({ t: 'progress', progress });
    checkStop();
  },
  log: (line) => post({ t: 'log', line }),
};

registerServiceTasks();
const outcome = await runJob(init.spec, ctx);
// The supervisor terminates the thread once it has this message (a library may leave a handle open).
post({ t: 'done', outcome });
