// Issue 16 item 9: a workspace folder that cannot be made (under /proc or /sys, a file, a read-only folder) ends
// in one clear error within a bounded time; before, Node's recursive mkdir spun forever on /proc (38,000 mkdir calls
// in 3 s, SIGTERM ignored). Each check runs in a child process with a timeout, so a loop fails the test instead of
// hanging it. settings.set refuses a relative folder and shows the absolute path it would have meant.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../shared/contract/client';
import { createLocalTransport } from '../../shared/contract/local-transport';
import { createService } from '../../electron/service/create-service';

const CHILD = fileURLToPath(new URL('../fixtures/ensure-workspace-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'aimkp-ws-bounded-'));
after(() => {
  chmodSync(root, 0o700);
  for (const d of ['ro']) if (existsSync(join(root, d))) chmodSync(join(root, d), 0o755);
  rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  ms: number;
}

function prepare(dir: string, uid?: number): Outcome {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, ...(uid === undefined ? [] : [String(uid)])], {
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
  const ms = Date.now() - t0;
  assert.equal(r.signal, null, `${dir}: the check did not end within 20 s (killed): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return { ...(JSON.parse(line) as Omit<Outcome, 'ms'>), ms };
}

test('/proc/x and /sys/x: one error naming the folder, in bounded time (no mkdir loop)', () => {
  const proc = prepare('/proc/x');
  assert.equal(proc.ok, false);
  assert.equal(proc.code, 'NOT_FOUND');
  assert.match(
    proc.message!,
    /^\/proc\/x: cannot create the workspace folder: the file system under \/proc does not allow new folders/,
  );
  assert.match(proc.message!, /choose another workspace/);
  const sys = prepare('/sys/x');
  assert.equal(sys.ok, false);
  assert.match(sys.message!, /^\/sys\/x: cannot create the workspace folder/);
  assert.ok(['PERMISSION', 'READ_ONLY', 'NOT_FOUND'].includes(sys.code!), sys.code);
  // An existing folder where nothing can be created: /proc itself.
  const procRoot = prepare('/proc');
  assert.equal(procRoot.ok, false);
  assert.match(procRoot.message!, /^\/proc\/runs: cannot create the workspace folder/);
});

test('a file, or a path through a file: "is a file", not a stack trace', () => {
  const file = join(root, 'plain.txt');
  writeFileSync(file, 'x');
  const f = prepare(file);
  assert.equal(f.ok, false);
  assert.equal(f.code, 'BAD_INPUT');
  assert.equal(
    f.message,
    `${file}: is a file, not a folder; choose another workspace (Settings, --workspace or AIMKP_WORKSPACE)`,
  );
  const under = prepare(join(file, 'ws'));
  assert.equal(under.ok, false);
  assert.match(under.message!, /a part of the path is a file/);
});

test('a read-only folder: the write probe refuses it (checked as an unprivileged user when run as root)', (t) => {
  const ro = join(root, 'ro');
  mkdirSync(join(ro, 'ws', 'runs'), { recursive: true });
  mkdirSync(join(ro, 'ws', 'datasets'));
  mkdirSync(join(ro, 'ws', 'cache'));
  chmodSync(join(ro, 'ws'), 0o555);
  chmodSync(root, 0o755);
  chmodSync(ro, 0o755);
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && process.getuid === undefined) return t.skip('no POSIX users here');
  // Every folder exists, so only the probe can tell that nothing can be written there.
  const r = prepare(join(ro, 'ws'), asRoot ? 65534 : undefined);
  assert.equal(r.ok, false);
  assert.equal(r.code, 'PERMISSION');
  assert.match(r.message!, new RegExp(`^${join(ro, 'ws')}: cannot write in the workspace folder: permission denied`));
  // And a new folder under a read-only one: refused at its mkdir.
  const below = prepare(join(ro, 'ws', 'new'), asRoot ? 65534 : undefined);
  assert.equal(below.ok, false);
  assert.equal(below.code, 'PERMISSION');
  assert.match(below.message!, /cannot create the workspace folder/);
});

test('a writable folder is made, parents too', () => {
  const ok = prepare(join(root, 'a', 'b', 'ws'));
  assert.equal(ok.ok, true, ok.message);
  for (const d of ['runs', 'datasets', 'cache']) assert.ok(existsSync(join(root, 'a', 'b', 'ws', d)));
});

test('settings.set: a relative folder is refused showing the absolute path; a bad one keeps the workspace', async () => {
  const service = createService({
    workspace: join(root, 'svc'),
    host: 'browser',
    bundledDataDir: null,
    locatorFile: null,
  });
  try {
    const api = createClient(createLocalTransport(service.backend, { validateResponses: true }));
    await assert.rejects(api.call('settings.set', { workspace: 'my-ws' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_INPUT');
      assert.equal(
        e.message,
        `Workspace folder "my-ws": a relative path is not used (it would depend on the folder the server was started in: here ${resolve('my-ws')}); give an absolute path`,
      );
      return true;
    });
    assert.ok(!existsSync(resolve('my-ws')), 'nothing was made in the working folder');
    const t0 = Date.now();
    await assert.rejects(
      api.call('settings.set', { workspace: '/proc/x' }),
      /\/proc\/x: cannot create the workspace folder/,
    );
    assert.ok(Date.now() - t0 < 5000, 'answered at once');
    assert.equal((await api.call('settings.get', {})).workspace, join(root, 'svc'), 'the workspace stays');
    await assert.rejects(api.call('settings.set', { workspace: '~/ws' }), /\(~ is not expanded\)/);
  } finally {
    await service.close();
  }
});
