// The whole chain over a real WebSocket: browser-mode server → service → supervisor → a real tiny training in a
// worker thread. The client's connection is cut twice while the run streams; it reconnects, resubscribes from
// the last seq it had, and ends with every event of events.jsonl exactly once, in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { createClient, createPortTransport } from '../../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../../shared/contract/ws-port';
import { startWorkbenchServer, type WorkbenchServer } from '../../electron/server/server';
import { createService, type Service } from '../../electron/service/create-service';
import {
  makeWorkspace,
  streamEnded,
  streamRecords,
  tinyAimkp,
  waitFor,
  type TestWorkspace,
} from '../supervisor/fixtures';

let ws: TestWorkspace;
let service: Service;
let server: WorkbenchServer;
before(async () => {
  ws = await makeWorkspace('sup-ws');
  service = createService({ workspace: ws.workspace, host: 'browser', bundledDataDir: null, locatorFile: null });
  server = await startWorkbenchServer({ backend: service.backend, rendererDir: ws.root, port: 0 });
});
after(async () => {
  await server.close();
  await service.close();
  ws.cleanup();
});

test('a client cut off twice during a training gets every event exactly once after reconnecting', async () => {
  const origin = `http://127.0.0.1:${server.port}`;
  const port = createWebSocketPort(`ws://127.0.0.1:${server.port}/api`, {
    connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
    minDelayMs: 20,
    maxDelayMs: 100,
  });
  const api = createClient(createPortTransport(port));
  const seqs: number[] = [];
  const sup = service.supervisor();
  const job = sup.startTraining({ runId: 'ws-run', dataDir: ws.data, config: tinyAimkp(2) });
  const sub = api.subscribe('ws-run', 0, (b) => {
    for (const e of b.events) seqs.push(e.seq);
  });
  try {
    for (const afterSeq of [3, 12]) {
      await waitFor(() => seqs.length >= afterSeq, 120_000, 5);
      for (const c of server.api.wss.clients) c.terminate();
    }
    const done = await sup.waitForJob(job.id);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    await waitFor(() => streamEnded(ws.workspace, 'ws-run'), 30_000);
    const n = streamRecords(ws.workspace, 'ws-run').length;
    await waitFor(() => seqs.length >= n, 30_000, 10);
    assert.deepEqual(
      seqs,
      Array.from({ length: n }, (_, i) => i + 1),
    );
  } finally {
    sub.close();
    port.close();
  }
});
