// Where the workspace is by default, its layout, settings.json validation, and run ids that cannot leave it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkSettings,
  defaultWorkspaceRoot,
  ensureWorkspace,
  isRunId,
  jobWorkers,
  readSettings,
  writeSettings,
} from '../../electron/supervisor/workspace';

const root = mkdtempSync(join(tmpdir(), 'aimkp-ws-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('default workspace: AIMKP_WORKSPACE, then the platform data folder (XDG_DATA_HOME when absolute)', () => {
  assert.equal(defaultWorkspaceRoot({ AIMKP_WORKSPACE: '/data/ws', XDG_DATA_HOME: '/x' }, 'linux'), '/data/ws');
  assert.equal(defaultWorkspaceRoot({ XDG_DATA_HOME: '/x/share' }, 'linux'), '/x/share/aimkp-workbench');
  assert.equal(
    defaultWorkspaceRoot({ XDG_DATA_HOME: 'relative' }, 'linux'),
    join(homedir(), '.local', 'share', 'aimkp-workbench'),
  );
  assert.equal(defaultWorkspaceRoot({}, 'linux'), join(homedir(), '.local', 'share', 'aimkp-workbench'));
  assert.equal(
    defaultWorkspaceRoot({}, 'darwin'),
    join(homedir(), 'Library', 'Application Support', 'aimkp-workbench'),
  );
  assert.equal(
    defaultWorkspaceRoot({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32'),
    join('C:\\Users\\u\\AppData\\Roaming', 'aimkp-workbench'),
  );
});

test('layout, settings round trip, and one clear error per bad setting', async () => {
  const p = ensureWorkspace(join(root, 'w'));
  for (const d of [p.runs, p.datasets, p.cache]) assert.ok(existsSync(d), d);
  assert.deepEqual(readSettings(p), { backend: 'auto', concurrency: 1, workers: null });
  await writeSettings(p, { backend: 'wasm', concurrency: 2, workers: 3 });
  assert.deepEqual(readSettings(p), { backend: 'wasm', concurrency: 2, workers: 3 });
  // A settings.json written before the field existed: every core, shared among the jobs at once.
  writeFileSync(p.settings, JSON.stringify({ backend: 'wasm', concurrency: 2 }));
  assert.deepEqual(readSettings(p), { backend: 'wasm', concurrency: 2, workers: null });
  assert.equal(jobWorkers(readSettings(p), 16), 8);
  assert.equal(jobWorkers({ backend: 'auto', concurrency: 4, workers: null }, 2), 1);
  assert.equal(jobWorkers({ backend: 'auto', concurrency: 1, workers: 3 }, 16), 3);
  assert.throws(
    () => checkSettings({ workers: 0 }, 'settings.json'),
    /settings.json: field "workers": expected an integer 1..256, or null \(every core\)/,
  );
  assert.throws(
    () => checkSettings({ concurrency: 0 }, 'settings.json'),
    /settings.json: field "concurrency": expected an integer 1..64/,
  );
  assert.throws(
    () => checkSettings({ backend: 'tpu' }, 'settings.json'),
    /field "backend": expected one of auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/,
  );
  assert.throws(() => checkSettings({ theme: 'dark' }, 'settings.json'), /field "theme": unknown setting/);
  writeFileSync(p.settings, '{ not json');
  assert.throws(
    () => readSettings(p),
    (e: Error) => e.message.startsWith(`${p.settings}: invalid JSON`),
  );
});

test('run ids are one folder name', () => {
  for (const ok of ['aimkp-s1-20261201-001500', 'a', 'run_1.b']) assert.ok(isRunId(ok), ok);
  for (const bad of ['', '..', 'a/b', '../x', '.hidden', 'a..b', 'x'.repeat(129), 'a b']) assert.ok(!isRunId(bad), bad);
});
