/**
 * The app payload exactly as electron-builder packs it (`npm run dist:payload`: electron-builder's own `dir` target
 * with a stand-in for the Electron binary, see scripts/dist-payload.ts), checked twice:
 * 1. its files against the expected set — the bundles and renderer as built, the production dependency closure minus
 *    what the app never loads, native code and wasm unpacked, the weights and the data set as resources byte for
 *    byte — and against the size budget;
 * 2. booted in plain Node from a copy under /tmp inside a network namespace with no network and a mount namespace in
 *    which the source tree is hidden (an empty folder bind-mounted over it): the packed server and worker train a
 *    tiny run on the bundled data set (images encoded with the packed weights) and predict a test case. Needs root
 *    and `unshare` (util-linux) + `ip` (iproute2); skipped with the reason otherwise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import {
  ASAR_UNPACK,
  BUDGET_EXEMPT,
  GPU_FLAVOUR_ONLY,
  NOT_LOADED_AT_RUN_TIME,
  OPTIONAL_NATIVE_NOT_SHIPPED,
  PAYLOAD_BUDGET_BYTES,
  PROJECT_DIR,
  RESOURCE_LAYOUT,
} from '../../build/electron-builder.config';
import { buildPayload, extractForNode, type PayloadManifest } from '../../scripts/dist-payload';

const require = createRequire(import.meta.url);
const { minimatch } = require(require.resolve('minimatch', { paths: [require.resolve('app-builder-lib')] })) as {
  minimatch(path: string, pattern: string, options?: { dot?: boolean }): boolean;
};

let workDir = '';
let resourcesDir = '';
let manifest: PayloadManifest;

before(async () => {
  // The payload is built from the current sources: bundles and renderer first, as `npm run dist:payload` does.
  const build = spawnSync('npm', ['run', 'build'], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);
  workDir = await mkdtemp(join(tmpdir(), 'aimkp-payload-'));
  manifest = await buildPayload('default', join(workDir, 'payload'));
  resourcesDir = join(workDir, 'payload', 'resources');
});

after(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

const posix = (p: string): string => p.split(sep).join('/');

/** name → installed folder for a dependency seen from `fromDir`, by Node's lookup (own node_modules, then parents). */
function resolvePackageDir(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === PROJECT_DIR || dirname(dir) === dir) return null;
  }
}

/** Installed package folders (relative to the project) reachable from `roots` through dependencies and optional ones. */
function dependencyFolders(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = roots.map((name) => ({ name, from: PROJECT_DIR }));
  while (queue.length > 0) {
    const { name, from } = queue.pop() as { name: string; from: string };
    // Optional native speed-ups the installers leave out on purpose (their package falls back to plain JS).
    if ((OPTIONAL_NATIVE_NOT_SHIPPED as readonly string[]).includes(name)) continue;
    const dir = resolvePackageDir(name, from);
    if (dir === null || seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: object;
      optionalDependencies?: object;
    };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }))
      queue.push({ name: dep, from: dir });
  }
  return new Set([...seen].map((dir) => posix(relative(PROJECT_DIR, dir))));
}

