// The GPU check's self-contained folder (scripts/gpu-bundle.ts): built without Node (--no-node), its bundles run from
// a folder with no node_modules but the native files it carries — the wasm binaries and the native matmul addon are
// found beside them (the backend line says so), Dawn's binding and sharp load from its own node_modules, and the GPU
// check itself gets as far as asking for an adapter (none here: exit 3 with the one-line reason).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir = '';
let built: ReturnType<typeof spawnSync> | null = null;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'aimkp-gpu-bundle-'));
  built = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/gpu-bundle.ts', '--out', join(dir, 'b'), '--no-node'],
    { encoding: 'utf8' },
  );
  // What scripts/gpu-check-device.sh does first: the large native files travel xz-compressed.
  if (built.status === 0)
    for (const f of xzFiles(join(dir, 'b')))
      writeFileSync(f.slice(0, -3), execFileSync('xz', ['-dc', f], { maxBuffer: 2 ** 30 }));
});

function xzFiles(p: string): string[] {
  return statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => xzFiles(join(p, f))) : p.endsWith('.xz') ? [p] : [];
}
after(() => rmSync(dir, { recursive: true, force: true }));

const inBundle = (...args: string[]) =>
  spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, AIMKP_MOBILENET_DIR: '' } });

test('the bundle builds, with what the bundles load at run time beside them', () => {
  assert.equal(built?.status, 0, String(built?.stderr));
  const b = join(dir, 'b');
  for (const f of ['gpu-check.js', 'aimkp.js', 'bench-parallel.js', 'pool-worker.js', 'tfjs-backend-wasm-simd.wasm'])
    assert.ok(existsSync(join(b, f)), f);
  assert.ok(existsSync(join(b, 'node_modules/webgpu/dist/linux-x64/dawn.node.xz')), 'dawn.node, compressed');
  assert.ok(existsSync(join(b, 'node_modules/@img/sharp-linux-x64/package.json')), 'sharp');
  assert.ok(existsSync(join(b, 'mobilenet/model.min.js')), 'the encoder');
  assert.ok(!existsSync(join(b, 'node.xz')), '--no-node');
});

test('`aimkp bench --quick` runs from the bundle alone, native matmuls included', (t) => {
  if (built?.status !== 0) return t.skip('the bundle did not build');
  const out = join(dir, 'bench.json');
  const r = inBundle(join(dir, 'b', 'aimkp.js'), 'bench', '--quick', '--backend', 'wasm', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const bench = JSON.parse(readFileSync(out, 'utf8')) as { machine: { backend: string } };
  const addonBuilt = existsSync('native/build/native_gemm.node');
  assert.match(bench.machine.backend, addonBuilt ? /^backend: wasm \+ native matmul/ : /^backend: wasm /);
});

test('the GPU check starts from the bundle and says why there is no adapter here', (t) => {
  if (built?.status !== 0) return t.skip('the bundle did not build');
  const r = inBundle(join(dir, 'b', 'gpu-check.js'), '--backend', 'webgpu', '--out', join(dir, 'check.json'));
  assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  // 3: the backend could not start (no Vulkan loader or adapter: this machine); 0 / 1: a (software) adapter ran it.
  assert.ok([0, 1, 3].includes(r.status ?? -1), `exit ${r.status}: ${r.stderr}`);
  if (r.status === 3) assert.match(r.stderr, /^gpu-check: no TensorFlow\.js backend could be initialised \(webgpu: /m);
});
