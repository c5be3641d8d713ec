// `npm run bench:supervisor`: the supervisor's event path and responsiveness, end to end through the real
// browser-mode server: job worker → events.jsonl → supervisor tail → batches → WebSocket → a client in its own
// thread. Measures (1) delivered events per second with the writer flat out, (2) per-event latency at a steady
// 2,000 events/s, (3) the main thread's event-loop delay while a real training streams to the client, and
// (4) stop latency (steps and ms between the request and the stopped run's checkpointed end).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import type { TrainConfig } from '../../models/index';
import { machineInfo, type MachineInfo } from '../../models/bench/machine';
import { parseTrainingEvent, type RunEndEvent, type StepEvent } from '../../shared/training-events';
import { readFileSync } from 'node:fs';
import { startWorkbenchServer } from '../../electron/server/server';
import { createService } from '../../electron/service/create-service';
import { BATCH_INTERVAL_MS } from '../../electron/supervisor/event-hub';
import { EVENT_FLOOD_JOB, FLOOD_WORKER_ENTRY } from './event-flood';

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SupervisorBenchResult {
  benchmark: 'aimkp-supervisor-bench-v1';
  quick: boolean;
  date: string;
  machine: MachineInfo & { loadAverage1mAtStart: number; loadAverage1mAtEnd: number };
  setup: { transport: 'websocket (browser-mode server, loopback)'; batchIntervalMs: number; trainModel: string };
  events: {
    /** Writer flat out: events delivered to the client per second, first write → last delivery. */
    flatOut: {
      events: number;
      seconds: number;
      deliveredPerSecond: number;
      writtenPerSecond: number;
      batches: number;
      latencyMs: Quantiles;
    };
    /** A steady rate: per-event latency from the write (event time) to the client's receipt. */
    paced: {
      ratePerSecond: number;
      events: number;
      deliveredPerSecond: number;
      batchesPerSecond: number;
      latencyMs: Quantiles;
    };
  };
  /** Main thread (supervisor + server) event-loop delay while a training streams every event to the client. */
  loopDelayDuringTraining: {
    ms: Quantiles & { mean: number };
    steps: number;
    seconds: number;
    msPerStep: number;
    eventsDelivered: number;
  };
  stop: {
    trials: {
      requestedAfterStep: number;
      stoppedAfterStep: number;
      stepsAfterRequest: number;
      msToStopped: number;
      msPerStep: number;
    }[];
    maxStepsAfterRequest: number;
  };
  goals: {
    eventsPerSecond: { goal: 2000; value: number; met: boolean };
    loopDelayP99Ms: { goal: 20; value: number; met: boolean };
    stopSteps: { goal: 1; value: number; met: boolean };
  };
}

function quantiles(values: number[]): Quantiles {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { p50: q(0.5), p99: q(0.99), max: s.length === 0 ? NaN : s[s.length - 1] };
}

