/**
 * The installed app's resources: the packed layout is found from a bundle's location (or Electron's resourcesPath),
 * the core is pointed at it through its environment variables, and the encoder weights load from a copy outside the
 * nsfwjs package with the same content hash as from the package itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  PACKED_RESOURCE_PATHS,
  bundledDataDir,
  packedResourcesDir,
  usePackedResources,
} from '../../electron/packaged-resources';
import { BUNDLED_DATA_DIR_ENV, MOBILENET_DIR_ENV } from '../../models/resource-env';
import { decodeBundledMobilenet, mobilenetFolder } from '../../models/vision/mobilenet-v2';
import { RESOURCE_LAYOUT } from '../../build/electron-builder.config';
import { CoreError } from '../../models/core-error';

async function packedLayout(): Promise<{ root: string; resources: string; bundleUrl: string }> {
  const root = await mkdtemp(join(tmpdir(), 'aimkp-resources-'));
  const resources = join(root, 'resources');
  await mkdir(join(resources, 'app.asar', 'dist-electron'), { recursive: true });
  await mkdir(join(resources, PACKED_RESOURCE_PATHS.mobilenet), { recursive: true });
  await writeFile(join(resources, PACKED_RESOURCE_PATHS.mobilenet, 'model.min.js'), 'module.exports = {}\n');
  const bundle = join(resources, 'app.asar', 'dist-electron', 'server.js');
  await writeFile(bundle, '');
  return { root, resources, bundleUrl: pathToFileURL(bundle).href };
}

test('the installer config copies resources to the paths the app looks in', () => {
  assert.equal(RESOURCE_LAYOUT.mobilenet.to, PACKED_RESOURCE_PATHS.mobilenet);
  assert.equal(RESOURCE_LAYOUT.clipartKp.to, PACKED_RESOURCE_PATHS.clipartKp);
});

test('packed resources are found beside app.asar, or at Electron’s resourcesPath; not from the source tree', async () => {
  const { root, resources, bundleUrl } = await packedLayout();
  try {
    assert.equal(packedResourcesDir(bundleUrl, undefined), resources);
    assert.equal(packedResourcesDir(pathToFileURL(join(root, 'elsewhere', 'x', 'main.js')).href, resources), resources);
    assert.equal(packedResourcesDir(pathToFileURL(join(root, 'elsewhere', 'x', 'main.js')).href, undefined), null);
    // This test file's own location is the source tree: no packed layout two folders up.
    assert.equal(packedResourcesDir(import.meta.url, undefined), null);

    const env: NodeJS.ProcessEnv = {};
    assert.equal(usePackedResources(bundleUrl, env), resources);
    assert.equal(env[MOBILENET_DIR_ENV], join(resources, PACKED_RESOURCE_PATHS.mobilenet));
    assert.equal(env[BUNDLED_DATA_DIR_ENV], join(resources, PACKED_RESOURCE_PATHS.clipartKp));
    assert.equal(bundledDataDir('/src/data/clipart-kp', env), join(resources, PACKED_RESOURCE_PATHS.clipartKp));
    assert.equal(bundledDataDir('/src/data/clipart-kp', {}), '/src/data/clipart-kp');
    // An administrator's own setting wins.
    const preset: NodeJS.ProcessEnv = { [MOBILENET_DIR_ENV]: '/opt/weights' };
    usePackedResources(bundleUrl, preset);
    assert.equal(preset[MOBILENET_DIR_ENV], '/opt/weights');
    assert.equal(usePackedResources(import.meta.url, {}), null);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the encoder weights load from a relocated copy (AIMKP_MOBILENET_DIR) with the same content hash', async () => {
  const saved = process.env[MOBILENET_DIR_ENV];
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-weights-'));
  try {
    delete process.env[MOBILENET_DIR_ENV];
    const fromPackage = decodeBundledMobilenet();
    const copy = join(dir, 'mobilenet_v2_mid');
    await cp(mobilenetFolder(), copy, { recursive: true });
    process.env[MOBILENET_DIR_ENV] = copy;
    assert.equal(mobilenetFolder(), copy);
    const fromCopy = decodeBundledMobilenet();
    assert.equal(fromCopy.sha1, fromPackage.sha1);
    assert.equal(
      fromCopy.artifacts.weightData && (fromCopy.artifacts.weightData as ArrayBuffer).byteLength,
      (fromPackage.artifacts.weightData as ArrayBuffer).byteLength,
    );

    process.env[MOBILENET_DIR_ENV] = join(dir, 'missing');
    assert.throws(
      () => mobilenetFolder(),
      (err: unknown) =>
        err instanceof CoreError && err.code === 'NOT_FOUND' && /AIMKP_MOBILENET_DIR=.*missing/.test(err.message),
    );
  } finally {
    if (saved === undefined) delete process.env[MOBILENET_DIR_ENV];
    else process.env[MOBILENET_DIR_ENV] = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
