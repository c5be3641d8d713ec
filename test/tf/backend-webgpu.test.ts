// The WebGPU backend for real. Without a GPU (this build machine) the adapter is Dawn's OpenGL ES backend on Mesa's
// llvmpipe, a software GPU (AIMKP_DAWN_FLAGS=backend=opengles; slow but a complete WebGPU implementation); tests that
// need an adapter skip with the reason when neither exists. On a GPU machine the real adapter is used instead.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, switchBackend, type BackendInfo } from '../../models/tf/backend';
import { runBackendSelfTest } from '../../models/tf/backend-self-test';
import { adapterLabel, probeWebGpuAdapter, type WebGpuProbeResult } from '../../models/tf/webgpu-adapter';
import { WEBGPU_FALLBACK_KERNELS } from '../../models/tf/webgpu-fallback-kernels';
import { compareSnapshots, GRADIENT_TOLERANCE, stepSnapshot } from '../../scripts/gpu-check';

const PROJECT = new URL('../..', import.meta.url).pathname;

/** The machine's adapter with Dawn's default options (what `auto` and `--backend webgpu` see). */
let hardware: WebGpuProbeResult;
/** The adapter the tests run on: the hardware one, else the software one; null with the reason otherwise. */
let found: WebGpuProbeResult;
let info: BackendInfo | null = null;
let skipReason = '';

before(async () => {
  hardware = await probeWebGpuAdapter();
  found = hardware.ok ? hardware : await probeWebGpuAdapter({ ...process.env, AIMKP_DAWN_FLAGS: 'backend=opengles' });
  if (!found.ok) {
    skipReason =
      `no WebGPU adapter: ${hardware.ok ? '' : hardware.reason}; ` +
      `software (Dawn's OpenGL ES backend on Mesa llvmpipe): ${found.reason}`;
    return;
  }
  const adapter = found;
  info = await initBackend('webgpu', { webgpuProbe: async () => adapter });
});

test('with Dawn’s default options and no GPU, `--backend webgpu` stops with one line naming the reason', (t) => {
  if (hardware.ok) {
    t.skip(`a hardware adapter is present (${adapterLabel(hardware.adapter.description)})`);
    return;
  }
  const env = { ...process.env };
  delete env.AIMKP_DAWN_FLAGS;
  delete env.AIMKP_BACKEND;
  const run = spawnSync(process.execPath, ['bin/aimkp.mjs', 'bench', '--quick', '--backend', 'webgpu'], {
    cwd: PROJECT,
    env,
    encoding: 'utf8',
  });
  assert.notEqual(run.status, 0);
  assert.equal(run.stdout, '');
  // Dawn's own native warnings (where a Vulkan loader exists) are not ours; everything else is the one line.
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !/^(Warning: | - |\s+at )/.test(l));
  assert.deepEqual(lines, [
    `aimkp: no TensorFlow.js backend could be initialised (webgpu: ${hardware.reason}) — ` +
      'use --backend auto (or unset AIMKP_BACKEND) to fall back to wasm/cpu',
  ]);
  assert.match(hardware.reason, /^(no adapter \(|not installed$|no Dawn binary)/);
});

test('--backend webgpu starts on the adapter and names it in the backend line', (t) => {
  if (!info || !found.ok) return t.skip(skipReason);
  assert.equal(info.picked, 'webgpu');
  assert.equal(info.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.deepEqual(info.adapter, found.adapter.description);
  assert.equal(describeBackend(info), `backend: webgpu (${adapterLabel(found.adapter.description)})`);
  t.diagnostic(describeBackend(info));
});

test('dataSync works in Node (no OffscreenCanvas) and agrees with the async read', async (t) => {
  if (!info) return t.skip(skipReason);
  const a = tf.tensor2d(
    Array.from({ length: 40 * 30 }, (_, i) => Math.sin(i)),
    [40, 30],
  );
  const p = tf.matMul(a, a, false, true);
  const viaAsync = (await tf.matMul(a, a, false, true).data()) as Float32Array;
  const viaSync = p.dataSync() as Float32Array;
  assert.equal(viaSync.length, 40 * 40);
  assert.deepEqual(Array.from(viaSync), Array.from(viaAsync));
  // int32 and bool round-trip too.
  assert.deepEqual(
    Array.from(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([10, 20, 30], 'int32')).dataSync()),
    [11, 22, 33],
  );
  assert.deepEqual(Array.from(tf.greater(tf.tensor1d([1, 5]), tf.tensor1d([3, 3])).dataSync()), [0, 1]);
  tf.dispose([a, p]);
});

test('the kernels webgpu lacks run through the cpu bridge with the cpu backend’s results, leaking nothing', async (t) => {
  if (!info) return t.skip(skipReason);
  for (const name of WEBGPU_FALLBACK_KERNELS) assert.ok(tf.getKernel(name, 'webgpu'), `${name} registered for webgpu`);
  const run = (): number[][] =>
    tf.tidy(() => {
      const u = tf.unique(tf.tensor1d([3, 1, 3, 2, 1, 7], 'int32'));
      const and = tf.bitwiseAnd(tf.tensor1d([12, 10, 7], 'int32'), tf.tensor1d([10, 6, 5], 'int32'));
      const hash = tf.string.stringToHashBucketFast(tf.tensor1d(['cat', 'dog', 'cat']), 16);
      return [u.values, u.indices, and, hash].map((x) => Array.from(x.dataSync() as Int32Array));
    });
  const before = tf.memory().numTensors;
  const onWebgpu = run();
  assert.equal(tf.memory().numTensors, before);
  await switchBackend('cpu');
  const onCpu = run();
  assert.equal(await switchBackend('webgpu'), null);
  assert.deepEqual(onWebgpu, onCpu);
  assert.deepEqual(onWebgpu.slice(0, 3), [
    [3, 1, 2, 7],
    [0, 1, 0, 2, 1, 3],
    [8, 2, 5],
  ]);
});

test('backend self-test: the model’s ops on webgpu equal the cpu backend’s within 1e-4 relative', async (t) => {
  if (!info) return t.skip(skipReason);
  const report = await runBackendSelfTest('webgpu');
  const bad = report.cases.filter((c) => !c.ok).map((c) => `${c.op}: ${c.relDiff} ${c.error ?? ''}`);
  assert.deepEqual(bad, []);
  assert.equal(tf.getBackend(), 'webgpu');
  t.diagnostic(`worst rel. diff ${Math.max(...report.cases.map((c) => c.relDiff)).toExponential(2)}`);
});

test('gradient check: a baseline and an AimKP training step on webgpu equal the same steps on wasm', async (t) => {
  if (!info) return t.skip(skipReason);
  assert.equal(await switchBackend('wasm'), null);
  const reference = stepSnapshot();
  assert.equal(await switchBackend('webgpu'), null);
  const numTensors = tf.memory().numTensors;
  const got = stepSnapshot();
  assert.equal(tf.memory().numTensors, numTensors, 'the step leaves no tensors behind');
  const comparisons = compareSnapshots(got, reference);
  assert.deepEqual(
    comparisons.filter((c) => !c.ok),
    [],
  );
  // The check is not vacuous: gradients are nonzero and the AimKP filter ran on masked rows.
  assert.ok(reference.baselineGrad.some((g) => Math.abs(g) > 1e-6));
  assert.ok(reference.filterCosines.some((c) => c !== null));
  t.diagnostic(
    comparisons.map((c) => `${c.what} ${c.value.toExponential(2)} (limit ${c.limit})`).join('; ') +
      `; tolerance ${JSON.stringify(GRADIENT_TOLERANCE)}`,
  );
});
