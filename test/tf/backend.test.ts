import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, parseBackendFlag, resolveBackendRequest } from '../../models/tf/backend';
import { CoreError } from '../../models/core-error';

test('auto picks wasm here and reports both native backends as not installed', async () => {
  const saved = process.env.AIMKP_BACKEND;
  delete process.env.AIMKP_BACKEND;
  try {
    const info = await initBackend('auto');
    assert.equal(info.picked, 'wasm');
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(
      info.tried.map((t) => [t.name, t.ok, t.reason]),
      [
        ['tfjs-node-gpu', false, 'not installed'],
        ['tfjs-node', false, 'not installed'],
        ['wasm', true, undefined],
      ],
    );
    assert.equal(typeof info.simd, 'boolean');
    assert.ok((info.threads ?? 0) >= 1);
    const line = describeBackend(info);
    assert.match(line, /^backend: wasm \(SIMD (on|off), \d+ threads?\) — /);
    assert.ok(line.endsWith('tfjs-node-gpu: not installed; tfjs-node: not installed'), line);
    // Idempotent: the same promise's info, no second probe.
    assert.equal(await initBackend(), info);
    assert.equal(await initBackend('auto'), info);
    await assert.rejects(initBackend('cpu'), CoreError);
  } finally {
    if (saved !== undefined) process.env.AIMKP_BACKEND = saved;
  }
});

test('resolveBackendRequest: explicit request beats AIMKP_BACKEND, which beats auto', () => {
  assert.equal(resolveBackendRequest(undefined, undefined), 'auto');
  assert.equal(resolveBackendRequest('auto', undefined), 'auto');
  assert.equal(resolveBackendRequest(undefined, 'cpu'), 'cpu');
  assert.equal(resolveBackendRequest('auto', ' wasm '), 'wasm');
  assert.equal(resolveBackendRequest('tfjs-node', 'cpu'), 'tfjs-node');
  assert.equal(resolveBackendRequest(undefined, ''), 'auto');
  assert.throws(
    () => resolveBackendRequest(undefined, 'webgpu'),
    /AIMKP_BACKEND=webgpu: expected one of auto, tfjs-node-gpu/,
  );
});

test('describeBackend for a native pick lists nothing after a clean first try', () => {
  const line = describeBackend({
    name: 'tensorflow',
    picked: 'tfjs-node',
    requested: 'tfjs-node',
    tried: [{ name: 'tfjs-node', ok: true }],
  });
  assert.equal(line, 'backend: tfjs-node');
  // (The GPU pick names its CUDA/cuDNN versions: test/packaging/gpu.test.ts.)
});

test('parseBackendFlag accepts the five choices and names the flag otherwise', () => {
  assert.equal(parseBackendFlag(undefined), 'auto');
  assert.equal(parseBackendFlag('tfjs-node-gpu'), 'tfjs-node-gpu');
  assert.throws(
    () => parseBackendFlag('gpu'),
    (e: unknown) => e instanceof CoreError && /--backend gpu: expected one of/.test(e.message),
  );
});
