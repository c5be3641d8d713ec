// The service contract and its main-side guards: validation, errors as data, size caps, unknown commands,
// foreign IPC senders, cancellation, and a fuzz run of ≥ 10,000 random payloads per command. The IPC part
// uses a minimal in-memory stand-in for Electron's ipcMain / ipcRenderer / WebContents (the real binary
// cannot run here); everything beneath it (session, dispatch, schemas, client) is the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_NAMES, SERVICE, type CommandName } from '../../shared/contract/service';
import { dispatchCall } from '../../shared/contract/dispatch';
import { createClient, createPortTransport, isApiError, ApiError, type TextPort } from '../../shared/contract/client';
import { createLocalTransport } from '../../shared/contract/local-transport';
import type { CallContext, ServiceBackend, ServiceHandlers } from '../../shared/contract/handlers';
import { IPC_CHANNEL, LIMITS } from '../../shared/contract/index';
import { createRpcSession } from '../../electron/transport/rpc-session';
import {
  serveIpc,
  type IpcMainEventLike,
  type IpcMainLike,
  type IpcSenderLike,
} from '../../electron/transport/ipc-main';
import { createPreloadBridge, type IpcRendererLike } from '../../electron/transport/ipc-preload';
import {
  MemoryEventSource,
  SYSTEM_INFO,
  VALID_REQUESTS,
  checkingHandlers,
  mutate,
  randomJson,
  rng,
  type HandlerHits,
} from './fixtures';

const ctx = (): CallContext => ({ signal: new AbortController().signal, transport: 'local', clientId: 'test' });

function smallBackend(extra: Partial<ServiceHandlers> = {}): ServiceBackend {
  return { handlers: { 'system.info': async () => SYSTEM_INFO, ...extra }, subscriptions: {} };
}

test('the contract names every command the workbench needs, as domain.verb', () => {
  const needed = [
    'system.info',
    'presets.list',
    'datasets.list',
    'datasets.import',
    'datasets.stats',
    'datasets.items',
    'datasets.issues',
    'runs.list',
    'runs.get',
    'runs.history',
    'runs.events',
    'runs.start',
    'runs.stop',
    'runs.resume',
    'runs.delete',
    'runs.rename',
    'runs.tag',
    'runs.evaluate',
    'runs.robustness',
    'compare.cases',
    'report.table',
    'predict.case',
    'settings.get',
    'settings.set',
    'jobs.list',
  ];
  for (const n of needed) assert.ok(COMMAND_NAMES.includes(n as CommandName), n);
  for (const n of COMMAND_NAMES) assert.match(n, /^[a-z]+\.[a-z]+$/);
  assert.deepEqual(Object.keys(SERVICE.subscriptions), ['events.subscribe']);
});

test('every example request is valid, and defaults are filled in for the handler', () => {
  for (const name of COMMAND_NAMES) {
    const r = SERVICE.commands[name].request.safeParse(VALID_REQUESTS[name]);
    assert.ok(r.success, `${name}: ${r.success ? '' : r.error.message}`);
  }
  const start = SERVICE.commands['runs.start'].request.parse({ preset: 'aimkp', dataset: 'clipart-kp' });
  assert.deepEqual(start, { preset: 'aimkp', dataset: 'clipart-kp', overrides: {}, seeds: [1], tags: [] });
  const ev = SERVICE.commands['runs.evaluate'].request.parse({ id: 'r1' });
  assert.deepEqual(ev.modes, ['multimodal', 'text', 'image']);
  assert.equal(ev.decode.strategy, 'greedy');
});

test('ids cannot name a path outside the workspace', () => {
  for (const id of ['..', '../x', 'a/b', '/abs', '.hidden', '', 'a\\b', 'x'.repeat(129)]) {
    assert.equal(SERVICE.commands['runs.get'].request.safeParse({ id }).success, false, id);
    assert.equal(SERVICE.commands['datasets.stats'].request.safeParse({ id }).success, false, id);
  }
});

