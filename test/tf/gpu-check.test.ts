// scripts/gpu-check.sh, run as a person runs it. Without a GPU: exit 2 and one line naming why. With the software
// adapter (Dawn's OpenGL ES backend on Mesa llvmpipe): the whole check end to end, summary JSON included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeWebGpuAdapter } from '../../models/tf/webgpu-adapter';

const PROJECT = new URL('../..', import.meta.url).pathname;

function runCheck(env: NodeJS.ProcessEnv, out: string) {
  const clean = { ...process.env, ...env };
  delete clean.AIMKP_BACKEND;
  if (env.AIMKP_DAWN_FLAGS === undefined) delete clean.AIMKP_DAWN_FLAGS;
  return spawnSync('bash', [join(PROJECT, 'scripts', 'gpu-check.sh'), out], {
    cwd: tmpdir(),
    env: clean,
    encoding: 'utf8',
    timeout: 600_000,
  });
}

test('no adapter: exit 2, one line on stderr naming the reason, nothing on stdout, no summary', async (t) => {
  const probe = await probeWebGpuAdapter({ ...process.env, AIMKP_DAWN_FLAGS: '' });
  if (probe.ok) return t.skip('this machine has a WebGPU adapter');
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-gpu-check-'));
  try {
    const out = join(dir, 'summary.json');
    const run = runCheck({}, out);
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '');
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !/^(Warning: | - |\s+at )/.test(l));
    assert.deepEqual(lines, [`gpu-check: no TensorFlow.js backend could be initialised (webgpu: ${probe.reason})`]);
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with an adapter (here the software one): self-test, gradient check, bench and one JSON summary', async (t) => {
  const flags = (await probeWebGpuAdapter({ ...process.env, AIMKP_DAWN_FLAGS: '' })).ok ? '' : 'backend=opengles';
  const probe = await probeWebGpuAdapter({ ...process.env, AIMKP_DAWN_FLAGS: flags });
  if (!probe.ok) return t.skip(`no WebGPU adapter, not even the software one: ${probe.reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-gpu-check-'));
  try {
    const out = join(dir, 'summary.json');
    const started = performance.now();
    const run = runCheck({ AIMKP_DAWN_FLAGS: flags }, out);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(run.status, 0, run.stderr.slice(-3000));
    const summary = JSON.parse(readFileSync(out, 'utf8')) as {
      ok: boolean;
      dawnFlags: string | null;
      webgpu: {
        ok: boolean;
        check: { selfTest: { ok: boolean; cases: unknown[] }; gradientCheck: { ok: boolean }; adapter: unknown };
        bench: { backend: string; msPerSample: { baseline: number; aimkpMasked: number } };
      };
      tfjsNodeGpu: { skipped?: string; ok?: boolean };
      vulkaninfo: string[];
    };
    assert.equal(summary.ok, true);
    assert.equal(summary.webgpu.ok, true);
    assert.equal(summary.webgpu.check.selfTest.ok, true);
    assert.ok(summary.webgpu.check.selfTest.cases.length >= 10);
    assert.equal(summary.webgpu.check.gradientCheck.ok, true);
    assert.deepEqual(summary.webgpu.check.adapter, probe.adapter.description);
    assert.match(summary.webgpu.bench.backend, /^backend: webgpu \(/);
    assert.ok(summary.webgpu.bench.msPerSample.baseline > 0 && summary.webgpu.bench.msPerSample.aimkpMasked > 0);
    assert.ok(summary.tfjsNodeGpu.skipped === 'not installed' || typeof summary.tfjsNodeGpu.ok === 'boolean');
    assert.ok(summary.vulkaninfo.length > 0);
    assert.match(run.stderr, /gpu-check: webgpu: .*self-test ok, gradient check vs wasm ok/);
    assert.match(run.stderr, /gpu-check: ok — summary in /);
    t.diagnostic(`gpu-check.sh took ${seconds.toFixed(0)} s (${flags || 'hardware adapter'})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
