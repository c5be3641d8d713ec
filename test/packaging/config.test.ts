/**
 * The electron-builder configuration, checked by electron-builder itself: app-builder-lib's validateConfiguration runs
 * the same JSON-schema check `electron-builder` runs before it builds anything. No Electron download is involved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Configuration } from 'electron-builder';
import {
  ASAR_UNPACK,
  builderConfig,
  dawnFilesFor,
  exclusiveClosure,
  flavourFromEnv,
  GPU_FLAVOUR_ONLY,
  NOT_LOADED_AT_RUN_TIME,
  PROJECT_DIR,
  RESOURCE_LAYOUT,
  seededElectronZip,
} from '../../build/electron-builder.config';

const require = createRequire(import.meta.url);
const appBuilderLib = require.resolve('app-builder-lib');
const { validateConfiguration, getConfig } = require(join(appBuilderLib, '..', 'util', 'config', 'config.js')) as {
  validateConfiguration(config: Configuration, logger: unknown): Promise<void>;
  getConfig(projectDir: string, configPath: string, fromOptions: null): Promise<Configuration>;
};
const { DebugLogger } = require(require.resolve('builder-util', { paths: [appBuilderLib] })) as {
  DebugLogger: new (enabled: boolean) => unknown;
};
const yaml = require(require.resolve('js-yaml', { paths: [appBuilderLib] })) as { load(text: string): unknown };
const pkg = require('../../package.json') as { version: string; devDependencies: Record<string, string> };

function validate(config: Configuration): Promise<void> {
  return validateConfiguration(structuredCloneConfig(config), new DebugLogger(false));
}

/** validateConfiguration may normalise fields in place; give it a copy (the hook function is kept by reference). */
function structuredCloneConfig(config: Configuration): Configuration {
  const { electronDist, ...rest } = config;
  return { ...(JSON.parse(JSON.stringify(rest)) as Configuration), electronDist };
}

test('both flavours pass electron-builder’s own schema validation', async () => {
  for (const flavour of ['default', 'gpu'] as const) {
    await validate(builderConfig(flavour));
  }
});

test('electron-builder’s own config loader reads both config files (as `npm run dist` / `dist:gpu` pass them)', async () => {
  const gpuExclusion = '!**/node_modules/@tensorflow/tfjs-node-gpu/**';
  const filesOf = (config: Configuration) => (config.files as { filter: string[] }[])[0].filter;
  const plain = await getConfig(PROJECT_DIR, 'build/electron-builder.config.ts', null);
  const gpu = await getConfig(PROJECT_DIR, 'build/electron-builder.gpu.config.ts', null);
  assert.equal(plain.directories?.output, 'release/default');
  assert.equal(gpu.directories?.output, 'release/gpu');
  assert.ok(filesOf(plain).includes(gpuExclusion));
  assert.ok(!filesOf(gpu).includes(gpuExclusion));
  assert.equal(typeof plain.electronDist, 'function');
});

test('the validator is live: a misspelt option and a wrong type are rejected, naming where', async () => {
  const base = builderConfig('default');
  await assert.rejects(
    validate({ ...base, linux: { ...base.linux, targett: 'deb' } as Configuration['linux'] }),
    /configuration\.linux\b/,
  );
  await assert.rejects(validate({ ...base, asar: 'yes' as unknown as boolean }), /configuration\.asar\b/);
  await assert.rejects(
    validate({ ...base, nsis: { ...base.nsis, oneClik: false } as Configuration['nsis'] }),
    /configuration\.nsis\b/,
  );
  await assert.rejects(validate({ ...base, extraResourses: [] } as Configuration), /extraResourses/);
});

test('targets, ids and the version come from the project, one target set per platform', () => {
  const config = builderConfig('default');
  assert.equal(config.appId, 'org.aimkp.workbench');
  assert.equal(config.productName, 'AimKP Workbench');
  assert.equal(config.electronVersion, pkg.devDependencies.electron.replace(/^[\^~]/, ''));
  assert.deepEqual(config.linux?.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win?.target, ['nsis']);
  assert.deepEqual(config.mac?.target, ['dmg']);
  // The version is not written into the config: electron-builder takes package.json's, so there is one source.
  assert.equal((config as { version?: string }).version, undefined);
  assert.equal(config.extraMetadata?.version, undefined);
});