test('the event envelope: kind must match the wrapped training event, and v must be 1', () => {
  const base = { v: 1, runId: 'r1', seq: 3, time: '2026-01-01T00:00:00Z' };
  assert.ok(SERVICE.event.safeParse({ ...base, kind: 'run-end', data: { type: 'run-end' } }).success);
  assert.equal(SERVICE.event.safeParse({ ...base, kind: 'step', data: { type: 'run-end' } }).success, false);
  assert.equal(SERVICE.event.safeParse({ ...base, v: 2, kind: 'run-end', data: { type: 'run-end' } }).success, false);
  assert.equal(
    SERVICE.event.safeParse({ ...base, kind: 'no-such-kind', data: { type: 'no-such-kind' } }).success,
    false,
  );
  const job = {
    ...base,
    kind: 'job',
    data: {
      jobId: 'j1',
      kind: 'train',
      state: 'failed',
      runId: 'r1',
      error: { code: 'WORKER_DIED', message: 'killed' },
    },
  };
  assert.ok(SERVICE.event.safeParse(job).success);
});

test('dispatch: a malformed payload is refused with the command and field named; the handler never runs', async () => {
  let ran = 0;
  const backend = smallBackend({
    'runs.get': async () => {
      ran++;
      throw new Error('unreachable');
    },
  });
  const r = await dispatchCall(backend, 'runs.get', { id: '../etc', extra: 1 }, ctx());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.code, 'BAD_REQUEST');
  assert.match(r.error.message, /^runs\.get: invalid request: /);
  assert.match(r.error.message, /id: a run id/);
  assert.match(r.error.message, /extra/);
  assert.equal(ran, 0);
});

test('dispatch: unknown command, missing handler, thrown core error, bad response', async () => {
  const u = await dispatchCall(smallBackend(), 'runs.explode', {}, ctx());
  assert.ok(!u.ok && u.error.code === 'UNKNOWN_COMMAND' && /unknown command "runs\.explode"/.test(u.error.message));
  const proto = await dispatchCall(smallBackend(), '__proto__', {}, ctx());
  assert.ok(!proto.ok && proto.error.code === 'UNKNOWN_COMMAND');
  const missing = await dispatchCall(smallBackend(), 'runs.list', {}, ctx());
  assert.ok(!missing.ok && missing.error.code === 'UNKNOWN_COMMAND' && /not available/.test(missing.error.message));
  const coreError = Object.assign(new Error('run "x" not found'), { code: 'NOT_FOUND', details: { run: 'x' } });
  const thrown = await dispatchCall(
    smallBackend({
      'runs.list': async () => {
        throw coreError;
      },
    }),
    'runs.list',
    {},
    ctx(),
  );
  assert.deepEqual(thrown, {
    ok: false,
    error: { code: 'NOT_FOUND', message: 'run "x" not found', details: { run: 'x' } },
  });
  const bad = await dispatchCall(
    smallBackend({ 'runs.list': async () => ({ runs: [{ id: 42 }] }) as never }),
    'runs.list',
    {},
    ctx(),
    { validateResponses: true },
  );
  assert.ok(!bad.ok && bad.error.code === 'INTERNAL' && /invalid response/.test(bad.error.message));
});

/** A session with a recorder of what it sends. */
function sessionWith(backend: ServiceBackend, maxMessageBytes?: number) {
  const out: Array<{ t: string; id?: number; data?: unknown; error?: { code: string; message: string } }> = [];
  const session = createRpcSession({
    backend,
    send: (t) => out.push(JSON.parse(t)),
    transport: 'ws',
    clientId: 'c1',
    maxMessageBytes,
  });
  const answer = async (id: number) => {
    for (let i = 0; i < 100; i++) {
      const m = out.find((x) => x.id === id && (x.t === 'ok' || x.t === 'err'));
      if (m) return m;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`no answer for ${id}`);
  };
  return { session, out, answer };
}

