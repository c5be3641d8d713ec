// Browser mode over real sockets: the node:http + ws server, the browser-side WebSocket port (driven by the
// `ws` package's client, which has the browser API), token and Origin checks, size caps, static files, and
// a reconnect that resumes a stream from the last seq seen. The event source is a small in-memory stand-in
// for the supervisor's hub (its replay on real training is tested with the supervisor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { createClient, createPortTransport, isApiError } from '../../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../../shared/contract/ws-port';
import type { EventBatch } from '../../shared/contract/service';
import { LIMITS } from '../../shared/contract/common';
import {
  startWorkbenchServer,
  originAllowed,
  isLoopbackHost,
  type WorkbenchServer,
} from '../../electron/server/server';
import { MemoryEventSource, SYSTEM_INFO } from '../contract/fixtures';
import { tempDir } from '../fixtures/temp-dirs';

const INFO = SYSTEM_INFO;

function rendererDir(): string {
  const dir = tempDir('aimkp-renderer-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, '.secret'), 'hidden');
  const outside = tempDir('aimkp-outside-');
  writeFileSync(join(outside, 'passwd.txt'), 'outside');
  symlinkSync(join(outside, 'passwd.txt'), join(dir, 'assets', 'link.txt'));
  return dir;
}

async function serve(source: MemoryEventSource, host = '127.0.0.1', token?: string | null): Promise<WorkbenchServer> {
  return startWorkbenchServer({
    backend: source.backend({ 'system.info': async () => INFO }),
    rendererDir: rendererDir(),
    host,
    port: 0,
    token,
    maxMessageBytes: 64 * 1024,
  });
}

function get(
  port: number,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type Msg = { t: string; id?: number; data?: unknown; error?: { code: string; message: string } };
/** Every message a socket received, kept from the moment it was created (the hello can arrive with the open). */
const inbox = new WeakMap<WebSocket, { got: Msg[]; wake: (() => void) | null }>();

/** Opens a raw ws client; resolves with the socket once open, or rejects with the HTTP status of a refused upgrade. */
function open(url: string, origin?: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin, headers });
    const box = { got: [] as Msg[], wake: null as (() => void) | null };
    inbox.set(ws, box);
    ws.on('message', (d: Buffer) => {
      box.got.push(JSON.parse(d.toString()) as Msg);
      box.wake?.();
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The first received message matching `pred` (taken out of the inbox). */
async function nextMessage(ws: WebSocket, pred: (m: Msg) => boolean = () => true): Promise<Msg> {
  const box = inbox.get(ws);
  if (!box) throw new Error('not opened with open()');
  for (;;) {
    const i = box.got.findIndex(pred);
    if (i >= 0) return box.got.splice(i, 1)[0];
    await new Promise<void>((resolve) => (box.wake = resolve));
  }
}

test('static files: index and assets with CSP and MIME; traversal, dot files, symlinks out and POST refused', async () => {
  const s = await serve(new MemoryEventSource());
  try {
    const index = await get(s.port, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    const csp = String(index.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    const js = await get(s.port, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal((await get(s.port, '/runs/aimkp-s1')).body, index.body, 'app routes get index.html');
    for (const p of [
      '/../package.json',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2fpackage.json',
      '/.secret',
      '/assets/link.txt',
      '/%00',
      '/%E0%A4%A',
    ]) {
      const r = await get(s.port, p);
      assert.ok([400, 403, 404].includes(r.status), `${p} → ${r.status}`);
      assert.doesNotMatch(r.body, /outside|hidden|"name"/);
    }
    assert.equal((await get(s.port, '/', 'POST')).status, 405);
    assert.equal((await get(s.port, '/healthz')).body, 'ok\n');
  } finally {
    await s.close();
  }
});

test('loopback: no token needed; a foreign Origin and a DNS-rebound Host are refused; the server keeps serving', async () => {
  const s = await serve(new MemoryEventSource());
  try {
    assert.equal(s.token, null);
    assert.equal(s.url, `http://127.0.0.1:${s.port}/`);
    const api = `ws://127.0.0.1:${s.port}/api`;
    await assert.rejects(open(api, 'https://evil.example'), /HTTP 403/);
    await assert.rejects(open(api, `http://evil.example:${s.port}`, { Host: `evil.example:${s.port}` }), /HTTP 403/);
    await assert.rejects(open(`ws://127.0.0.1:${s.port}/other`, `http://127.0.0.1:${s.port}`), /HTTP 404/);
    const ws = await open(api, `http://127.0.0.1:${s.port}`);
    const hello = await nextMessage(ws);
    assert.equal(hello.t, 'hello');
    ws.send(JSON.stringify({ t: 'call', id: 1, command: 'system.info', arg: {} }));
    assert.deepEqual((await nextMessage(ws, (m) => m.id === 1)).data, INFO);
    ws.close();
  } finally {
    await s.close();
  }
});

test('off loopback: a token is required (and printed in the URL); a wrong one is refused', async () => {
  const s = await serve(new MemoryEventSource(), '0.0.0.0');
  try {
    assert.ok(s.token && s.token.length >= 24);
    assert.ok(s.url.endsWith(`/?token=${encodeURIComponent(s.token)}`), s.url);
    const base = `ws://127.0.0.1:${s.port}/api`;
    const origin = `http://127.0.0.1:${s.port}`;
    await assert.rejects(open(base, origin), /HTTP 401/);
    await assert.rejects(open(`${base}?token=wrong`, origin), /HTTP 401/);
    await assert.rejects(open(`${base}?token=${s.token}`, 'https://evil.example'), /HTTP 403/);
    const ws = await open(`${base}?token=${encodeURIComponent(s.token)}`, origin);
    ws.send(JSON.stringify({ t: 'call', id: 1, command: 'system.info', arg: {} }));
    assert.equal((await nextMessage(ws, (m) => m.id === 1)).t, 'ok');
    ws.close();
  } finally {
    await s.close();
  }
  await assert.rejects(
    startWorkbenchServer({
      backend: { handlers: {}, subscriptions: {} },
      rendererDir: '/nonexistent',
      host: '0.0.0.0',
      port: 0,
      token: null,
    }),
    /requires a token/,
  );
});

test('websocket: an oversized call gets too-large and the socket stays; a frame far over the cap closes only that socket', async () => {
  const s = await serve(new MemoryEventSource());
  try {
    const origin = `http://127.0.0.1:${s.port}`;
    const ws = await open(`ws://127.0.0.1:${s.port}/api`, origin);
    ws.send(JSON.stringify({ t: 'call', id: 1, command: 'settings.set', arg: { workspace: 'x'.repeat(100 * 1024) } }));
    const big = await nextMessage(ws, (m) => m.id === 1);
    assert.equal(big.error?.code, 'TOO_LARGE');
    ws.send(JSON.stringify({ t: 'call', id: 2, command: 'system.info', arg: {} }));
    assert.equal((await nextMessage(ws, (m) => m.id === 2)).t, 'ok');

    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(64 * 1024 + 1024 * 1024 + 10));
    assert.equal(await closed, 1009);
    const other = await open(`ws://127.0.0.1:${s.port}/api`, origin);
    other.send(JSON.stringify({ t: 'call', id: 1, command: 'system.info', arg: {} }));
    assert.equal((await nextMessage(other, (m) => m.id === 1)).t, 'ok');
    other.close();
  } finally {
    await s.close();
  }
});

test('reconnect with sinceSeq replays exactly the events missed while disconnected', async () => {
  const source = new MemoryEventSource();
  const s = await serve(source);
  const origin = `http://127.0.0.1:${s.port}`;
  const port = createWebSocketPort(`ws://127.0.0.1:${s.port}/api`, {
    connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
    minDelayMs: 20,
    maxDelayMs: 50,
  });
  const raw: number[] = [];
  port.onMessage((text) => {
    const m = JSON.parse(text);
    if (m.t === 'event') for (const e of (m.data as EventBatch).events) raw.push(e.seq);
  });
  const api = createClient(createPortTransport(port), { validateResponses: true });
  const seen: number[] = [];
  const batches: EventBatch[] = [];
  const waitFor = async (n: number) => {
    for (let i = 0; i < 400 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, n);
  };
  try {
    const sub = api.subscribe('run-a', 0, (b) => {
      batches.push(b);
      for (const e of b.events) seen.push(e.seq);
    });
    for (let i = 0; i < 200 && source.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    source.append('run-a', 5);
    source.append('run-b', 2); // another stream: not delivered to this subscription
    await waitFor(5);

    const down = new Promise<void>((resolve) => port.onStatus?.((st) => st === 'closed' && resolve()));
    for (const c of s.api.wss.clients) c.terminate();
    await down;
    source.append('run-a', 7); // missed while disconnected
    await waitFor(12);
    assert.deepEqual(
      source.requests.map((r) => ('sinceSeq' in r ? r.sinceSeq : null)),
      [0, 5],
      'resubscribed from the last seq seen',
    );
    const replay = batches.find((b) => b.replay && b.events.length > 0);
    assert.deepEqual(
      replay?.events.map((e) => e.seq),
      [6, 7, 8, 9, 10, 11, 12],
      'the replay is exactly the missed events',
    );

    source.append('run-a', 3);
    await waitFor(15);
    assert.deepEqual(
      seen,
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    assert.deepEqual(raw, seen, 'the server sent each event once');
    assert.equal(sub.lastSeq().get('run-a'), 15);
    assert.equal((await api.call('system.info', {})).host, 'browser');
    sub.close();
  } finally {
    port.close();
    await s.close();
  }
});

test('a call in flight when the connection drops fails with disconnected; later calls wait for the reconnect', async () => {
  const source = new MemoryEventSource();
  let release: (() => void) | null = null;
  const s = await startWorkbenchServer({
    backend: source.backend({
      'system.info': async () => INFO,
      'jobs.list': () => new Promise((resolve) => (release = () => resolve({ jobs: [] }))),
    }),
    rendererDir: rendererDir(),
    port: 0,
  });
  const origin = `http://127.0.0.1:${s.port}`;
  const port = createWebSocketPort(`ws://127.0.0.1:${s.port}/api`, {
    connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
    minDelayMs: 20,
  });
  const api = createClient(createPortTransport(port));
  try {
    assert.equal((await api.call('system.info', {})).host, 'browser');
    const hanging = api.call('jobs.list', {});
    for (let i = 0; i < 200 && release === null; i++) await new Promise((r) => setTimeout(r, 5));
    for (const c of s.api.wss.clients) c.terminate();
    await assert.rejects(hanging, (e: unknown) => isApiError(e) && e.code === 'DISCONNECTED');
    assert.equal((await api.call('system.info', {})).host, 'browser');
  } finally {
    port.close();
    await s.close();
  }
});

test('websocket: connections beyond the cap are refused (503) until one closes', async () => {
  const s = await startWorkbenchServer({
    backend: new MemoryEventSource().backend(),
    rendererDir: rendererDir(),
    port: 0,
    maxConnections: 2,
  });
  try {
    const origin = `http://127.0.0.1:${s.port}`;
    const url = `ws://127.0.0.1:${s.port}/api`;
    const a = await open(url, origin);
    const b = await open(url, origin);
    await assert.rejects(open(url, origin), /HTTP 503/);
    const closed = new Promise((r) => a.once('close', r));
    a.close();
    await closed;
    for (let i = 0; i < 100 && s.api.wss.clients.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const c = await open(url, origin);
    b.close();
    c.close();
  } finally {
    await s.close();
  }
});

test('origin rules', () => {
  assert.ok(
    isLoopbackHost('127.0.0.1') && isLoopbackHost('localhost') && isLoopbackHost('::1') && isLoopbackHost('[::1]'),
  );
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('192.168.1.2') && !isLoopbackHost('localhost.evil.com'));
  assert.ok(originAllowed('http://127.0.0.1:8417', '127.0.0.1:8417', false));
  assert.ok(originAllowed('http://localhost:8417', 'localhost:8417', false));
  assert.ok(!originAllowed('http://evil.com:8417', 'evil.com:8417', false), 'DNS rebinding on loopback');
  assert.ok(originAllowed('http://gpu-box:8417', 'gpu-box:8417', true), 'off loopback, same origin (with token)');
  assert.ok(!originAllowed('http://evil.com', 'gpu-box:8417', true));
  assert.ok(originAllowed('http://localhost:5173', '127.0.0.1:8417', false, ['http://localhost:5173']));
  assert.equal(LIMITS.maxMessageBytes > 8 * 1024 * 1024, true, 'room for one uploaded image');
});
