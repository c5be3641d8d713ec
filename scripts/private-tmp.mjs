#!/usr/bin/env node
// Runs a test suite with TMPDIR set to a fresh private folder, then fails when the suite left anything in it:
// every test removes what it creates (issue 16, item 17). Usage: node scripts/private-tmp.mjs <command> [args…]
//
// Tools' own caches are not test leftovers: tsx's compile cache (tsx-<uid>) and jiti's (electron-builder loads its
// TypeScript config through jiti) are links to the shared ones in the real temp folder, so runs stay as fast as
// before; they are removed with the private folder, the caches they point to are kept.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: node scripts/private-tmp.mjs <command> [args…]');
  process.exit(2);
}

const realTmp = tmpdir();
const privateTmp = mkdtempSync(join(realTmp, 'aimkp-test-tmp-'));
// Traversable by other users (as /tmp is): tests that run as root check permissions as an unprivileged user
// (test/supervisor/workspace-bounded.test.ts), who must reach the folders they make here.
chmodSync(privateTmp, 0o755);
const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
const TOOL_CACHES = [`tsx-${uid}`, 'jiti'];
for (const name of TOOL_CACHES) {
  const shared = join(realTmp, name);
  mkdirSync(shared, { recursive: true });
  symlinkSync(shared, join(privateTmp, name), 'dir');
}

const env = { ...process.env, TMPDIR: privateTmp, TMP: privateTmp, TEMP: privateTmp };
const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);

child.on('exit', (code, signal) => {
  const left = existsSync(privateTmp)
    ? readdirSync(privateTmp).filter(
        (name) => !(TOOL_CACHES.includes(name) && lstatSync(join(privateTmp, name)).isSymbolicLink()),
      )
    : [];
  rmSync(privateTmp, { recursive: true, force: true });
  if (left.length > 0) {
    console.error(
      `\nprivate-tmp: the suite left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in its temp folder (every test must remove what it creates): ${left.sort().join(', ')}`,
    );
    process.exit(code === 0 || code === null ? 1 : code);
  }
  if (signal !== null) process.kill(process.pid, signal);
  process.exit(code ?? 1);
});
