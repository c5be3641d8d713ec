// `npm run bench:transport [-- --quick] [-- --out FILE]`: the cost of the contract layer itself, as ONE JSON
// object on stdout (progress on stderr):
//   - validation: requests per second through dispatch (valid runs.start, random invalid payloads);
//   - WebSocket calls (browser mode, real sockets on loopback): sequential round trip p50 / p99, and calls per
//     second with 64 in flight;
//   - a large answer: one runs.events page of 5,000 step events over the WebSocket (bytes, ms);
//   - in-process session (what Electron IPC adds minus the IPC hop itself): round trip p50 / p99.
// Handlers are trivial, so the numbers are the transport's. See docs/benchmarks.md.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { dispatchCall } from '../shared/contract/dispatch';
import { createClient, createPortTransport, type TextPort } from '../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../shared/contract/ws-port';
import type { ServiceBackend } from '../shared/contract/handlers';
import type { ServiceEvent } from '../shared/contract/service';
import { createRpcSession } from '../electron/transport/rpc-session';
import { startWorkbenchServer } from '../electron/server/server';
import { VALID_REQUESTS, SYSTEM_INFO, randomJson, rng } from '../test/contract/fixtures';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const { values } = scriptArgs(fileURLToPath(import.meta.url), {
  options: { quick: { type: 'boolean' }, out: { type: 'string' } },
});
const quick = values.quick === true;
const log = (line: string) => process.stderr.write(`bench:transport: ${line}\n`);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function stepEvents(n: number): ServiceEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const time = new Date(1_700_000_000_000 + i).toISOString();
    const data = {
      type: 'step' as const,
      time,
      run: 'bench',
      epoch: 0,
      step: i + 1,
      stepInEpoch: i + 1,
      stepsPerEpoch: n,
      loss: 2.5,
      variantLoss: { original: 2.4, text: 2.6, image: 2.7 },
      samples: Array.from({ length: 4 }, (_, k) => ({
        index: k,
        strideText: 2,
        strideImage: 4,
        cosText: 0.31,
        cosImage: 0.52,
        acceptText: true,
        acceptImage: true,
      })),
      accepted: { text: 3, image: 4 },
      checked: { text: 4, image: 4 },
      rows: 12,
      lr: 0.001,
      adapterLr: 0.001,
      gradNorm: 1.2,
      ms: 110,
    };
    return { v: 1, runId: 'bench', seq: i + 1, time, kind: 'step', data } as unknown as ServiceEvent;
  });
}

const events = stepEvents(5000);
const backend: ServiceBackend = {
  handlers: {
    'system.info': async () => SYSTEM_INFO,
    'runs.start': async () => ({ runs: [] }),
    'runs.events': async (req) => ({
      events: events.slice(req.sinceSeq, req.sinceSeq + req.limit),
      lastSeq: 5000,
      more: false,
    }),
  },
  subscriptions: {},
};
const ctx = { signal: new AbortController().signal, transport: 'local' as const, clientId: 'bench' };

// ---- validation ----
const nValid = quick ? 20_000 : 100_000;
let t = performance.now();
for (let i = 0; i < nValid; i++) await dispatchCall(backend, 'runs.start', VALID_REQUESTS['runs.start'], ctx);
const validPerSec = nValid / ((performance.now() - t) / 1000);
const r = rng(1);
const junk = Array.from({ length: nValid }, () => randomJson(r));
t = performance.now();
for (const j of junk) await dispatchCall(backend, 'runs.start', j, ctx);
const invalidPerSec = nValid / ((performance.now() - t) / 1000);
log(`validation: ${Math.round(validPerSec)} valid/s, ${Math.round(invalidPerSec)} invalid/s`);

// ---- in-process session ----
let deliver: (text: string) => void = () => undefined;
const session = createRpcSession({
  backend,
  send: (text) => queueMicrotask(() => deliver(text)),
  transport: 'ipc',
  clientId: 'bench',
});
const memPort: TextPort = {
  send: (text) => queueMicrotask(() => session.receive(text)),
  onMessage: (l) => ((deliver = l), () => undefined),
};
const memApi = createClient(createPortTransport(memPort));
const nSeq = quick ? 2000 : 10_000;
const memLat: number[] = [];
for (let i = 0; i < nSeq; i++) {
  const s = performance.now();
  await memApi.call('system.info', {});
  memLat.push(performance.now() - s);
}
memLat.sort((a, b) => a - b);
log(`in-process session: p50 ${round(quantile(memLat, 0.5))} ms`);

// ---- WebSocket ----
const server = await startWorkbenchServer({ backend, rendererDir: mkdtempSync(join(tmpdir(), 'bench-r-')), port: 0 });
const origin = `http://127.0.0.1:${server.port}`;
const port = createWebSocketPort(`ws://127.0.0.1:${server.port}/api`, {
  connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
});
const api = createClient(createPortTransport(port));
await api.call('system.info', {});
const wsLat: number[] = [];
for (let i = 0; i < nSeq; i++) {
  const s = performance.now();
  await api.call('system.info', {});
  wsLat.push(performance.now() - s);
}
wsLat.sort((a, b) => a - b);
const nPar = quick ? 5000 : 20_000;
t = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < nPar) {
      next++;
      await api.call('system.info', {});
    }
  }),
);
const parPerSec = nPar / ((performance.now() - t) / 1000);
log(`websocket: p50 ${round(quantile(wsLat, 0.5))} ms, ${Math.round(parPerSec)} calls/s with 64 in flight`);

const bigTimes: number[] = [];
let bigBytes = 0;
for (let i = 0; i < (quick ? 5 : 20); i++) {
  const s = performance.now();
  const page = await api.call('runs.events', { id: 'bench', sinceSeq: 0, limit: 5000 });
  bigTimes.push(performance.now() - s);
  bigBytes = JSON.stringify(page).length;
}
bigTimes.sort((a, b) => a - b);
port.close();
await server.close();

const result = {
  bench: 'transport',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.versions.node },
  quick,
  validation: {
    validRunsStartPerSec: Math.round(validPerSec),
    invalidPayloadsPerSec: Math.round(invalidPerSec),
    n: nValid,
  },
  inProcessSession: { calls: nSeq, p50Ms: round(quantile(memLat, 0.5)), p99Ms: round(quantile(memLat, 0.99)) },
  websocket: {
    sequential: { calls: nSeq, p50Ms: round(quantile(wsLat, 0.5)), p99Ms: round(quantile(wsLat, 0.99)) },
    concurrent64: { calls: nPar, callsPerSec: Math.round(parPerSec) },
    eventsPage5000: {
      bytes: bigBytes,
      p50Ms: round(quantile(bigTimes, 0.5), 1),
      maxMs: round(bigTimes[bigTimes.length - 1], 1),
    },
  },
};
const json = JSON.stringify(result, null, 2);
if (values.out) writeFileSync(values.out, json + '\n');
process.stdout.write(json + '\n');