test('session: malformed, oversized and unknown messages are each refused clearly and the session keeps serving', async () => {
  const { session, out, answer } = sessionWith(smallBackend(), 4096);
  const good = async (id: number) => {
    session.receive(JSON.stringify({ t: 'call', id, command: 'system.info', arg: {} }));
    const a = await answer(id);
    assert.equal(a.t, 'ok', JSON.stringify(a));
    assert.deepEqual(a.data, SYSTEM_INFO);
  };
  await good(1);

  session.receive('{"t":"call","id":2,'); // truncated JSON
  assert.equal((await answer(2)).error?.code, 'BAD_REQUEST');
  session.receive(Buffer.from('binary') as unknown);
  assert.equal(out.at(-1)?.t, 'fatal');
  assert.match(String(out.at(-1)?.error?.message), /JSON text/);
  session.receive(JSON.stringify({ t: 'shout', id: 3 }));
  assert.equal((await answer(3)).error?.code, 'BAD_REQUEST');
  session.receive(JSON.stringify({ t: 'call', id: 4, command: 'runs.get', arg: { id: 7 } }));
  const bad = await answer(4);
  assert.equal(bad.error?.code, 'BAD_REQUEST');
  assert.match(String(bad.error?.message), /runs\.get: invalid request: id:/);
  await good(5);

  session.receive(JSON.stringify({ t: 'call', id: 6, command: 'settings.set', arg: { workspace: 'x'.repeat(5000) } }));
  const big = await answer(6);
  assert.equal(big.error?.code, 'TOO_LARGE');
  assert.match(String(big.error?.message), /over the limit of 4096 bytes/);
  await good(7);

  session.receive(JSON.stringify({ t: 'call', id: 8, command: 'models.steal', arg: {} }));
  const unknown = await answer(8);
  assert.equal(unknown.error?.code, 'UNKNOWN_COMMAND');
  assert.match(String(unknown.error?.message), /unknown command "models\.steal"/);
  await good(9);

  const deep = '['.repeat(1000) + ']'.repeat(1000);
  session.receive(
    `{"t":"call","id":12,"command":"runs.start","arg":{"preset":"aimkp","dataset":"d","overrides":{"x":${deep}}}}`,
  );
  const nested = await answer(12);
  assert.equal(nested.error?.code, 'BAD_REQUEST');
  assert.match(String(nested.error?.message), /nested deeper than 64 levels/);
  session.receive(
    JSON.stringify({
      t: 'call',
      id: 13,
      command: 'runs.start',
      arg: { preset: 'aimkp', dataset: 'd', overrides: { note: '[[[['.repeat(100) } },
    }),
  );
  assert.notEqual((await answer(13)).error?.message.includes('nested'), true, 'brackets inside strings do not count');

  session.receive(JSON.stringify({ t: 'listen', id: 10, event: 'events.nope', arg: {} }));
  assert.equal((await answer(10)).error?.code, 'UNKNOWN_COMMAND');
  await good(11);
  assert.ok(session.stats.refused >= 7);
});

test('session: cancel aborts the handler signal; closing the session aborts everything in flight', async () => {
  const seen: string[] = [];
  const slow = async (_req: unknown, c: CallContext): Promise<never> =>
    new Promise((_resolve, reject) => {
      c.signal.addEventListener('abort', () => {
        seen.push('aborted');
        reject(Object.assign(new Error('stopped'), { name: 'AbortError' }));
      });
    });
  const { session, answer } = sessionWith(smallBackend({ 'jobs.list': slow, 'runs.list': slow }));
  session.receive(JSON.stringify({ t: 'call', id: 1, command: 'jobs.list', arg: {} }));
  await new Promise((r) => setImmediate(r));
  session.receive(JSON.stringify({ t: 'cancel', id: 1 }));
  assert.equal((await answer(1)).error?.code, 'CANCELLED');
  session.receive(JSON.stringify({ t: 'call', id: 2, command: 'runs.list', arg: {} }));
  await new Promise((r) => setImmediate(r));
  assert.equal(session.stats.inFlight, 1);
  session.close();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['aborted', 'aborted']);
});