test('native modules and wasm binaries are unpacked; weights and the data set are resources', () => {
  const config = builderConfig('default');
  assert.equal(config.asar, true);
  for (const pattern of [
    'node_modules/sharp/**',
    'node_modules/@img/**',
    'node_modules/@tensorflow/tfjs-node/**',
    'node_modules/@tensorflow/tfjs-node-gpu/**',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
    'node_modules/webgpu/dist/**',
  ]) {
    assert.ok(ASAR_UNPACK.includes(pattern), pattern);
  }
  assert.deepEqual(
    (config.extraResources as { from: string; to: string }[]).map(({ from, to }) => ({ from, to })),
    [RESOURCE_LAYOUT.mobilenet, RESOURCE_LAYOUT.clipartKp],
  );
});

test('flavours differ exactly in the GPU packages (tfjs-node-gpu, WebGPU), and AIMKP_FLAVOUR picks one', () => {
  const files = (flavour: 'default' | 'gpu') => builderConfig(flavour).files as string[];
  const onlyDefault = files('default').filter((p) => !files('gpu').includes(p));
  // The GPU packages and whatever only they need (nothing else of tfjs-node-gpu where tfjs-node is installed).
  assert.deepEqual(
    onlyDefault,
    exclusiveClosure(GPU_FLAVOUR_ONLY).map((name) => `!**/node_modules/${name}/**`),
  );
  for (const name of GPU_FLAVOUR_ONLY) assert.ok(onlyDefault.includes(`!**/node_modules/${name}/**`), name);
  assert.deepEqual(
    files('gpu').filter((p) => !files('default').includes(p)),
    [],
  );
  // Per platform, the GPU flavour adds only the dawn.node selection; the default flavour adds nothing.
  for (const platform of ['linux', 'win', 'mac'] as const) {
    assert.deepEqual(builderConfig('gpu')[platform]?.files, dawnFilesFor(platform), platform);
    assert.equal(builderConfig('default')[platform]?.files, undefined, platform);
  }
  assert.equal(flavourFromEnv(undefined), 'default');
  assert.equal(flavourFromEnv('gpu'), 'gpu');
  assert.throws(() => flavourFromEnv('cuda'), /AIMKP_FLAVOUR=cuda/);
  assert.match(builderConfig('gpu').artifactName ?? '', /^aimkp-workbench-gpu-/);
  assert.ok(!/\s/.test(builderConfig('default').artifactName ?? ' '));
});

/**
 * electron-builder's own node_modules filter (getNodeModuleFileMatcher, with its macro expansion of ${arch}) for one
 * flavour, platform and arch: which of `paths` it would pack.
 */
function packedNodeModules(
  flavour: 'default' | 'gpu',
  platform: 'linux' | 'win' | 'mac',
  arch: string,
  paths: string[],
): string[] {
  const lib = join(appBuilderLib, '..');
  const { getNodeModuleFileMatcher } = require(join(lib, 'fileMatcher.js')) as {
    getNodeModuleFileMatcher(
      appDir: string,
      destination: string,
      macroExpander: (pattern: string) => string,
      platformOptions: unknown,
      packager: unknown,
    ): { createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean };
  };
  const { expandMacro } = require(join(lib, 'util', 'macroExpander.js')) as {
    expandMacro(pattern: string, arch: string | null, appInfo: unknown, extra: Record<string, string>): string;
  };
  const config = builderConfig(flavour);
  const appDir = join(tmpdir(), 'app');
  const macro = (pattern: string) =>
    expandMacro(
      pattern,
      arch,
      { productName: 'AimKP Workbench', sanitizedProductName: 'AimKP Workbench' },
      { os: platform },
    );
  const filter = getNodeModuleFileMatcher(appDir, join(tmpdir(), 'out'), macro, config[platform] ?? {}, {
    config,
    debugLogger: { isEnabled: false },
  }).createFilter();
  return paths.filter((p) => filter(join(appDir, p), { isDirectory: () => false }));
}

