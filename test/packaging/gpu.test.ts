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
  GPU_LIBRARY_PACKAGES,
  GPU_REQUIREMENTS,
  NEWER_CUDA_LIBRARIES,
  VULKAN_LOADER,
  checkVulkanLoader,
  describeMissingGpuLibraries,
  foundLibraries,
  missingGpuLibraries,
  systemGpuProbe,
  vulkanIcdFiles,
} from '../../models/tf/gpu-requirements';
import { acceleratorOf, describeBackend } from '../../models/tf/backend';
import { describeAdapter } from '../../models/tf/webgpu-adapter';

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

test('a CUDA 12 workstation: the CUDA 11 libraries are named with the packages to add, and WebGPU as the other way', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-cuda12-'));
  try {
    // What a current workstation has: the driver, CUDA 12 and cuDNN 9 (other library names than libtensorflow 2.9 opens).
    for (const name of ['libcuda.so.1', 'libcudart.so.12', 'libcublas.so.12', 'libcudnn.so.9'])
      await writeFile(join(dir, name), '');
    const probe = { platform: 'linux' as const, searchDirs: [dir], known: new Set<string>(), exists: existsSync };
    const missing = missingGpuLibraries(probe);
    assert.deepEqual(
      missing,
      GPU_LIBRARIES.linux.filter((name) => name !== 'libcuda.so.1'),
    );
    const newer = foundLibraries(probe, NEWER_CUDA_LIBRARIES.linux);
    assert.deepEqual(newer, ['libcudart.so.12', 'libcudnn.so.9']);
    const line = describeMissingGpuLibraries(missing, 'linux', newer) ?? '';
    for (const part of [
      'libcudart.so.11.0',
      'install cuda-cudart-11-8 libcublas-11-8 libcufft-11-8 libcurand-11-8 libcusolver-11-8 libcusparse-11-8 libcudnn8',
      "NVIDIA's CUDA apt repository",
      'nvidia-*-cu11',
      'found libcudart.so.12, libcudnn.so.9 (CUDA 12 / cuDNN 9)',
      'add the CUDA 11 libraries beside it, or use --backend webgpu',
    ]) {
      assert.ok(line.includes(part), `${part} in: ${line}`);
    }
    assert.ok(!line.includes('\n'));
    // Every library has a named source, and the packages are listed once each.
    for (const name of GPU_LIBRARIES.linux) assert.ok(GPU_LIBRARY_PACKAGES[name], name);
    assert.equal((line.match(/libcublas-11-8/g) ?? []).length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('WebGPU on Linux: the Vulkan loader is checked first and its absence says what to install', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-vulkan-'));
  try {
    // Only the temporary folder is searched (this machine's own loader must not decide the test).
    const probe = { platform: 'linux' as const, searchDirs: [dir], known: new Set(['libc.so.6']), exists: existsSync };
    const line = checkVulkanLoader(probe) ?? '';
    for (const part of [VULKAN_LOADER, 'libvulkan1', 'libnvidia-gl-', 'mesa-vulkan-drivers', 'vulkaninfo --summary'])
      assert.ok(line.includes(part), `${part} in: ${line}`);
    await writeFile(join(dir, VULKAN_LOADER), '');
    assert.equal(checkVulkanLoader(probe), null);
    // No loader-cache answer (no ldconfig) is not proof of absence: Dawn is asked instead.
    assert.equal(checkVulkanLoader({ ...probe, searchDirs: [], known: new Set() }), null);
    // Other platforms use D3D12 / Metal.
    assert.equal(checkVulkanLoader({ ...probe, platform: 'win32', searchDirs: [] }), null);
    // The driver manifests: VK_DRIVER_FILES / VK_ICD_FILENAMES win over the standard folders.
    assert.deepEqual(
      vulkanIcdFiles({ VK_ICD_FILENAMES: '/opt/a.json:/opt/b.json' }, () => ['x.json']),
      ['/opt/a.json', '/opt/b.json'],
    );
    assert.deepEqual(
      vulkanIcdFiles({}, (d) => (d === '/usr/share/vulkan/icd.d' ? ['nvidia_icd.json'] : [])),
      ['/usr/share/vulkan/icd.d/nvidia_icd.json'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the backend line and the accelerator name the WebGPU adapter', () => {
  const adapter = describeAdapter(
    { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA: 550.54.15' },
    'core',
    [],
  );
  assert.equal(adapter.software, false);
  const info = {
    name: 'webgpu',
    picked: 'webgpu' as const,
    requested: 'auto' as const,
    tried: [
      { name: 'tfjs-node-gpu' as const, ok: false, reason: 'not installed' },
      { name: 'webgpu' as const, ok: true },
    ],
    adapter,
  };
  assert.equal(
    describeBackend(info),
    'backend: webgpu (NVIDIA H200 (NVIDIA: 550.54.15); vendor nvidia, architecture hopper) — tfjs-node-gpu: not installed',
  );
  assert.equal(acceleratorOf(info), 'WebGPU: NVIDIA H200 (NVIDIA: 550.54.15); vendor nvidia, architecture hopper');
  const soft = describeAdapter(
    { vendor: '', architecture: '', device: 'llvmpipe-llvm-15', description: '' },
    'compatibility',
    ['backend=opengles'],
  );
  assert.equal(soft.software, true);
  assert.equal(acceleratorOf({ ...info, adapter: soft }), 'WebGPU: llvmpipe-llvm-15; software, compatibility mode');
  assert.equal(acceleratorOf({ ...info, picked: 'wasm', name: 'wasm' }), null);
});