test('session: the per-connection limit on calls in flight answers busy', async () => {
  const never = () => new Promise<never>(() => undefined);
  const { session, answer } = sessionWith(smallBackend({ 'jobs.list': never }));
  for (let id = 1; id <= LIMITS.maxInFlightCalls + 1; id++)
    session.receive(JSON.stringify({ t: 'call', id, command: 'jobs.list', arg: {} }));
  assert.equal((await answer(LIMITS.maxInFlightCalls + 1)).error?.code, 'BUSY');
  session.close();
});

// ---- Electron IPC through a stand-in for the electron module ---------------------------------------------

/** The stand-in: an ipcMain and one ipcRenderer per fake window, wired in memory (what Electron does across processes). */
class FakeElectron {
  private readonly listeners = new Map<string, Set<(e: IpcMainEventLike, ...a: unknown[]) => void>>();
  readonly ipcMain: IpcMainLike = {
    on: (ch, l) => this.listeners.set(ch, (this.listeners.get(ch) ?? new Set()).add(l)),
    removeListener: (ch, l) => this.listeners.get(ch)?.delete(l),
  };
  private nextId = 1;

  /** A window whose top frame (or an iframe, with `parent`) has `url`. */
  window(url: string, parent: unknown = null): { ipcRenderer: IpcRendererLike; destroy(): void } {
    const rendererListeners = new Map<string, Set<(e: unknown, ...a: unknown[]) => void>>();
    let destroyed = false;
    const onDestroyed: Array<() => void> = [];
    const sender: IpcSenderLike = {
      id: this.nextId++,
      send: (ch, ...args) => queueMicrotask(() => rendererListeners.get(ch)?.forEach((l) => l({}, ...args))),
      isDestroyed: () => destroyed,
      once: (_ev, l) => onDestroyed.push(l),
    };
    const ipcRenderer: IpcRendererLike = {
      send: (ch, ...args) =>
        queueMicrotask(() =>
          this.listeners.get(ch)?.forEach((l) => l({ sender, senderFrame: { url, parent } }, ...args)),
        ),
      on: (ch, l) => rendererListeners.set(ch, (rendererListeners.get(ch) ?? new Set()).add(l)),
      removeListener: (ch, l) => rendererListeners.get(ch)?.delete(l),
    };
    return {
      ipcRenderer,
      destroy: () => {
        destroyed = true;
        onDestroyed.forEach((l) => l());
      },
    };
  }
}

function clientFor(ipcRenderer: IpcRendererLike) {
  const bridge = createPreloadBridge(ipcRenderer);
  const offs: Array<() => void> = [];
  const port: TextPort = {
    send: bridge.send,
    onMessage: (l) => {
      const off = bridge.onMessage(l);
      offs.push(off);
      return off;
    },
  };
  /** The page goes away (reload, close): its listeners stop hearing anything. */
  const unload = () => offs.forEach((off) => off());
  return { client: createClient(createPortTransport(port), { validateResponses: true }), bridge, unload };
}

