// Browser mode on the real stack: the service's events.subscribe (the supervisor's event hub reading a run's
// events.jsonl) behind the WebSocket server, and the browser client. The run is written by "another process"
// (this test appending lines, as `aimkp train` in a terminal would); the socket is cut in the middle, and the
// client must get every line exactly once, in order, with the missed ones replayed from the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createClient, createPortTransport } from '../../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../../shared/contract/ws-port';
import type { EventBatch } from '../../shared/contract/service';
import { createService } from '../../electron/service/index';
import { startWorkbenchServer } from '../../electron/server/server';
import { tempDir } from '../fixtures/temp-dirs';

function appendEvents(file: string, from: number, count: number): void {
  let text = '';
  for (let step = from; step < from + count; step++) {
    text +=
      JSON.stringify({
        type: 'checkpoint',
        time: new Date(1_700_000_000_000 + step).toISOString(),
        run: 'cli-run',
        which: 'last',
        path: 'checkpoints/last',
        epoch: 0,
        step,
        ms: 1,
      }) + '\n';
  }
  appendFileSync(file, text);
}

test('reconnect with sinceSeq on the real service: the missed events.jsonl lines are replayed exactly once', async () => {
  const workspace = tempDir('aimkp-ws-service-');
  const runDir = join(workspace, 'runs', 'cli-run');
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, 'events.jsonl');
  appendEvents(file, 1, 5);

  const service = createService({ host: 'browser', workspace, bundledDataDir: null, locatorFile: null });
  const server = await startWorkbenchServer({
    backend: service.backend,
    rendererDir: workspace,
    port: 0,
    validateResponses: true,
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const port = createWebSocketPort(`ws://127.0.0.1:${server.port}/api`, {
    connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
    minDelayMs: 20,
    maxDelayMs: 100,
  });
  const raw: number[] = [];
  port.onMessage((text) => {
    const m = JSON.parse(text) as { t: string; data?: EventBatch };
    if (m.t === 'event') for (const e of m.data!.events) raw.push(e.seq);
  });
  const api = createClient(createPortTransport(port));
  const seen: number[] = [];
  const waitFor = async (n: number) => {
    for (let i = 0; i < 1000 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, n, `got ${JSON.stringify(seen)}`);
  };
  try {
    const sub = api.subscribe('cli-run', 0, (b) => {
      for (const e of b.events) {
        assert.equal(e.kind, 'checkpoint');
        assert.equal(e.kind === 'checkpoint' && e.data.step, e.seq, 'seq is the line number');
        seen.push(e.seq);
      }
    });
    await waitFor(5);
    appendEvents(file, 6, 2); // live (the hub polls runs no worker of ours writes)
    await waitFor(7);

    const down = new Promise<void>((resolve) => port.onStatus?.((s) => s === 'closed' && resolve()));
    for (const c of server.api.wss.clients) c.terminate();
    await down;
    appendEvents(file, 8, 6); // written while the client is away
    await waitFor(13);
    appendEvents(file, 14, 3);
    await waitFor(16);

    assert.deepEqual(
      seen,
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    assert.deepEqual(raw, seen, 'the server sent each event once');
    sub.close();
  } finally {
    port.close();
    await server.close();
    await service.close();
  }
});