test('the GPU flavour packs the WebGPU backend with dawn.node for its target only; the default flavour packs neither', () => {
  const dawn = (folder: string, file = 'dawn.node') => `node_modules/webgpu/dist/${folder}/${file}`;
  const paths = [
    dawn('linux-x64'),
    dawn('linux-arm64'),
    dawn('win32-x64'),
    dawn('win32-x64', 'dxcompiler.dll'),
    dawn('win32-arm64'),
    dawn('darwin-universal'),
    'node_modules/webgpu/index.js',
    'node_modules/webgpu/package.json',
    'node_modules/webgpu/build/postinstall.js',
    'node_modules/@tensorflow/tfjs-backend-webgpu/package.json',
    'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
    'node_modules/@tensorflow/tfjs-backend-webgpu/dist/index.js',
    'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js',
  ];
  const common = [
    'node_modules/webgpu/index.js',
    'node_modules/webgpu/package.json',
    'node_modules/@tensorflow/tfjs-backend-webgpu/package.json',
    'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
  ];
  const cases: [string, 'linux' | 'win' | 'mac', string, string[]][] = [
    ['linux x64', 'linux', 'x64', [dawn('linux-x64')]],
    ['linux arm64', 'linux', 'arm64', [dawn('linux-arm64')]],
    ['windows x64', 'win', 'x64', [dawn('win32-x64'), dawn('win32-x64', 'dxcompiler.dll')]],
    ['windows arm64', 'win', 'arm64', [dawn('win32-arm64')]],
    ['macOS arm64', 'mac', 'arm64', [dawn('darwin-universal')]],
    ['macOS universal', 'mac', 'universal', [dawn('darwin-universal')]],
  ];
  for (const [label, platform, arch, binaries] of cases) {
    assert.deepEqual(packedNodeModules('gpu', platform, arch, paths), [...binaries, ...common], label);
  }
  for (const platform of ['linux', 'win', 'mac'] as const)
    assert.deepEqual(packedNodeModules('default', platform, 'x64', paths), [], platform);
  // dawn.node (and Windows' DLLs beside it) are opened by the OS loader: outside the asar.
  assert.ok(ASAR_UNPACK.includes('node_modules/webgpu/dist/**'));
});

test('renderer-only and CLI-only packages leave the payload, shared dependencies stay', () => {
  const dropped = exclusiveClosure(NOT_LOADED_AT_RUN_TIME, PROJECT_DIR);
  for (const name of ['vue', '@vue/runtime-core', 'pinia', 'chart.js', 'tsx', 'esbuild', 'nsfwjs'])
    assert.ok(dropped.includes(name), name);
  // Run-time packages are never dropped, even where a renderer package also depends on them.
  for (const name of ['@tensorflow/tfjs', 'sharp', 'ws', 'zod']) assert.ok(!dropped.includes(name), name);
});

test('ELECTRON_CACHE with the release zip is used instead of a download; otherwise electron-builder downloads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-electron-cache-'));
  const saved = process.env.ELECTRON_CACHE;
  try {
    const stage = { platformName: 'linux', arch: 'x64', version: '45.5.0' };
    process.env.ELECTRON_CACHE = dir;
    assert.equal(seededElectronZip(stage), null);
    await writeFile(join(dir, 'electron-v45.5.0-linux-x64.zip'), 'zip');
    assert.equal(seededElectronZip(stage), join(dir, 'electron-v45.5.0-linux-x64.zip'));
    assert.equal(seededElectronZip({ ...stage, arch: 'arm64' }), null);
    delete process.env.ELECTRON_CACHE;
    assert.equal(seededElectronZip(stage), null);
  } finally {
    if (saved === undefined) delete process.env.ELECTRON_CACHE;
    else process.env.ELECTRON_CACHE = saved;
    await rm(dir, { recursive: true, force: true });
  }
});

test('the release workflow builds both flavours on each OS and uploads what the config writes', async () => {
  const { readFile } = await import('node:fs/promises');
  const workflow = yaml.load(await readFile(join(PROJECT_DIR, '.github', 'workflows', 'release.yml'), 'utf8')) as {
    on: { push: { tags: string[] } };
    jobs: Record<
      string,
      { strategy: { matrix: { os: string[] } }; steps: { run?: string; with?: { path?: string; files?: string } }[] }
    >;
  };
  assert.deepEqual(workflow.on.push.tags, ['v*']);
  const [job] = Object.values(workflow.jobs);
  assert.deepEqual(job.strategy.matrix.os, ['ubuntu-latest', 'windows-latest', 'macos-latest']);
  const runs = job.steps.map((s) => s.run).filter(Boolean);
  assert.deepEqual(runs, ['npm ci', 'npm run dist', 'npm run dist:gpu']);
  const scripts = (require('../../package.json') as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.dist, /electron-builder --config build\/electron-builder\.config\.ts/);
  assert.match(scripts['dist:gpu'], /electron-builder --config build\/electron-builder\.gpu\.config\.ts/);
  // Every uploaded glob sits in an output folder of a flavour, with an extension of a configured target.
  const globs = job.steps
    .flatMap((s) => (s.with?.path ?? s.with?.files ?? '').split('\n'))
    .map((g) => g.trim())
    .filter(Boolean);
  const outputs = [builderConfig('default'), builderConfig('gpu')].map((c) => c.directories?.output);
  assert.deepEqual(outputs, ['release/default', 'release/gpu']);
  assert.deepEqual([...new Set(globs)].sort(), [
    'release/*/*.AppImage',
    'release/*/*.deb',
    'release/*/*.dmg',
    'release/*/*.exe',
  ]);
});
