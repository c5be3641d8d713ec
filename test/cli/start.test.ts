// `npm start` (scripts/start.mjs): finding the Electron binary without triggering electron's download, and
// the fallback — one line saying why, then browser mode with its URL — run as a real process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error a plain .mjs script without type declarations
import { electronBinary, noDisplay } from '../../scripts/electron-binary.mjs';
import { tempDir } from '../fixtures/temp-dirs';

type Found = { path: string } | { why: string };
const find = electronBinary as (root: string, env?: Record<string, string | undefined>) => Found;

test('electronBinary: not installed, never downloaded, missing, present, overridden', () => {
  const root = tempDir('aimkp-start-');
  assert.match((find(root, {}) as { why: string }).why, /not installed/);
  const pkg = join(root, 'node_modules', 'electron');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"electron"}');
  assert.match((find(root, {}) as { why: string }).why, /offline install/);
  writeFileSync(join(pkg, 'path.txt'), 'electron');
  assert.match((find(root, {}) as { why: string }).why, /binary is missing/);
  mkdirSync(join(pkg, 'dist'));
  writeFileSync(join(pkg, 'dist', 'electron'), '');
  assert.deepEqual(find(root, {}), { path: join(pkg, 'dist', 'electron') });
  assert.match((find(root, { ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent' }) as { why: string }).why, /nonexistent/);
  assert.equal(
    (noDisplay as (p: string, e: Record<string, string>) => string | null)('linux', {}),
    'no display (DISPLAY / WAYLAND_DISPLAY unset)',
  );
  assert.equal(
    (noDisplay as (p: string, e: Record<string, string>) => string | null)('linux', { DISPLAY: ':0' }),
    null,
  );
  assert.equal((noDisplay as (p: string, e: Record<string, string>) => string | null)('darwin', {}), null);
});

test('npm start without an Electron binary: one line saying so, then browser mode with its URL', async () => {
  const renderer = tempDir('aimkp-start-renderer-');
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>AimKP</title>');
  const workspace = tempDir('aimkp-start-ws-');
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0', '--workspace', workspace], {
    env: {
      ...process.env,
      AIMKP_RENDERER_DIR: renderer,
      ELECTRON_OVERRIDE_DIST_PATH: join(workspace, 'no-electron-here'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL in 120 s: ${out} ${err}`)), 120_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /AimKP Workbench \(browser mode\): (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`start exited ${code}: ${out} ${err}`)));
  });
  const lines = out.split('\n').filter((l) => /electron/i.test(l) && !/^dist-electron\//.test(l));
  assert.equal(lines.length, 1, out);
  assert.match(
    lines[0],
    /^Electron cannot start here: the Electron binary is missing \(.*\); opening browser mode instead\.$/,
  );
  assert.equal((await fetch(url)).status, 200);
  child.removeAllListeners('exit');
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
});
