// The worker's entry (a worker_threads thread; bundled as dist-electron/worker.js, run from TypeScript through
// worker-dev.mjs in development and tests). Two modes: 'job' runs one queued job and ends (a crash ends only that
// job); 'predict-server' stays up and runs the jobs it is sent ("Try it" predictions) with the runs' models kept
// loaded. Both dispatch through the job-kind table (run-job.ts).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Predictor, RUN_FILES, setRunWriteFence } from '../../models/index';
import { runJob } from './run-job';
import { lowerThreadPriority } from './thread-priority';
import type { PredictorSource, TaskContext } from './task-context';
import { oneShotPredictors } from './tasks/predict';
import type { FromWorker, JobWorkerInit, PredictServerInit, ToWorker, WorkerInit } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('worker-entry.ts must run in a worker thread');
const post = (m: FromWorker) => port.postMessage(m);
const init = workerData as WorkerInit;
const log = (line: string) => post({ t: 'log', line });

if (init.mode === 'predict-server') servePredictions(init);
else await runOneJob(init);

/**
 * A lab worker's job: nothing more is written into the run once the lease's last acknowledged renewal is older than
 * the fence time, or the main thread says it is lost. Checked before every write (models/run/write-fence.ts), so a
 * process that was frozen (SIGSTOP, a suspended VM) writes nothing when it wakes after another worker took over.
 */
function installLeaseFence(lease: NonNullable<JobWorkerInit['lease']>): void {
  const renewedAt = new BigInt64Array(lease.state, 0, 1);
  const closed = new Int32Array(lease.state, 8, 1);
  setRunWriteFence(() => {
    if (Atomics.load(closed, 0) === 1) return 'the lease of this job was lost';
    const age = Date.now() - Number(Atomics.load(renewedAt, 0));
    return age > lease.fenceAfterMs
      ? `no lease renewal for ${age} ms (fence at ${lease.fenceAfterMs} ms): another worker may own the run`
      : null;
  });
}

async function runOneJob(init: JobWorkerInit): Promise<void> {
  // Below the main thread and the UI: the charts stay live while every core trains (thread-priority.ts).
  lowerThreadPriority();
  if (init.lease) installLeaseFence(init.lease);
  const stopFlag = new Int32Array(init.stopFlag);
  const controller = new AbortController();
  const checkStop = (): boolean => {
    if (!controller.signal.aborted && Atomics.load(stopFlag, 0) === 1) controller.abort();
    return controller.signal.aborted;
  };
  port!.on('message', (m: ToWorker) => {
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
    workers: init.workers,
    lockCommand: init.lockCommand,
    signal: controller.signal,
    checkStop,
    poke: (runId) => post({ t: 'poke', runId }),
    progress: (progress) => {
      post({ t: 'progress', progress });
      checkStop();
    },
    log,
    predictors: oneShotPredictors({ backend: init.backend, log }),
    runLockHeld: init.runLockHeld,
  };
  const outcome = await runJob(init.spec, ctx);
  // The supervisor terminates the thread once it has this message (a library may leave a handle open).
  post({ t: 'done', outcome });
}

/** Loaded models by run folder, reloaded when the run's best checkpoint changes; at most MAX_LOADED kept. */
const MAX_LOADED = 8;

function servePredictions(init: PredictServerInit): void {
  const loaded = new Map<string, { predictor: Predictor; stamp: number }>();
  const stampOf = (runDir: string) => {
    try {
      return statSync(join(runDir, RUN_FILES.best, 'state.json')).mtimeMs;
    } catch {
      return -1;
    }
  };
  const keptLoaded: PredictorSource = {
    async get(runDir) {
      const stamp = stampOf(runDir);
      const had = loaded.get(runDir);
      if (had && had.stamp === stamp) {
        // Most recently used last.
        loaded.delete(runDir);
        loaded.set(runDir, had);
        return had.predictor;
      }
      had?.predictor.dispose();
      loaded.delete(runDir);
      const predictor = await Predictor.open(runDir, { backend: init.backend, log });
      loaded.set(runDir, { predictor, stamp });
      for (const [dir, entry] of loaded) {
        if (loaded.size <= MAX_LOADED) break;
        entry.predictor.dispose();
        loaded.delete(dir);
      }
      return predictor;
    },
    release: () => undefined,
  };
  const cancels = new Map<number, AbortController>();
  // One request at a time (they share the models and the cores).
  let chain: Promise<void> = Promise.resolve();
  port!.on('message', (m: ToWorker) => {
    if (m.t === 'cancel') cancels.get(m.id)?.abort();
    if (m.t !== 'run') return;
    const controller = new AbortController();
    cancels.set(m.id, controller);
    const ctx: TaskContext = {
      runsDir: init.runsDir,
      datasetsDir: init.datasetsDir,
      cacheDir: init.cacheDir,
      backend: init.backend,
      workers: 1,
      signal: controller.signal,
      checkStop: () => controller.signal.aborted,
      poke: (runId) => post({ t: 'poke', runId }),
      progress: () => undefined,
      log,
      predictors: keptLoaded,
      runLockHeld: false,
    };
    chain = chain.then(async () => {
      try {
        post({ t: 'ran', id: m.id, outcome: await runJob(m.spec, ctx) });
      } finally {
        cancels.delete(m.id);
      }
    });
  });
}
