import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, parseBackendFlag, resolveBackendRequest } from '../../models/tf/backend';
import { probeWebGpuAdapter } from '../../models/tf/webgpu-adapter';
import { CoreError } from '../../models/core-error';

test('auto picks wasm here and says why each backend before it is unavailable', async (t) => {
  // What the WebGPU probe finds on this machine decides the expected webgpu entry (a GPU machine picks webgpu).
  const probe = await probeWebGpuAdapter();
  if (probe.ok && !probe.adapter.description.software) {
    t.skip(`a hardware WebGPU adapter is present, auto picks webgpu (test/tf/backend-webgpu.test.ts)`);
    return;
  }
  const saved = process.env.AIMKP_BACKEND;
  delete process.env.AIMKP_BACKEND;
  try {
    const info = await initBackend('auto');
    assert.equal(info.picked, 'wasm');
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(
      info.tried.map((t) => [t.name, t.ok]),
      [
        ['tfjs-node-gpu', false],
        ['webgpu', false],
        ['tfjs-node', false],
        ['wasm', true],
      ],
    );
    assert.equal(info.tried[0].reason, 'not installed');
    if (probe.ok) assert.match(info.tried[1].reason ?? '', /^only a software adapter/);
    else assert.equal(info.tried[1].reason, probe.reason);
    assert.equal(info.tried[2].reason, 'not installed');
    assert.equal(typeof info.simd, 'boolean');
    assert.ok((info.threads ?? 0) >= 1);
    const line = describeBackend(info);
    // "wasm + native matmul (AVX2)" with the addon built; plain "wasm" and the reason among the notes without it.
    const native = info.nativeMatmul;
    assert.ok(native !== undefined);
    assert.match(
      line,
      native.enabled
        ? /^backend: wasm \+ native matmul \((AVX-512|AVX2|scalar|BLAS [^)]+)\) \(SIMD/
        : /^backend: wasm \(SIMD/,
    );
    assert.match(line, /\(SIMD (on|off), \d+ threads?\) — /);
    const notes = `tfjs-node-gpu: not installed; webgpu: ${info.tried[1].reason}; tfjs-node: not installed`;
    assert.ok(line.endsWith(native.enabled ? notes : `${notes}; native matmul: ${native.reason}`), line);
    assert.ok(!line.includes('\n'));
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
  assert.equal(resolveBackendRequest(undefined, 'webgpu'), 'webgpu');
  assert.throws(
    () => resolveBackendRequest(undefined, 'vulkan'),
    /AIMKP_BACKEND=vulkan: expected one of auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/,
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

test('parseBackendFlag accepts the six choices and names the flag otherwise', () => {
  assert.equal(parseBackendFlag(undefined), 'auto');
  assert.equal(parseBackendFlag('tfjs-node-gpu'), 'tfjs-node-gpu');
  assert.equal(parseBackendFlag('webgpu'), 'webgpu');
  assert.throws(
    () => parseBackendFlag('gpu'),
    (e: unknown) => e instanceof CoreError && /--backend gpu: expected one of/.test(e.message),
  );
});
