// The backend choice's order and its fall-through, at unit level: `walkBackends` with stand-in starters, and the real
// initBackend with an injected WebGPU adapter probe whose adapter fails at each stage of start-up. No GPU needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Backend } from '../../shared/contract/common';
import { BACKEND_CHOICES } from '../../shared/vocabulary';
import { CoreError } from '../../models/core-error';
import { AUTO_ORDER, describeBackend, initBackend, walkBackends, type ConcreteBackend } from '../../models/tf/backend';
import { startWebGpuBackend } from '../../models/tf/webgpu-backend';
import { describeAdapter, type DawnAdapter, type WebGpuAdapter } from '../../models/tf/webgpu-adapter';

test('auto tries tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu, the order the docs, the vocabulary and the contract give', () => {
  assert.deepEqual(AUTO_ORDER, ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
  assert.deepEqual(BACKEND_CHOICES, ['auto', ...AUTO_ORDER]);
  assert.deepEqual(Backend.options, [...BACKEND_CHOICES]);
  // docs/backends-and-encoders.md: the "Order tried by auto" table, one row per backend, numbered.
  const docs = readFileSync(new URL('../../docs/backends-and-encoders.md', import.meta.url), 'utf8');
  const rows = [...docs.matchAll(/^\| (\d) \| `([a-z-]+)` \|/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    rows,
    AUTO_ORDER.map((name, i) => [i + 1, name]),
  );
});

test('walkBackends: the first backend that starts wins; every earlier reason is kept in order', async () => {
  const calls: string[] = [];
  const reasons: Partial<Record<ConcreteBackend, string>> = { 'tfjs-node-gpu': 'not installed' };
  const start = async (name: ConcreteBackend) => {
    calls.push(name);
    return reasons[name] ?? null;
  };
  const webgpuFirst = await walkBackends('auto', start);
  assert.equal(webgpuFirst.picked, 'webgpu');
  assert.deepEqual(calls, ['tfjs-node-gpu', 'webgpu']);
  assert.deepEqual(webgpuFirst.tried, [
    { name: 'tfjs-node-gpu', ok: false, reason: 'not installed' },
    { name: 'webgpu', ok: true },
  ]);

  // No adapter, and a starter that throws: both are reasons, never a crash; tfjs-node is next.
  calls.length = 0;
  reasons.webgpu = 'no adapter (libvulkan.so.1 not found)';
  const throwing = async (name: ConcreteBackend) => {
    if (name === 'tfjs-node') throw new Error('boom\nsecond line');
    return start(name);
  };
  const wasm = await walkBackends('auto', throwing);
  assert.equal(wasm.picked, 'wasm');
  assert.deepEqual(
    wasm.tried.map((t) => [t.name, t.reason]),
    [
      ['tfjs-node-gpu', 'not installed'],
      ['webgpu', 'no adapter (libvulkan.so.1 not found)'],
      ['tfjs-node', 'boom'],
      ['wasm', undefined],
    ],
  );
});

test('an explicit request tries only that backend and fails in one line naming the reason', async () => {
  const calls: string[] = [];
  const err = await walkBackends('webgpu', async (name) => {
    calls.push(name);
    return 'no adapter (libvulkan.so.1 not found)';
  }).catch((e: unknown) => e);
  assert.deepEqual(calls, ['webgpu']);
  assert.ok(err instanceof CoreError);
  assert.equal(err.code, 'BACKEND_UNAVAILABLE');
  assert.equal(
    err.message,
    'no TensorFlow.js backend could be initialised (webgpu: no adapter (libvulkan.so.1 not found)) — ' +
      'use --backend auto (or unset AIMKP_BACKEND) to fall back to wasm/cpu',
  );
  assert.ok(!err.message.includes('\n'));
});

/** A stand-in adapter: real tf, real tfjs-backend-webgpu, but device creation or the device itself fails. */
function fakeAdapter(requestDevice: DawnAdapter['requestDevice'], software = false): WebGpuAdapter {
  const info = {
    vendor: 'acme',
    architecture: 'gen-x',
    device: software ? 'llvmpipe (LLVM 15)' : 'Acme GPU 9000',
    description: '',
  };
  const adapter: DawnAdapter = { info, features: new Set(), limits: { maxBufferSize: 1 << 20 }, requestDevice };
  return {
    gpu: { requestAdapter: async () => adapter },
    adapter,
    globals: {},
    description: describeAdapter(info, 'core', []),
  };
}

test('startWebGpuBackend: each failure before the backend exists is a reason, and tf is left as it was', async () => {
  await tf.setBackend('cpu');
  const cases: [string, Parameters<typeof startWebGpuBackend>[0], RegExp][] = [
    ['no adapter', async () => ({ ok: false, reason: 'no adapter (test)' }), /^no adapter \(test\)$/],
    [
      'a probe that throws',
      async () => {
        throw new Error('dawn exploded');
      },
      /^adapter probe failed: dawn exploded$/,
    ],
    [
      'a software adapter in auto',
      async () => ({ ok: true, adapter: fakeAdapter(async () => ({ destroy() {} }), true) }),
      /^only a software adapter \(llvmpipe \(LLVM 15\)\): slower than wasm/,
    ],
    [
      'requestDevice rejects',
      async () => ({
        ok: true,
        adapter: fakeAdapter(async () => {
          throw new Error('out of device memory');
        }),
      }),
      /^adapter Acme GPU 9000, but requestDevice failed: out of device memory$/,
    ],
  ];
  for (const [what, probe, reason] of cases) {
    const result = await startWebGpuBackend(probe, { allowSoftware: false });
    assert.equal(result.ok, false, what);
    if (!result.ok) assert.match(result.reason, reason, what);
    assert.equal(tf.getBackend(), 'cpu', what);
    assert.equal(tf.findBackendFactory('webgpu'), null, what);
  }
});

test('a failure in the middle of start-up (the backend cannot use the device) falls through to the next backend', async () => {
  let destroyed = 0;
  // A "device" tfjs-backend-webgpu's constructor cannot use: it throws inside tf.setBackend('webgpu').
  const probe = async () => ({
    ok: true as const,
    adapter: fakeAdapter(async () => ({ destroy: () => void destroyed++ })),
  });
  const saved = process.env.AIMKP_BACKEND;
  delete process.env.AIMKP_BACKEND;
  try {
    const info = await initBackend('auto', { webgpuProbe: probe });
    assert.equal(info.picked, 'wasm');
    const webgpu = info.tried.find((t) => t.name === 'webgpu');
    assert.equal(webgpu?.ok, false);
    assert.match(webgpu?.reason ?? '', /^the tfjs webgpu backend did not initialise: /);
    assert.match(describeBackend(info), /; webgpu: the tfjs webgpu backend did not initialise: /);
    // Undone: the device destroyed, no webgpu backend or factory, no navigator.gpu left behind.
    assert.equal(destroyed, 1);
    assert.equal(tf.findBackendFactory('webgpu'), null);
    assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined);
    assert.equal(tf.getBackend(), 'wasm');
    const sum = tf.sum(tf.tensor1d([1, 2, 3]));
    assert.equal(sum.dataSync()[0], 6);
    sum.dispose();
  } finally {
    if (saved !== undefined) process.env.AIMKP_BACKEND = saved;
  }
});