test('IPC: the app window is served; a foreign origin, an iframe and a frameless sender are refused; serving goes on', async () => {
  const electron = new FakeElectron();
  const refused: string[] = [];
  const ipc = serveIpc({
    ipcMain: electron.ipcMain,
    backend: smallBackend(),
    trustedOrigin: 'aimkp://app',
    onRefused: (e, url) => refused.push(`${e.code} ${url}`),
  });

  const app = clientFor(electron.window('aimkp://app/index.html').ipcRenderer);
  assert.deepEqual(await app.client.call('system.info', {}), SYSTEM_INFO);

  for (const [url, parent] of [
    ['https://evil.example/', null],
    ['aimkp://app/index.html', { url: 'aimkp://app/' }],
    ['file:///etc/passwd', null],
    ['aimkp://other/x', null],
  ] as const) {
    const w = electron.window(url, parent);
    const got: string[] = [];
    w.ipcRenderer.on(IPC_CHANNEL, (_e, text) => got.push(String(text)));
    w.ipcRenderer.send(IPC_CHANNEL, JSON.stringify({ t: 'call', id: 1, command: 'system.info', arg: {} }));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(got.length, 1, url);
    const msg = JSON.parse(got[0]);
    assert.equal(msg.t, 'fatal');
    assert.equal(msg.error.code, 'FORBIDDEN');
    assert.match(msg.error.message, /foreign frame refused/);
  }
  assert.equal(refused.length, 4);
  assert.equal(ipc.sessions.size, 1, 'no session was created for a foreign sender');

  // Malformed, oversized and unknown through the real bridge: clear errors, and the window keeps working.
  await assert.rejects(
    app.client.call('runs.get', { id: '../../x' }),
    (e: unknown) => isApiError(e) && e.code === 'BAD_REQUEST' && /runs\.get: invalid request: id/.test(e.message),
  );
  await assert.rejects(
    app.client.call('settings.set', { workspace: 'x'.repeat(LIMITS.maxMessageBytes) }),
    (e: unknown) => isApiError(e) && e.code === 'TOO_LARGE',
  );
  await assert.rejects(
    app.client.call('nope.nope' as CommandName, {} as never),
    (e: unknown) => isApiError(e) && e.code === 'UNKNOWN_COMMAND',
  );
  assert.deepEqual(await app.client.call('system.info', {}), SYSTEM_INFO);
  ipc.close();
});

test('IPC: the preload bridge passes strings only and never the IPC event', async () => {
  const electron = new FakeElectron();
  const w = electron.window('aimkp://app/index.html');
  const { bridge } = clientFor(w.ipcRenderer);
  assert.throws(() => bridge.send({ t: 'call' } as unknown as string), /JSON string/);
  assert.ok(Object.isFrozen(bridge));
  assert.deepEqual(Object.keys(bridge).sort(), ['onMessage', 'send']);
  const got: unknown[][] = [];
  const off = bridge.onMessage((...args: unknown[]) => got.push(args));
  const sessionSide = serveIpc({ ipcMain: electron.ipcMain, backend: smallBackend(), trustedOrigin: 'aimkp://app' });
  bridge.send(JSON.stringify({ t: 'call', id: 1, command: 'system.info', arg: {} }));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(got.length, 1);
  assert.equal(got[0].length, 1, 'only the text reaches the page');
  off();
  w.destroy();
  assert.equal(sessionSide.sessions.size, 0, 'a closed window ends its session');
  sessionSide.close();
});

test('IPC: a reloaded page starts afresh: what the old page left running on the window is cancelled, ids start over', async () => {
  const electron = new FakeElectron();
  const source = new MemoryEventSource();
  let aborted = 0;
  const backend = source.backend({
    'system.info': async () => SYSTEM_INFO,
    'jobs.list': (_req, c) =>
      new Promise((_res, rej) =>
        c.signal.addEventListener('abort', () => {
          aborted++;
          rej(new Error('aborted'));
        }),
      ),
  });
  const ipc = serveIpc({ ipcMain: electron.ipcMain, backend, trustedOrigin: 'aimkp://app' });
  const w = electron.window('aimkp://app/index.html');
  const firstPage = clientFor(w.ipcRenderer);
  const first = firstPage.client;
  const got1: number[] = [];
  first.subscribe('run-a', 0, (b) => got1.push(...b.events.map((e) => e.seq)));
  void first.call('jobs.list', {}).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(source.requests.length, 1);

  // The reload: same window (same sender), a new page with a new client whose ids start at 1 again.
  firstPage.unload();
  const second = clientFor(w.ipcRenderer).client;
  const got2: number[] = [];
  second.subscribe('run-a', 0, (b) => got2.push(...b.events.map((e) => e.seq)));
  assert.deepEqual(await second.call('system.info', {}), SYSTEM_INFO);
  assert.equal(aborted, 1, "the old page's call was cancelled");
  source.append('run-a', 3);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got2, [1, 2, 3]);
  assert.deepEqual(got1, []);
  assert.equal(source.liveSubscriptions(), 1, "the old page's subscription was closed");
  assert.equal(ipc.sessions.size, 1);
  ipc.close();
});

