// electron/main.ts, run for real against a MINIMAL STAND-IN for the `electron` module
// (test/electron/electron-stand-in/electron.ts, loaded through a module hook; the real Electron binary cannot be
// fetched here). Beneath the stand-in everything is real: the service on a temporary workspace, the IPC
// transport, the app-protocol handler serving a renderer folder, the security checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { IPC_CHANNEL } from '../../shared/contract/channel';
import { APP_ORIGIN, APP_START_URL, isAllowedRequestUrl, appProtocolResponse } from '../../electron/app/app-security';
import { tempDir } from '../fixtures/temp-dirs';

register('./electron-stand-in/hooks.mjs', import.meta.url);

const workspace = tempDir('aimkp-main-ws-');
const renderer = tempDir('aimkp-main-renderer-');
mkdirSync(join(renderer, 'assets'));
writeFileSync(join(renderer, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
writeFileSync(join(renderer, 'assets', 'app.js'), 'export {}');
process.env.AIMKP_WORKSPACE = workspace;
process.env.AIMKP_RENDERER_DIR = renderer;

type StandIn = typeof import('./electron-stand-in/electron');
let electron: StandIn;

before(async () => {
  // Same URL as the hook's target, so this is the very module main.ts receives as 'electron'.
  electron = (await import('./electron-stand-in/electron')) as StandIn;
  await import('../../electron/main');
  electron.app.fireReady();
  for (let i = 0; i < 200 && electron.recorded.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
});

after(() => {
  delete process.env.AIMKP_RENDERER_DIR;
});

test('main.ts: the app scheme is registered privileged (standard, secure), before ready', () => {
  const [scheme] = electron.recorded.schemes as Array<{ scheme: string; privileges: Record<string, boolean> }>;
  assert.equal(scheme.scheme, 'aimkp');
  assert.equal(scheme.privileges.standard, true);
  assert.equal(scheme.privileges.secure, true);
  assert.equal(scheme.privileges.bypassCSP, false);
  assert.equal(scheme.privileges.corsEnabled, false);
});

test('main.ts: one window, sandboxed and context-isolated, no Node, loading the app protocol (not file://)', () => {
  assert.equal(electron.recorded.windows.length, 1);
  const win = electron.recorded.windows[0];
  const wp = win.options.webPreferences;
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.nodeIntegrationInWorker, false);
  assert.equal(wp.nodeIntegrationInSubFrames, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.allowRunningInsecureContent, false);
  assert.equal(wp.webviewTag, false);
  assert.equal(wp.devTools, true, 'developer tools in a checkout (the stand-in app is not packaged)');
  assert.match(String(wp.preload), /dist-electron[\\/]preload\.cjs$/);
  assert.equal(win.loadedUrl, APP_START_URL);
  assert.ok(electron.recorded.menu, 'an application menu is set');
});

test('main.ts: navigation away, redirects, webviews and new windows are denied', () => {
  const wc = electron.recorded.windows[0].webContents;
  const nav = (event: string, url: string) => {
    const e = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    wc.emit(event, e, url);
    return e.prevented;
  };
  assert.equal(nav('will-navigate', 'https://evil.example/'), true);
  assert.equal(nav('will-navigate', 'file:///etc/passwd'), true);
  assert.equal(nav('will-redirect', 'http://127.0.0.1:1/'), true);
  assert.equal(nav('will-navigate', `${APP_ORIGIN}/index.html#/runs`), false);
  assert.equal(nav('will-attach-webview', 'https://x/'), true);
  assert.deepEqual(wc.openHandler?.({ url: 'https://example.org/docs' }), { action: 'deny' });
  assert.deepEqual(wc.openHandler?.({ url: 'file:///etc/passwd' }), { action: 'deny' });
  assert.deepEqual(electron.shell.opened, ['https://example.org/docs'], 'only https links go to the system browser');
});

test('main.ts: permission requests and checks are denied; requests beyond the app are cancelled (no remote content)', () => {
  let granted: boolean | null = null;
  electron.recorded.permissionRequest?.({}, 'media', (ok) => (granted = ok));
  assert.equal(granted, false);
  assert.equal(electron.recorded.permissionCheck?.({}, 'notifications'), false);
  assert.equal(electron.recorded.devicePermission?.({}), false);
  const cancel = (url: string) => {
    let r: { cancel: boolean } | null = null;
    electron.recorded.beforeRequest?.({ url }, (x) => (r = x));
    return r!.cancel;
  };
  assert.equal(cancel('https://cdn.example/font.woff2'), true);
  assert.equal(cancel('ws://127.0.0.1:8417/api'), true);
  assert.equal(cancel('file:///etc/passwd'), true);
  assert.equal(cancel(`${APP_ORIGIN}/assets/app.js`), false);
  assert.equal(cancel('data:image/png;base64,AAAA'), false);
  assert.equal(isAllowedRequestUrl('aimkp://other/x'), false);
});

test('main.ts: the app protocol serves the renderer with the CSP, and nothing outside it', async () => {
  const handler = electron.recorded.protocolHandlers.get('aimkp');
  assert.ok(handler);
  const index = await handler({ url: `${APP_ORIGIN}/index.html`, method: 'GET' });
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.equal(
    (await handler({ url: `${APP_ORIGIN}/assets/app.js`, method: 'GET' })).headers.get('content-type'),
    'text/javascript; charset=utf-8',
  );
  for (const url of [
    `${APP_ORIGIN}/../../etc/passwd`,
    `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`,
    'aimkp://other/index.html',
  ]) {
    const r = await handler({ url, method: 'GET' });
    assert.ok(
      r.status === 403 || r.status === 404 || (r.status === 200 && (await r.text()).startsWith('<!doctype html>')),
      `${url} → ${r.status}`,
    );
  }
  assert.equal((await appProtocolResponse(`${APP_ORIGIN}/x`, 'POST', renderer)).status, 405);
});

test('main.ts: IPC from the app window reaches the real service; a foreign frame is refused and serving goes on', async () => {
  const wc = electron.recorded.windows[0].webContents;
  const call = async (frameUrl: string, id: number, command: string) => {
    const before = wc.sent.length;
    electron.ipcMain.emit(
      IPC_CHANNEL,
      { sender: wc, senderFrame: { url: frameUrl, parent: null } },
      JSON.stringify({ t: 'call', id, command, arg: {} }),
    );
    for (let i = 0; i < 500 && wc.sent.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    const [channel, text] = wc.sent[wc.sent.length - 1];
    assert.equal(channel, IPC_CHANNEL);
    return JSON.parse(String(text)) as {
      t: string;
      id?: number;
      data?: { workspace?: string };
      error?: { code: string };
    };
  };
  const settings = await call(`${APP_ORIGIN}/index.html`, 1, 'settings.get');
  assert.equal(settings.t, 'ok');
  assert.equal(settings.data?.workspace, workspace);
  const foreign = await call('https://evil.example/', 2, 'settings.get');
  assert.equal(foreign.t, 'fatal');
  assert.equal(foreign.error?.code, 'FORBIDDEN');
  assert.equal((await call(`${APP_ORIGIN}/index.html`, 3, 'runs.list')).t, 'ok');
});

test('main.ts: quitting closes the service first, then quits', async () => {
  const quitsBefore = electron.recorded.quitCalls;
  electron.app.quit();
  for (let i = 0; i < 500 && electron.recorded.quitCalls < quitsBefore + 2; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(
    electron.recorded.quitCalls,
    quitsBefore + 2,
    'the first quit is deferred until the service closed, then repeated',
  );
});

test('the Electron entry files build: a self-contained CommonJS preload that needs only electron', async () => {
  const out = tempDir('aimkp-build-');
  const r = await build({
    entryPoints: { preload: 'electron/preload.ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outdir: out,
    external: ['electron'],
    write: false,
    metafile: true,
  });
  const text = r.outputFiles[0].text;
  assert.deepEqual(
    [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
    ['electron'],
  );
  assert.doesNotMatch(text, /zod/);
  const main = await build({
    entryPoints: { main: 'electron/main.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outdir: out,
    packages: 'external',
    external: ['electron'],
    write: false,
  });
  assert.match(main.outputFiles.find((f) => f.path.endsWith('main.js'))!.text, /from "electron"/);
});