test('payload files: bundles, renderer, the run-time dependency closure, unpacked natives, resources; within budget', async (t) => {
  const inAsar = (prefix: string) => manifest.files.filter((f) => f.path.startsWith(`app.asar/${prefix}`));
  const asarPaths = manifest.files.filter((f) => f.place !== 'resources').map((f) => f.path.slice('app.asar/'.length));

  // Top level of the archive: exactly package.json, the bundles, the renderer and node_modules.
  const tops = new Set(asarPaths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/') + 1) : p)));
  assert.deepEqual([...tops].sort(), ['dist-electron/', 'dist/', 'node_modules/', 'package.json']);

  // Bundles and renderer: every built file except source maps, nothing else.
  for (const folder of ['dist-electron', join('dist', 'renderer')]) {
    const built = filesUnder(join(PROJECT_DIR, folder))
      .map((f) => posix(relative(PROJECT_DIR, f)))
      .filter((f) => !f.endsWith('.map'));
    assert.deepEqual(
      inAsar(`${posix(folder)}/`)
        .map((f) => f.path.slice('app.asar/'.length))
        .sort(),
      built.sort(),
      folder,
    );
  }
  for (const bundle of ['main.js', 'server.js', 'worker.js', 'pool-worker.js'])
    assert.ok(inAsar(`dist-electron/${bundle}`).length === 1, bundle);
  assert.ok(inAsar('dist-electron/preload').length === 1, 'one preload bundle');
  assert.ok(inAsar('dist/renderer/index.html').length === 1);

  // node_modules: the production closure minus what the app never loads (and minus the GPU packages in this flavour).
  const prod = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as {
    dependencies: object;
    optionalDependencies?: object;
  };
  const loaded = Object.keys({ ...prod.dependencies, ...prod.optionalDependencies }).filter(
    (name) =>
      !(NOT_LOADED_AT_RUN_TIME as readonly string[]).includes(name) &&
      !(GPU_FLAVOUR_ONLY as readonly string[]).includes(name),
  );
  // @types/* are type declarations that tfjs lists as dependencies: never loaded, never shipped.
  const expected = new Set([...dependencyFolders(loaded)].filter((p) => !/(^|\/)node_modules\/@types\//.test(p)));
  const packed = new Set(
    asarPaths
      .filter((p) => p.endsWith('/package.json') && /^(node_modules\/(@[^/]+\/)?[^/]+\/)+package\.json$/.test(p))
      .map((p) => p.slice(0, -'/package.json'.length)),
  );
  assert.deepEqual([...packed].filter((p) => !expected.has(p)).sort(), [], 'packed but not a run-time dependency');
  assert.deepEqual([...expected].filter((p) => !packed.has(p)).sort(), [], 'run-time dependency missing');
  for (const name of [
    'vue',
    'pinia',
    'chart.js',
    'tsx',
    'nsfwjs',
    'electron',
    'electron-builder',
    'vite',
    'typescript',
    'esbuild',
  ]) {
    assert.ok(!packed.has(`node_modules/${name}`), `${name} must not be packed`);
  }

  // No development files anywhere in the archive.
  const devFile = asarPaths.filter(
    (p) =>
      /\.(map|d\.ts|md|tsbuildinfo)$/i.test(p) ||
      /(^|\/)(test|tests|__tests__)\//.test(p) ||
      /^(?!node_modules\/).*\.ts$/.test(p),
  );
  assert.deepEqual(devFile, []);

  // Unpacked: exactly the natives and wasm named by asarUnpack, and the ones the app needs are there.
  const unpacked = manifest.files.filter((f) => f.place === 'unpacked').map((f) => f.path.slice('app.asar/'.length));
  for (const p of unpacked)
    assert.ok(
      ASAR_UNPACK.some((pattern) => minimatch(p, pattern, { dot: true })),
      `unpacked ${p}`,
    );
  const packedOnly = asarPaths.filter((p) => !unpacked.includes(p));
  for (const p of packedOnly)
    assert.ok(!ASAR_UNPACK.some((pattern) => minimatch(p, pattern, { dot: true })), `should be unpacked: ${p}`);
  for (const wasm of [
    'tfjs-backend-wasm.wasm',
    'tfjs-backend-wasm-simd.wasm',
    'tfjs-backend-wasm-threaded-simd.wasm',
  ]) {
    assert.ok(unpacked.includes(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${wasm}`), wasm);
  }
  assert.ok(
    unpacked.some((p) => /^node_modules\/@img\/sharp-[^/]+\/lib\/sharp-[^/]+\.node$/.test(p)),
    'sharp binding',
  );
  assert.ok(
    unpacked.some((p) => /^node_modules\/@img\/sharp-libvips-[^/]+\/lib\/libvips-cpp\./.test(p)),
    'libvips',
  );
  // Unpacked files are real files beside the archive, with the sizes the archive header records.
  for (const f of manifest.files.filter((x) => x.place === 'unpacked')) {
    assert.equal(
      statSync(join(resourcesDir, f.path.replace(/^app\.asar\//, 'app.asar.unpacked/'))).size,
      f.size,
      f.path,
    );
  }

  // Resources: the encoder weights and the data set, file for file and byte count for byte count.
  const hidden = (rel: string) => rel.split('/').some((part) => part.startsWith('.'));
  for (const { from, to } of [RESOURCE_LAYOUT.mobilenet, RESOURCE_LAYOUT.clipartKp]) {
    const source = filesUnder(join(PROJECT_DIR, from))
      .filter((f) => !hidden(posix(relative(join(PROJECT_DIR, from), f))))
      .map((f) => `${posix(relative(join(PROJECT_DIR, from), f))}:${statSync(f).size}`)
      .sort();
    const shipped = manifest.files
      .filter((f) => f.place === 'resources' && f.path.startsWith(`${to}/`))
      .map((f) => `${f.path.slice(to.length + 1)}:${f.size}`)
      .sort();
    assert.deepEqual(shipped, source, to);
  }
  assert.deepEqual(
    manifest.files.filter(
      (f) => f.place === 'resources' && !f.path.startsWith('models/') && !f.path.startsWith('data/'),
    ),
    [],
  );
  // Every image the bundled data set's manifest names is shipped.
  const shippedPaths = new Set(manifest.files.map((f) => f.path));
  const manifestLines = readFileSync(join(PROJECT_DIR, RESOURCE_LAYOUT.clipartKp.from, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const images = manifestLines
    .map((l) => (JSON.parse(l) as { image: string | null }).image)
    .filter((img): img is string => img !== null);
  assert.ok(images.length > 3000);
  assert.deepEqual(
    images.filter((img) => !shippedPaths.has(`${RESOURCE_LAYOUT.clipartKp.to}/${img}`)),
    [],
  );

  // Size budget (printed by `npm run dist:payload` too).
  const budgeted = manifest.files.filter((f) => !BUDGET_EXEMPT.test(f.path)).reduce((sum, f) => sum + f.size, 0);
  assert.equal(manifest.budgetedBytes, budgeted);
  assert.ok(
    budgeted <= PAYLOAD_BUDGET_BYTES,
    `payload ${(budgeted / 2 ** 20).toFixed(1)} MiB > budget ${PAYLOAD_BUDGET_BYTES / 2 ** 20} MiB`,
  );
  t.diagnostic(
    `payload: ${manifest.files.length} files, ${(manifest.totalBytes / 2 ** 20).toFixed(1)} MiB (budget counts ${(budgeted / 2 ** 20).toFixed(1)} of ${PAYLOAD_BUDGET_BYTES / 2 ** 20} MiB)`,
  );
});

test('the GPU flavour: electron-builder packs the WebGPU backend with this platform’s dawn.node only, unpacked', async (t) => {
  const gpu = await buildPayload('gpu', join(workDir, 'payload-gpu'));
  const under = (prefix: string) => gpu.files.filter((f) => f.path.startsWith(`app.asar/node_modules/${prefix}`));
  // Of the five dawn.node folders in the npm package, exactly the one for this build's platform (linux-<arch> here).
  const folder = `linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
  const binaries = under('webgpu/dist/').map(
    (f) => `${f.place} ${f.path.slice('app.asar/node_modules/webgpu/dist/'.length)}`,
  );
  assert.deepEqual(binaries, [`unpacked ${folder}/dawn.node`]);
  assert.deepEqual(under('webgpu/build/'), [], 'the install scripts stay out');
  assert.ok(under('webgpu/index.js').length === 1);
  // tfjs-backend-webgpu: the Node bundle only, like the other TensorFlow.js packages.
  assert.deepEqual(
    under('@tensorflow/tfjs-backend-webgpu/')
      .map((f) => f.path.slice('app.asar/node_modules/@tensorflow/tfjs-backend-webgpu/'.length))
      .sort(),
    ['dist/tf-backend-webgpu.node.js', 'package.json'],
  );
  // The default flavour (built in before()) carries neither.
  assert.deepEqual(
    manifest.files.filter((f) => /^app\.asar\/node_modules\/(webgpu|@tensorflow\/tfjs-backend-webgpu)\//.test(f.path)),
    [],
  );
  const dawn = gpu.files.find((f) => f.path.endsWith('/dawn.node'));
  t.diagnostic(
    `GPU flavour payload: ${(gpu.totalBytes / 2 ** 20).toFixed(1)} MiB (dawn.node ${((dawn?.size ?? 0) / 2 ** 20).toFixed(1)} MiB), default ${(manifest.totalBytes / 2 ** 20).toFixed(1)} MiB`,
  );
});

/** Why the offline boot cannot run here, or null. */
function offlineSandboxUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for unshare --net --mount';
  const probe = spawnSync('unshare', ['--net', '--mount', '--', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.error) return `unshare unavailable (${probe.error.message})`;
  if (probe.status !== 0)
    return `unshare --net --mount / ip failed here: ${(probe.stderr || '').trim().split('\n')[0]}`;
  return null;
}

interface DriverResult {
  steps: string[];
  network: string;
  backend?: { name?: string; picked?: string; description?: string };
  datasets?: { id: string; kind: string }[];
  run?: { id: string; status: string; step: number; totalSteps: number; error: unknown };
  prediction?: {
    itemId: string;
    gold: string[] | null;
    results: { runId: string; keyphrases: string[]; error: unknown }[];
  };
  error?: string;
  serverLog?: string;
}

/** Boots the payload (see the file header) in run/ and returns the driver's result and the run's start event. */
async function bootOffline(
  run: string,
): Promise<{ result: DriverResult; runStart: { backend?: { description?: string } } }> {
  await mkdir(join(run, 'workspace'), { recursive: true });
  await mkdir(join(run, 'hidden'), { recursive: true });
  await cp(join(PROJECT_DIR, 'test', 'fixtures', 'payload-driver.mjs'), join(run, 'driver.mjs'));
  const overrides = {
    epochs: 1,
    maxTrain: 12,
    maxValid: 4,
    batchSize: 4,
    samplesPerCall: 4,
    model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
  };
  // Inside: hide the source tree, bring up loopback (the only interface), run the driver from the copy.
  const script = `mount --bind "$HIDE_WITH" "$SOURCE_TREE" && ip link set lo up && exec node driver.mjs resources "$PWD/workspace"`;
  const child = spawn('unshare', ['--net', '--mount', '--', 'sh', '-c', script], {
    cwd: run,
    env: {
      PATH: process.env.PATH,
      HOME: run,
      HIDE_WITH: join(run, 'hidden'),
      SOURCE_TREE: PROJECT_DIR,
      PAYLOAD_TRAIN_OVERRIDES: JSON.stringify(overrides),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `driver printed no result (exit ${code}):\n${stderr.slice(-4000)}`);
  const result = JSON.parse(line.slice('RESULT '.length)) as DriverResult;
  assert.equal(result.error, undefined, `${result.error}\n--- driver log:\n${stderr.slice(-6000)}`);
  assert.equal(code, 0);

  assert.match(result.network, /^unreachable/, 'the namespace has no network');
  assert.ok(
    result.datasets?.some((d) => d.id === 'clipart-kp' && d.kind === 'bundled'),
    'bundled ClipArt-KP found in resources/',
  );
  assert.equal(result.run?.status, 'completed');
  assert.ok((result.run?.totalSteps ?? 0) > 0 && result.run?.step === result.run?.totalSteps);
  const prediction = result.prediction?.results[0];
  assert.equal(prediction?.error, null);
  assert.ok(Array.isArray(prediction?.keyphrases));
  assert.ok((result.prediction?.gold ?? []).length > 0, 'gold keyphrases of the bundled test item');

  // The worker wrote the run into the workspace (not the source tree), with the packed encoder's features cached.
  const runDir = join(run, 'workspace', 'runs', result.run?.id ?? '');
  assert.ok(existsSync(join(runDir, 'events.jsonl')), 'events.jsonl in the workspace run folder');
  const config = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as { encoder?: string };
  assert.match(String(config.encoder), /mobilenet/);
  const cacheFiles = existsSync(join(run, 'workspace', 'cache'))
    ? await readdir(join(run, 'workspace', 'cache'), { recursive: true })
    : [];
  assert.ok(cacheFiles.length > 0, 'image features cached in the workspace');
  assert.ok((await stat(join(run, 'resources', 'app.asar', 'dist-electron', 'server.js'))).isFile());
  const events = (await readFile(join(runDir, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const runStart = events.map((l) => JSON.parse(l) as { type?: string }).find((e) => e.type === 'run-start');
  assert.ok(runStart, 'a run-start event');
  return { result, runStart: runStart as { backend?: { description?: string } } };
}

const ADDON_IN_PAYLOAD = 'app.asar/dist-electron/native/native_gemm.node';

test('the payload boots offline from /tmp with the source tree hidden: tiny training on the bundled set, one prediction', async (t) => {
  const why = offlineSandboxUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const run = join(workDir, 'run');
  await extractForNode(resourcesDir, join(run, 'resources'));
  const { result, runStart } = await bootOffline(run);
  // The native matmul addon, when this build machine built it, is unpacked and used by the server and the worker.
  const addonBuilt = existsSync(join(PROJECT_DIR, 'native', 'build', 'native_gemm.node'));
  assert.equal(manifest.files.find((f) => f.path === ADDON_IN_PAYLOAD)?.place, addonBuilt ? 'unpacked' : undefined);
  const native = /^backend: wasm \+ native matmul \(/;
  for (const description of [result.backend?.description, runStart.backend?.description])
    assert.match(String(description), addonBuilt ? native : /^backend: wasm \(/);
  t.diagnostic(`packed backend: ${result.backend?.description}`);
});

test('the payload without the native matmul addon still boots and trains, on wasm matmuls (said so)', async (t) => {
  const why = offlineSandboxUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const run = join(workDir, 'run-no-addon');
  await extractForNode(resourcesDir, join(run, 'resources'));
  await rm(join(run, 'resources', ADDON_IN_PAYLOAD), { force: true });
  await rm(join(run, 'resources', ADDON_IN_PAYLOAD.replace(/^app\.asar\//, 'app.asar.unpacked/')), { force: true });
  const { result, runStart } = await bootOffline(run);
  for (const description of [result.backend?.description, runStart.backend?.description]) {
    assert.match(String(description), /^backend: wasm \(SIMD/);
    assert.match(String(description), /native matmul: not built/);
  }
});
