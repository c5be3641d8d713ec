/**
 * The GPU flavour's requirement check: which CUDA / cuDNN libraries tfjs-node-gpu's libtensorflow opens, found on the
 * loader's search path or reported by name with the versions needed. Runs with real files in a temporary folder
 * standing in for a CUDA install; this machine has no GPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import {
  GPU_LIBRARIES,
  GPU_REQUIREMENTS,
  describeMissingGpuLibraries,
  missingGpuLibraries,
  systemGpuProbe,
} from '../../models/tf/gpu-requirements';
import { describeBackend } from '../../models/tf/backend';

test('libraries on LD_LIBRARY_PATH are found; the missing ones are named with the CUDA/cuDNN versions needed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-cuda-'));
  try {
    const present = GPU_LIBRARIES.linux.filter((name) => name !== 'libcudnn.so.8');
    for (const name of present) await writeFile(join(dir, name), '');
    const probe = { ...systemGpuProbe({ LD_LIBRARY_PATH: dir }, 'linux'), known: new Set<string>() };
    assert.ok(probe.searchDirs.includes(dir));
    assert.deepEqual(missingGpuLibraries(probe), ['libcudnn.so.8']);
    const line = describeMissingGpuLibraries(['libcudnn.so.8'], 'linux') ?? '';
    for (const part of [
      'libcudnn.so.8',
      'CUDA 11.2',
      'cuDNN 8.1',
      'libtensorflow 2.9.1',
      'LD_LIBRARY_PATH',
      '450.80.02',
    ]) {
      assert.ok(line.includes(part), `${part} in: ${line}`);
    }
    await writeFile(join(dir, 'libcudnn.so.8'), '');
    assert.deepEqual(missingGpuLibraries(probe), []);
    assert.equal(describeMissingGpuLibraries([], 'linux'), null);
    // A name the loader cache knows counts as present even outside the searched folders.
    assert.deepEqual(
      missingGpuLibraries({
        platform: 'linux',
        searchDirs: [],
        known: new Set(GPU_LIBRARIES.linux),
        exists: () => false,
      }),
      [],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Windows looks on PATH and in CUDA_PATH\\bin for the DLLs; macOS has no GPU build', () => {
  const probe = systemGpuProbe({ PATH: 'C:\\tools', CUDA_PATH: 'C:\\CUDA\\v11.2', SystemRoot: 'C:\\Windows' }, 'win32');
  assert.ok(probe.searchDirs.includes(join('C:\\CUDA\\v11.2', 'bin')));
  assert.deepEqual(missingGpuLibraries({ ...probe, exists: () => false }), [...GPU_LIBRARIES.win32]);
  assert.match(describeMissingGpuLibraries(['cudnn64_8.dll'], 'win32') ?? '', /cudnn64_8\.dll.*PATH/);
  assert.match(
    describeMissingGpuLibraries(
      missingGpuLibraries({ platform: 'darwin', searchDirs: [], known: new Set(), exists: () => true }),
      'darwin',
    ) ?? '',
    /no GPU build for darwin/,
  );
});

test('the stated libtensorflow version is the one the installed tfjs-node(-gpu) downloads', (t) => {
  const require = createRequire(import.meta.url);
  const found = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].flatMap((pkg) => {
    try {
      const root = join(require.resolve(`${pkg}/package.json`), '..');
      const constants = join(root, 'scripts', 'deps-constants.js');
      return existsSync(constants)
        ? [
            {
              pkg,
              text: readFileSync(constants, 'utf8'),
              version: (require(`${pkg}/package.json`) as { version: string }).version,
            },
          ]
        : [];
    } catch {
      return [];
    }
  });
  if (found.length === 0) {
    t.skip(
      'neither tfjs-node nor tfjs-node-gpu is installed here (their install downloads libtensorflow; no internet)',
    );
    return;
  }
  for (const { pkg, text, version } of found) {
    assert.match(
      text,
      new RegExp(`LIBTENSORFLOW_VERSION = '${GPU_REQUIREMENTS.libtensorflow.replace(/\./g, '\\.')}'`),
      pkg,
    );
    assert.equal(version, GPU_REQUIREMENTS.packageVersion, pkg);
  }
});

test('the backend line names the CUDA / cuDNN versions in use, or why the GPU was passed over', () => {
  const gpu = describeBackend({
    name: 'tensorflow',
    picked: 'tfjs-node-gpu',
    requested: 'auto',
    tried: [{ name: 'tfjs-node-gpu', ok: true }],
  });
  assert.equal(gpu, 'backend: tfjs-node-gpu (libtensorflow 2.9.1: CUDA 11.2, cuDNN 8.1)');
  const reason = describeMissingGpuLibraries(['libcudnn.so.8'], 'linux') ?? '';
  const fallback = describeBackend({
    name: 'tensorflow',
    picked: 'tfjs-node',
    requested: 'auto',
    tried: [
      { name: 'tfjs-node-gpu', ok: false, reason },
      { name: 'tfjs-node', ok: true },
    ],
  });
  assert.equal(fallback, `backend: tfjs-node — tfjs-node-gpu: ${reason}`);
});
