#!/usr/bin/env node
// Builds the optional native matmul addon: native/native_gemm.cc → native/build/native_gemm.node, with the system C++
// compiler and Node's own headers (no node-gyp, no download; ≈ 4 s). `npm ci` runs it as the postinstall step.
//
// Never fails an install: without a compiler or headers it says why and exits 0, and the app uses the wasm matmul
// kernels (the backend line then reads "wasm", not "wasm + native matmul"). `--strict` exits 1 instead (CI).
// Needs: a C++17 compiler (Debian: build-essential) and node_api.h (Debian: /usr/include/node, from nodejs /
// libnode-dev; official tarballs: <prefix>/include/node). No BLAS is needed to build (one is found at run time).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'native_gemm.cc');
const output = join(root, 'native', 'build', 'native_gemm.node');
const strict = process.argv.includes('--strict');

function giveUp(why) {
  console.error(`build-native: ${why}; matmuls will run in wasm (set up a C++ compiler and run npm run build:native)`);
  process.exit(strict ? 1 : 0);
}

if (process.env.AIMKP_NATIVE_MATMUL === 'off') giveUp('skipped (AIMKP_NATIVE_MATMUL=off)');
if (process.platform === 'win32') giveUp('no build recipe for Windows here (it would need node-gyp / MSVC)');
const includeDirs = [
  process.env.NODE_INCLUDE,
  resolve(process.execPath, '..', '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter(Boolean);
const include = includeDirs.find((dir) => existsSync(join(dir, 'node_api.h')));
if (!include) giveUp(`no node_api.h in ${includeDirs.join(', ')}`);
const cxx = process.env.CXX || 'c++';
mkdirSync(dirname(output), { recursive: true });
// Built under a temporary name and renamed: a process that has the old addon loaded keeps a valid file.
const partial = `${output}.${process.pid}.tmp`;
const args = ['-O3', '-std=c++17', '-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, source, '-o', partial];
args.push(...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-ldl']));
const started = Date.now();
const result = spawnSync(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (result.error || result.status !== 0) {
  rmSync(partial, { force: true });
  giveUp(result.error ? `${cxx}: ${result.error.message}` : `${cxx} exited with ${result.status}`);
}
renameSync(partial, output);
console.error(`build-native: built ${join('native', 'build', 'native_gemm.node')} in ${Date.now() - started} ms`);
