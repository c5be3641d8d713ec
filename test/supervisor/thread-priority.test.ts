// Jobs run below the UI's priority (issue 17: the UI stays live while every core trains). On Linux the nice value is
// a thread's: lowering a job's worker thread must lower that thread and the threads it creates (the data-parallel
// pool), and leave the main thread alone. Checked with real threads and the kernel's own numbers (os.getPriority and
// /proc/thread-self/stat), not a mock.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { JOB_NICE, lowerThreadPriority } from '../../electron/supervisor/thread-priority';

const moduleUrl = new URL('../../electron/supervisor/thread-priority.ts', import.meta.url).href;
// A data: URL has no base to resolve a package from: give tsx's loader API as an absolute URL.
const tsxUrl = import.meta.resolve('tsx/esm/api');

/** A worker thread that lowers itself, then starts a child thread; both report their nice value. */
const workerCode = `
import { register } from ${JSON.stringify(tsxUrl)};
import { getPriority } from 'node:os';
import { readFileSync } from 'node:fs';
import { parentPort, Worker } from 'node:worker_threads';
register();
const { lowerThreadPriority } = await import(${JSON.stringify(moduleUrl)});
const said = lowerThreadPriority();
const statNice = () => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16]);
const child = new Worker(
  "const { parentPort } = require('node:worker_threads'); const os = require('node:os'); parentPort.postMessage(os.getPriority());",
  { eval: true },
);
const childNice = await new Promise((r) => child.once('message', r));
parentPort.postMessage({ said, nice: getPriority(), statNice: statNice(), childNice });
`;

test(
  'a job thread lowered to nice 10 takes its child threads along and leaves the main thread',
  { skip: process.platform !== 'linux' && 'per-thread nice is Linux-only' },
  async () => {
    const before = getPriority();
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerCode)}`));
    const r = (await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })) as { said: string; nice: number; statNice: number; childNice: number };
    await w.terminate();
    assert.equal(r.nice, Math.max(before, JOB_NICE));
    assert.equal(r.statNice, r.nice, 'the kernel reports the same nice for that thread');
    assert.equal(r.childNice, r.nice, 'a thread created afterwards (a pool worker) inherits it');
    assert.match(r.said, new RegExp(`nice ${r.nice}`));
    assert.equal(getPriority(), before, 'the main thread keeps its priority');
    const mainStat = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
    assert.equal(mainStat, before);
  },
);

test('other platforms: left alone, and said so', () => {
  assert.match(lowerThreadPriority(JOB_NICE, 'darwin'), /unchanged .*Linux-only; darwin/);
});
