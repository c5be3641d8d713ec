// One server per workspace (issue 16, item 12): a second `aimkp serve` on a workspace another server holds says
// in one line which process holds it (pid, host, since when, its command) and exits 4 (RUN_LOCKED,
// docs/reliability.md); a server started after the first was killed with SIGKILL says that it took the dead
// server's workspace lock over, in one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'aimkp-serve-lock-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const renderer = join(root, 'renderer');
const workspace = join(root, 'workspace');
mkdirSync(renderer);
writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>AimKP</title>');

function serve(): ChildProcess {
  const child = spawn(
    process.execPath,
    ['bin/aimkp.mjs', 'serve', '--port', '0', '--workspace', workspace, '--renderer', renderer],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return child;
}

/** Waits for the URL line; resolves with what stderr said until then. */
function started(child: ChildProcess): Promise<{ stderr: string }> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (/AimKP Workbench \(browser mode\): \S+/.test(out)) {
        clearTimeout(timer);
        resolve({ stderr: err });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout: out, stderr: err })));
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

test('a second aimkp serve on a held workspace: one line naming the holder, exit 4; after kill -9 the next server says it took the lock over', async () => {
  const first = serve();
  await started(first);

  const second = await exited(serve());
  assert.equal(second.code, 4, `exit code; stderr: ${second.stderr}`);
  const lines = second.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${second.stderr}`);
  assert.match(
    lines[0],
    new RegExp(
      `^aimkp serve: ${workspace}: the workspace is in use by "aimkp serve --port 0 --workspace [^"]+" \\(pid ${first.pid} on ${hostname()}, since \\d{4}-\\d\\d-\\d\\dT[^)]+\\); stop it first`,
    ),
  );
  assert.doesNotMatch(second.stderr, /\bat \S+ \(/, 'no stack trace');

  await stop(first, 'SIGKILL');
  const third = serve();
  const { stderr } = await started(third);
  const took = stderr.split('\n').filter((l) => l.includes('took over'));
  assert.equal(took.length, 1, stderr);
  assert.match(
    took[0],
    new RegExp(
      `^\\[serve\\] warning: took over the workspace lock of "aimkp serve [^"]*" \\(pid ${first.pid} on ${hostname()}, since [^)]+\\): process ${first.pid} on ${hostname()} is no longer running$`,
    ),
  );
  await stop(third, 'SIGTERM');
});
