// One writer per run: two trainings started at the same moment on one folder → exactly one runs; a resume
// while another process holds the run is refused naming the holder; a lock whose process died is taken
// over and said so; several processes racing for one stale lock → exactly one gets it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../../models/core-error';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { acquireRunLock, breakRunLock, inspectLock, LOCK_FILE } from '../../models/run/run-lock';
import { train } from '../../models/train/trainer';
import { cliInProcess, tinyTrainConfig } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-rel-lock-'));
const data = join(root, 'data');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
before(() => buildSynthDataset({ n: 40, seed: 5, out: data }));

const LOCK_MODULE = new URL('../../models/run/run-lock.ts', import.meta.url).href;

/** A separate process that takes the run lock, prints "locked", and holds it until killed. */
function holdLockInChild(runDir: string): Promise<ChildProcess> {
  const code = `const { acquireRunLock } = await import(${JSON.stringify(LOCK_MODULE)}); acquireRunLock(${JSON.stringify(runDir)}, { command: 'test holder' }); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve(child));
    child.on('exit', (c) => reject(new Error(`lock holder exited with ${c}: ${err}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

test('two trainings started at the same moment on one folder: exactly one runs, the other is refused naming the holder', async () => {
  const run = join(root, 'twin');
  const results = await Promise.allSettled(
    [0, 1].map(() => train({ runDir: run, dataDir: data, config: tinyTrainConfig(), maxSteps: 3 })),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.equal(refused.length, 1);
  const e = refused[0].reason as unknown;
  assert.ok(e instanceof CoreError && e.code === 'RUN_LOCKED', String(e));
  assert.ok(e.message.includes(`pid ${process.pid} on ${hostname()}`) && e.message.includes('aimkp train'), e.message);
  const events = readFileSync(join(run, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  assert.equal(events.filter((x) => x.type === 'run-start').length, 1, 'one run-start in events.jsonl');
  assert.equal(inspectLock(run).state, 'free', 'the lock is released at the end');
});

test('resume while another process holds the run → refused naming it (in process and from the CLI, exit code 4)', async () => {
  const run = join(root, 'held');
  await train({ runDir: run, dataDir: data, config: tinyTrainConfig(), maxSteps: 2 });
  const child = await holdLockInChild(run);
  const seen = inspectLock(run);
  assert.ok(
    seen.state === 'held' &&
      seen.holder.pid === child.pid &&
      !seen.byThisProcess &&
      seen.holder.command === 'test holder',
  );
  await assert.rejects(
    train({ runDir: run, resume: true }),
    (e: unknown) =>
      e instanceof CoreError && e.code === 'RUN_LOCKED' && e.message.includes(`"test holder" (pid ${child.pid}`),
  );
  const cli = await cliInProcess('train', '--out', run, '--resume');
  assert.equal(cli.code, 4);
  assert.equal(cli.stderr.split('\n').length, 1, cli.stderr);
  assert.match(cli.stderr, new RegExp(`in use by "test holder" \\(pid ${child.pid} on `));

  // The holder is killed (kill -9: no clean-up): the lock is stale, the next writer takes it over and says so.
  await killed(child);
  const stale = inspectLock(run);
  assert.equal(stale.state, 'stale');
  assert.ok(stale.state === 'stale' && stale.reason.includes(`process ${child.pid}`));
  const logs: string[] = [];
  const r = await train({ runDir: run, resume: true, maxSteps: 3, log: (l) => logs.push(l) });
  assert.equal(r.globalStep, 3);
  assert.ok(
    logs.some(
      (l) => l.includes(`took over the lock of "test holder" (pid ${child.pid}`) && l.includes('no longer running'),
    ),
    logs.join('\n'),
  );
  assert.equal(inspectLock(run).state, 'free');
});

test('four processes racing for one stale lock: exactly one takes it', async () => {
  const run = join(root, 'race');
  mkdirSync(run);
  // A lock left by a process that no longer exists (pid far above pid_max's default).
  writeFileSync(
    join(run, LOCK_FILE),
    JSON.stringify({
      pid: 4_000_000,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: 'dead',
      token: 'x',
    }),
  );
  const code = `const { acquireRunLock } = await import(${JSON.stringify(LOCK_MODULE)});
    await new Promise((r) => setTimeout(r, Math.max(0, Number(process.env.GO) - Date.now())));
    try { acquireRunLock(${JSON.stringify(run)}, { command: 'racer' }); console.log('GOT'); setTimeout(() => {}, 1500); }
    catch (e) { console.log(e.code); }`;
  const go = String(Date.now() + 2500); // all start their attempt at the same instant, after tsx has loaded
  const outs = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
            env: { ...process.env, GO: go },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          children.push(child);
          let out = '';
          child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', () => resolve(out.trim()));
        }),
    ),
  );
  assert.equal(outs.filter((o) => o === 'GOT').length, 1, outs.join(' | '));
  assert.equal(outs.filter((o) => o === 'RUN_LOCKED').length, 3, outs.join(' | '));
});

test('release removes only its own lock; breakRunLock needs the holder token; an unreadable lock file is replaced', () => {
  const run = join(root, 'api');
  mkdirSync(run);
  const a = acquireRunLock(run, { command: 'a' });
  assert.throws(
    () => acquireRunLock(run, { command: 'b' }),
    (e: unknown) => e instanceof CoreError && e.code === 'RUN_LOCKED' && /"a" \(pid/.test(e.message),
  );
  assert.equal(breakRunLock(run, 'wrong-token'), false);
  assert.equal(inspectLock(run).state, 'held');
  assert.equal(breakRunLock(run, a.info.token), true);
  const b = acquireRunLock(run, { command: 'b' });
  a.release(); // a's lock is gone; releasing must not remove b's
  assert.ok(existsSync(join(run, LOCK_FILE)));
  b.release();
  assert.equal(inspectLock(run).state, 'free');
  writeFileSync(join(run, LOCK_FILE), '');
  assert.equal(inspectLock(run).state, 'unreadable');
  // Young: maybe a lock being written this instant → refused for now. Old (a crash mid-write) → replaced.
  assert.throws(
    () => acquireRunLock(run, { command: 'c' }),
    (e: unknown) => e instanceof CoreError && e.code === 'RUN_LOCKED',
  );
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(run, LOCK_FILE), old, old);
  const c = acquireRunLock(run, { command: 'c' });
  assert.match(c.tookOver ?? '', /unreadable/);
  c.release();
});