// ---- fuzzing ------------------------------------------------------------------------------------------------

const FUZZ_PER_COMMAND = 10_000;

test(`fuzz: ${FUZZ_PER_COMMAND} random payloads at every command; every answer is data, only valid requests reach handlers`, async () => {
  const hits: HandlerHits = new Map();
  const violations: string[] = [];
  const backend: ServiceBackend = { handlers: checkingHandlers(hits, violations), subscriptions: {} };
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();
  let answered = 0;
  for (const [ci, name] of COMMAND_NAMES.entries()) {
    const r = rng(1000 + ci);
    for (let i = 0; i < FUZZ_PER_COMMAND; i++) {
      const payload = i % 3 === 0 ? randomJson(r) : mutate(VALID_REQUESTS[name], r);
      const res = await dispatchCall(backend, name, payload, ctx());
      if (res.ok) assert.fail(`${name}: the checking handlers never succeed`);
      assert.equal(typeof res.error.code, 'string');
      assert.equal(typeof res.error.message, 'string');
      assert.ok(
        ['BAD_REQUEST', 'NOT_FOUND'].includes(res.error.code),
        `${name}: ${res.error.code} ${res.error.message}`,
      );
      answered++;
    }
    // The valid example itself reaches the handler.
    await dispatchCall(backend, name, VALID_REQUESTS[name], ctx());
  }
  assert.equal(answered, FUZZ_PER_COMMAND * COMMAND_NAMES.length);
  assert.deepEqual(violations, []);
  for (const name of COMMAND_NAMES) assert.ok((hits.get(name) ?? 0) >= 1, `${name} never reached`);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(), protoBefore, 'Object.prototype untouched');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('fuzz: 10,000 random wire texts into one session; it answers or refuses each and still serves', async () => {
  const { session, out, answer } = sessionWith(smallBackend(), 64 * 1024);
  const r = rng(7);
  const texts = (): string => {
    const k = r();
    if (k < 0.3) return JSON.stringify(randomJson(r));
    if (k < 0.5)
      return JSON.stringify({
        t: ['call', 'listen', 'cancel', 'unlisten', 'x'][Math.floor(r() * 5)],
        id: randomJson(r),
        command: COMMAND_NAMES[Math.floor(r() * COMMAND_NAMES.length)],
        event: 'events.subscribe',
        arg: randomJson(r),
      });
    if (k < 0.7) {
      const s = JSON.stringify({
        t: 'call',
        id: 1_000_000 + Math.floor(r() * 1000),
        command: COMMAND_NAMES[Math.floor(r() * COMMAND_NAMES.length)],
        arg: mutate({}, r),
      });
      return s.slice(0, Math.floor(r() * s.length)); // truncated
    }
    if (k < 0.8) return '['.repeat(5000) + ']'.repeat(5000); // deep nesting
    return String.fromCharCode(...Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 0xffff)));
  };
  for (let i = 0; i < 10_000; i++) session.receive(texts());
  await new Promise((res) => setTimeout(res, 20));
  assert.ok(out.length > 0);
  session.receive(JSON.stringify({ t: 'call', id: 5_000_000, command: 'system.info', arg: {} }));
  assert.equal((await answer(5_000_000)).t, 'ok');
  session.close();
});

test('local transport: the typed client round-trips through the same validation', async () => {
  const api = createClient(createLocalTransport(smallBackend()), { validateResponses: true });
  assert.equal((await api.call('system.info', {})).host, 'browser');
  await assert.rejects(
    api.call('runs.get', { id: '' }),
    (e: unknown) => e instanceof ApiError && e.code === 'BAD_REQUEST',
  );
});
