// `aimkp serve` as a user runs it: a real process on the real service (temporary workspace), the URL on one
// line, the typed client over the WebSocket with every response checked against the contract, a token off
// loopback, and a clean exit on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createClient, createPortTransport } from '../../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../../shared/contract/ws-port';
import { tempDir } from '../fixtures/temp-dirs';

function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['bin/aimkp.mjs', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /AimKP Workbench \(browser mode\): (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function rendererDir(): string {
  const dir = tempDir('aimkp-serve-renderer-');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>AimKP</title>');
  return dir;
}

test('aimkp serve: prints the URL, serves the page and the contract over WebSocket, exits cleanly on SIGTERM', async () => {
  const workspace = tempDir('aimkp-serve-ws-');
  const { child, url } = await startServe(['--port', '0', '--workspace', workspace, '--renderer', rendererDir()]);
  const { host, origin } = new URL(url);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);

  const port = createWebSocketPort(`ws://${host}/api`, {
    connect: (u) => new WebSocket(u, { origin }) as unknown as WebSocketLike,
  });
  const api = createClient(createPortTransport(port), { validateResponses: true });
  try {
    const settings = await api.call('settings.get', {});
    assert.equal(settings.workspace, workspace);
    const presets = await api.call('presets.list', {});
    assert.ok(presets.presets.some((p) => p.name === 'aimkp' && /Table/.test(p.paper)));
    assert.ok(Array.isArray((await api.call('runs.list', {})).runs));
    assert.ok(Array.isArray((await api.call('jobs.list', {})).jobs));
    await assert.rejects(
      api.call('runs.get', { id: 'no-such-run' }),
      (e: unknown) => (e as { code?: string }).code !== undefined,
    );
  } finally {
    port.close();
    assert.equal(await stop(child), 0);
  }
});

test('aimkp serve --host 0.0.0.0: the URL carries a token and the API refuses connections without it', async () => {
  const workspace = tempDir('aimkp-serve-ws-');
  const { child, url } = await startServe([
    '--host',
    '0.0.0.0',
    '--port',
    '0',
    '--workspace',
    workspace,
    '--renderer',
    rendererDir(),
  ]);
  try {
    const u = new URL(url);
    const token = u.searchParams.get('token');
    assert.ok(token && token.length >= 24, url);
    const origin = `http://127.0.0.1:${u.port}`;
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${u.port}/api`, { origin });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(refused, 401);
    const port = createWebSocketPort(`ws://127.0.0.1:${u.port}/api?token=${encodeURIComponent(token)}`, {
      connect: (x) => new WebSocket(x, { origin }) as unknown as WebSocketLike,
    });
    const api = createClient(createPortTransport(port));
    assert.equal((await api.call('settings.get', {})).workspace, workspace);
    port.close();
  } finally {
    assert.equal(await stop(child), 0);
  }
});

test('aimkp serve: a bad flag is one clear error and exit code 2', async () => {
  const child = spawn(process.execPath, ['bin/aimkp.mjs', 'serve', '--port', 'x'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err.split('\n')[0], /^aimkp serve: --port: expected a port number/);
});
