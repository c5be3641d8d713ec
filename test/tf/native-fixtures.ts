// Shared by the native-kernel tests (native-matmul, native-xent, native-dropout, native-gelu): why they skip, running
// a piece of code on tf's own kernels, and a script in a fresh process with other settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../../models/tf/backend';
import { nativeVectorReady, registerNativeMatmul, unregisterNativeMatmul } from '../../models/tf/native-matmul';

/** Starts wasm; why native tests skip here (no addon, or `vector`: an addon without the vector kernels), or null. */
export async function nativeSkipReason(options: { vector?: boolean } = {}): Promise<string | null> {
  const info = await initBackend('wasm');
  if (!info.nativeMatmul?.enabled) return `native matmul off: ${info.nativeMatmul?.reason ?? 'unknown'}`;
  if (options.vector && !nativeVectorReady())
    return 'the addon has no vector kernels (rebuild it: npm run build:native)';
  return null;
}

/** f with the plain wasm kernels and tf's ops (every native kernel off), then the native ones back. */
export function onPlainWasm<T>(f: () => T): T {
  unregisterNativeMatmul('test: plain wasm');
  try {
    return f();
  } finally {
    assert.equal(registerNativeMatmul().enabled, true);
  }
}

/** Runs an ES-module script (TypeScript imports allowed) in a fresh Node with extra environment; its stdout. */
export function runScript(script: string, env: Record<string, string> = {}): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

/** The last stdout line of runScript, parsed as JSON. */
export function runScriptJson<T>(script: string, env: Record<string, string> = {}): T {
  return JSON.parse(runScript(script, env).trim().split('\n').at(-1) ?? '{}') as T;
}