/** The client: a thread of its own with a plain `ws` connection, counting events and their latency. */
const CLIENT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.wsPath);
const ws = new WebSocket(workerData.url, { origin: workerData.origin });
let id = 0;
const subs = new Map();
ws.on('message', (buf) => {
  const m = JSON.parse(buf.toString());
  if (m.t !== 'event') return;
  const s = subs.get(m.id);
  if (!s) return;
  const now = Date.now();
  s.batches += 1;
  for (const e of m.data.events) {
    if (e.seq !== s.last + 1) s.gaps += 1;
    s.last = e.seq;
    s.latency.push(now - Date.parse(e.time));
    if (s.first === null) s.first = now;
    s.lastAt = now;
  }
  if (s.last >= s.want) {
    ws.send(JSON.stringify({ t: 'unlisten', id: m.id }));
    subs.delete(m.id);
    parentPort.postMessage({ t: 'done', runId: s.runId, received: s.last, gaps: s.gaps, batches: s.batches, latency: s.latency, firstAt: s.first, lastAt: s.lastAt });
  }
});
ws.on('open', () => parentPort.postMessage({ t: 'open' }));
ws.on('error', (e) => parentPort.postMessage({ t: 'error', message: String(e && e.message) }));
parentPort.on('message', (m) => {
  if (m.t !== 'follow') return;
  const sid = ++id;
  subs.set(sid, { runId: m.runId, want: m.want, last: 0, gaps: 0, batches: 0, latency: [], first: null, lastAt: null });
  ws.send(JSON.stringify({ t: 'listen', id: sid, event: 'events.subscribe', arg: { runId: m.runId, sinceSeq: 0 } }));
});
`;

interface FollowResult {
  runId: string;
  received: number;
  gaps: number;
  batches: number;
  latency: number[];
  firstAt: number;
  lastAt: number;
}

class BenchClient {
  private readonly worker: Worker;
  private readonly waiting = new Map<string, (r: FollowResult) => void>();

  private constructor(url: string, origin: string) {
    const wsPath = createRequire(import.meta.url).resolve('ws');
    this.worker = new Worker(CLIENT_SOURCE, { eval: true, workerData: { url, origin, wsPath } });
    this.worker.on('message', (m: { t: string } & Partial<FollowResult> & { message?: string }) => {
      if (m.t === 'done') this.waiting.get(m.runId!)?.(m as FollowResult);
    });
  }

  static async connect(url: string, origin: string): Promise<BenchClient> {
    const c = new BenchClient(url, origin);
    await new Promise<void>((resolve, reject) => {
      c.worker.on('message', (m: { t: string; message?: string }) =>
        m.t === 'open' ? resolve() : m.t === 'error' ? reject(new Error(m.message)) : undefined,
      );
    });
    return c;
  }

  /** Subscribes to a stream from seq 0 and resolves once `want` events have arrived. */
  follow(runId: string, want: number): Promise<FollowResult> {
    return new Promise((resolve) => {
      this.waiting.set(runId, resolve);
      this.worker.postMessage({ t: 'follow', runId, want });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

function benchTrainConfig(quick: boolean): TrainConfig {
  const c = resolveConfig({ preset: 'baseline', flags: { epochs: 20, encoder: 'patch:4:8', seed: 1 } });
  c.model = quick
    ? { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0, lora: null }
    : { dModel: 64, nLayers: 2, nHeads: 4, dFF: 128, adapterHidden: 64, dropout: 0, lora: null };
  c.batchSize = 8;
  c.samplesPerCall = 8;
  c.maxValid = 8;
  c.checkpointEvery = 0;
  return c;
}

const readRun = (workspace: string, runId: string) =>
  readFileSync(join(workspace, 'runs', runId, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseTrainingEvent)
    .filter((e) => e !== null);

export async function runSupervisorBench(o: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<SupervisorBenchResult> {
  const log = o.log ?? (() => undefined);
  const root = mkdtempSync(join(tmpdir(), 'aimkp-bench-sup-'));
  const workspace = join(root, 'ws');
  const data = join(root, 'data');
  const load0 = loadavg()[0];
  const service = createService({
    workspace,
    host: 'browser',
    bundledDataDir: null,
    locatorFile: null,
    // The worker knows the benchmark's own job kind (event-flood) as well as the app's.
    supervisor: { concurrency: 1, workerEntry: FLOOD_WORKER_ENTRY },
  });
  const server = await startWorkbenchServer({ backend: service.backend, rendererDir: root, port: 0 });
  const origin = `http://127.0.0.1:${server.port}`;
  const client = await BenchClient.connect(`ws://127.0.0.1:${server.port}/api`, origin);
  const sup = service.supervisor();
  try {
    // (1) Flat out.
    const flatN = o.quick ? 5_000 : 50_000;
    log(`events: ${flatN} flat out`);
    const flatFollow = client.follow('flood-flat', flatN);
    const flatJob = sup.enqueue(EVENT_FLOOD_JOB, { runId: 'flood-flat', count: flatN });
    const flat = await flatFollow;
    await sup.waitForJob(flatJob.id);
    const flatEvents = readRun(workspace, 'flood-flat');
    const firstWrite = Date.parse(flatEvents[0]!.time);
    const lastWrite = Date.parse(flatEvents[flatEvents.length - 1]!.time);
    const flatSeconds = (flat.lastAt - firstWrite) / 1000;
    if (flat.gaps !== 0 || flat.received !== flatN)
      throw new Error(`flat-out: ${flat.gaps} gaps, ${flat.received}/${flatN} events`);

    // (2) Paced at 2,000 events/s.
    const rate = 2000;
    const pacedN = o.quick ? 2_000 : 20_000;
    log(`events: ${pacedN} at ${rate}/s`);
    const pacedFollow = client.follow('flood-paced', pacedN);
    const pacedJob = sup.enqueue(EVENT_FLOOD_JOB, { runId: 'flood-paced', count: pacedN, ratePerSec: rate });
    const paced = await pacedFollow;
    await sup.waitForJob(pacedJob.id);
    const pacedEvents = readRun(workspace, 'flood-paced');
    const pacedSeconds = (paced.lastAt - Date.parse(pacedEvents[0]!.time)) / 1000;
    if (paced.gaps !== 0 || paced.received !== pacedN)
      throw new Error(`paced: ${paced.gaps} gaps, ${paced.received}/${pacedN} events`);

    // (3) Loop delay while a real training streams to the client.
    await buildSynthDataset({ n: o.quick ? 60 : 200, seed: 1, out: data });
    const cfg = benchTrainConfig(o.quick);
    const trainSteps = o.quick ? 20 : 120;
    log(`training: ${trainSteps} steps, loop delay sampled every 1 ms`);
    const job = sup.startTraining({ runId: 'train-loop', dataDir: data, config: cfg, maxSteps: trainSteps });
    const h = monitorEventLoopDelay({ resolution: 1 });
    // Sample only while steps run (not worker start-up / data preparation, which happen in the worker anyway).
    const stepsStarted = waitForStep(workspace, 'train-loop', 1);
    await stepsStarted;
    h.enable();
    const t0 = performance.now();
    await sup.waitForJob(job.id);
    const seconds = (performance.now() - t0) / 1000;
    h.disable();
    const trainEvents = readRun(workspace, 'train-loop');
    const trained = await client.follow('train-loop', trainEvents.length);
    const steps = trainEvents.filter((e): e is StepEvent => e.type === 'step');
    const loop = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6 };

    // (4) Stop latency.
    const trials: SupervisorBenchResult['stop']['trials'] = [];
    const nTrials = o.quick ? 1 : 3;
    for (let k = 0; k < nTrials; k++) {
      const runId = `train-stop-${k}`;
      const at = 3 + 2 * k;
      log(`stop trial ${k + 1}/${nTrials}: stop after step ${at}`);
      const j = sup.startTraining({ runId, dataDir: data, config: cfg });
      await waitForStep(workspace, runId, at);
      const requestedAfterStep = readRun(workspace, runId).filter((e) => e.type === 'step').length;
      const tStop = Date.now();
      sup.stop(runId);
      await sup.waitForJob(j.id);
      const ev = readRun(workspace, runId);
      const end = ev.filter((e): e is RunEndEvent => e.type === 'run-end').at(-1)!;
      const st = ev.filter((e): e is StepEvent => e.type === 'step');
      trials.push({
        requestedAfterStep,
        stoppedAfterStep: end.step,
        stepsAfterRequest: end.step - requestedAfterStep,
        msToStopped: Date.parse(end.time) - tStop,
        msPerStep: st.reduce((a, e) => a + e.ms, 0) / Math.max(1, st.length),
      });
    }
    const maxSteps = Math.max(...trials.map((t) => t.stepsAfterRequest));
    const delivered = flatN / flatSeconds;
    return {
      benchmark: 'aimkp-supervisor-bench-v1',
      quick: o.quick,
      date: new Date().toISOString(),
      machine: { ...machineInfo(), loadAverage1mAtStart: load0, loadAverage1mAtEnd: loadavg()[0] },
      setup: {
        transport: 'websocket (browser-mode server, loopback)',
        batchIntervalMs: BATCH_INTERVAL_MS,
        trainModel: `baseline d=${cfg.model.dModel} L=${cfg.model.nLayers} batch ${cfg.batchSize}, patch:4:8 encoder, synthetic data`,
      },
      events: {
        flatOut: {
          events: flatN,
          seconds: flatSeconds,
          deliveredPerSecond: delivered,
          writtenPerSecond: flatN / Math.max(0.001, (lastWrite - firstWrite) / 1000),
          batches: flat.batches,
          latencyMs: quantiles(flat.latency),
        },
        paced: {
          ratePerSecond: rate,
          events: pacedN,
          deliveredPerSecond: pacedN / pacedSeconds,
          batchesPerSecond: paced.batches / pacedSeconds,
          latencyMs: quantiles(paced.latency),
        },
      },
      loopDelayDuringTraining: {
        ms: loop,
        steps: steps.length,
        seconds,
        msPerStep: steps.reduce((a, e) => a + e.ms, 0) / Math.max(1, steps.length),
        eventsDelivered: trained.received,
      },
      stop: { trials, maxStepsAfterRequest: maxSteps },
      goals: {
        eventsPerSecond: { goal: 2000, value: delivered, met: delivered >= 2000 },
        loopDelayP99Ms: { goal: 20, value: loop.p99, met: loop.p99 <= 20 },
        stopSteps: { goal: 1, value: maxSteps, met: maxSteps <= 1 },
      },
    };
  } finally {
    await client.close();
    await server.close();
    await service.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function waitForStep(workspace: string, runId: string, step: number): Promise<void> {
  for (;;) {
    try {
      if (readRun(workspace, runId).filter((e) => e.type === 'step').length >= step) return;
    } catch {
      /* no events yet */
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
