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
  exclusiveClosure,
  flavourFromEnv,
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
  ]) {
    assert.ok(ASAR_UNPACK.includes(pattern), pattern);
  }
  assert.deepEqual(
    (config.extraResources as { from: string; to: string }[]).map(({ from, to }) => ({ from, to })),
    [RESOURCE_LAYOUT.mobilenet, RESOURCE_LAYOUT.clipartKp],
  );
});

test('flavours differ exactly in tfjs-node-gpu, and AIMKP_FLAVOUR picks one', () => {
  const files = (flavour: 'default' | 'gpu') => builderConfig(flavour).files as string[];
  const onlyDefault = files('default').filter((p) => !files('gpu').includes(p));
  // tfjs-node-gpu and whatever only it needs (nothing else where tfjs-node is installed: they share dependencies).
  assert.deepEqual(
    onlyDefault,
    exclusiveClosure(['@tensorflow/tfjs-node-gpu']).map((name) => `!**/node_modules/${name}/**`),
  );
  assert.ok(onlyDefault.includes('!**/node_modules/@tensorflow/tfjs-node-gpu/**'));
  assert.deepEqual(
    files('gpu').filter((p) => !files('default').includes(p)),
    [],
  );
  assert.equal(flavourFromEnv(undefined), 'default');
  assert.equal(flavourFromEnv('gpu'), 'gpu');
  assert.throws(() => flavourFromEnv('cuda'), /AIMKP_FLAVOUR=cuda/);
  assert.match(builderConfig('gpu').artifactName ?? '', /^aimkp-workbench-gpu-/);
  assert.ok(!/\s/.test(builderConfig('default').artifactName ?? ' '));
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
