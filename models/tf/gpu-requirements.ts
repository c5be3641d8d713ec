/**
 * What the GPU backend needs on the machine, and a check that names what is missing.
 *
 * @tensorflow/tfjs-node-gpu 4.22.0 downloads libtensorflow 2.9.1 (LIBTENSORFLOW_VERSION in its
 * scripts/deps-constants.js). TensorFlow 2.9 is built against CUDA 11.2 and cuDNN 8.1 (TensorFlow's "tested build
 * configurations": CUDA 11.2 / cuDNN 8.1 for TF 2.5–2.11; tfjs-node's README for its libtensorflow 2.x releases:
 * NVIDIA driver > 450.x, CUDA Toolkit 11.2, cuDNN SDK 8.1.0). Any CUDA 11.x ≥ 11.2 runtime serves (the library names
 * are libcudart.so.11.0 etc.), any cuDNN 8.x ≥ 8.1. CUDA 12 / cuDNN 9 do NOT: their library names differ. There is no
 * macOS GPU build.
 *
 * libtensorflow opens the CUDA libraries lazily: without them `import '@tensorflow/tfjs-node-gpu'` still succeeds and
 * TensorFlow runs on the CPU with only a log line (TensorFlow's usual behaviour; no GPU here to observe it). So the
 * backend choice checks first and, when something is missing, says which libraries and versions, then falls back
 * (backend.ts).
 *
 * The WebGPU path (webgpu-adapter.ts) needs no CUDA: Dawn runs on Vulkan (Linux, Windows), D3D12 (Windows) or Metal
 * (macOS). On Linux Dawn opens the Vulkan loader, libvulkan.so.1, which finds the GPU through its driver's ICD file
 * (NVIDIA: the driver's libnvidia-gl package installs /usr/share/vulkan/icd.d/nvidia_icd.json). Without the loader Dawn
 * only prints a warning and finds nothing, so the loader is checked here first, naming what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const GPU_REQUIREMENTS = {
  package: '@tensorflow/tfjs-node-gpu',
  packageVersion: '4.22.0',
  libtensorflow: '2.9.1',
  cuda: '11.2',
  cudnn: '8.1',
  /** Minimum NVIDIA driver for CUDA 11.2 (Linux / Windows). */
  driver: { linux: '450.80.02', win32: '452.39' },
} as const;

/** The shared libraries libtensorflow 2.9 opens for the GPU, per platform (names as the loader looks for them). */
export const GPU_LIBRARIES: Readonly<Record<'linux' | 'win32', readonly string[]>> = {
  linux: [
    'libcuda.so.1', // the NVIDIA driver
    'libcudart.so.11.0',
    'libcublas.so.11',
    'libcublasLt.so.11',
    'libcufft.so.10',
    'libcurand.so.10',
    'libcusolver.so.11',
    'libcusparse.so.11',
    'libcudnn.so.8',
  ],
  win32: [
    'nvcuda.dll', // the NVIDIA driver
    'cudart64_110.dll',
    'cublas64_11.dll',
    'cublasLt64_11.dll',
    'cufft64_10.dll',
    'curand64_10.dll',
    'cusolver64_11.dll',
    'cusparse64_11.dll',
    'cudnn64_8.dll',
  ],
};

export interface GpuLibraryProbe {
  platform: NodeJS.Platform;
  /** Folders to look in (the loader's search path). */
  searchDirs: readonly string[];
  /** Library names the system loader already knows (Linux: `ldconfig -p`). */
  known: ReadonlySet<string>;
  exists: (file: string) => boolean;
}

/** The required libraries the probe cannot find (empty: all there). macOS: every name (no GPU build exists). */
export function missingGpuLibraries(probe: GpuLibraryProbe): string[] {
  const names = probe.platform === 'linux' || probe.platform === 'win32' ? GPU_LIBRARIES[probe.platform] : null;
  if (names === null) return ['(no tfjs-node-gpu build for this platform)'];
  return names.filter(
    (name) => !probe.known.has(name) && !probe.searchDirs.some((dir) => probe.exists(join(dir, name))),
  );
}

/**
 * What provides each library on Linux: NVIDIA's CUDA apt repository names the packages by CUDA version (11-8 here; any
 * 11-x ≥ 11-2 serves); libcudnn8 is cuDNN 8 (take a +cuda11.x build). The pip wheels nvidia-*-cu11 carry the same files.
 */
export const GPU_LIBRARY_PACKAGES: Readonly<Record<string, string>> = {
  'libcuda.so.1': 'the NVIDIA driver',
  'libcudart.so.11.0': 'cuda-cudart-11-8',
  'libcublas.so.11': 'libcublas-11-8',
  'libcublasLt.so.11': 'libcublas-11-8',
  'libcufft.so.10': 'libcufft-11-8',
  'libcurand.so.10': 'libcurand-11-8',
  'libcusolver.so.11': 'libcusolver-11-8',
  'libcusparse.so.11': 'libcusparse-11-8',
  'libcudnn.so.8': 'libcudnn8',
};

/** Libraries of CUDA 12 / cuDNN 9, which libtensorflow 2.9 cannot use: found, they explain a CUDA 12 workstation. */
export const NEWER_CUDA_LIBRARIES: Readonly<Record<'linux' | 'win32', readonly string[]>> = {
  linux: ['libcudart.so.12', 'libcudnn.so.9'],
  win32: ['cudart64_12.dll', 'cudnn64_9.dll'],
};

/**
 * One line saying what is missing, what is needed and what to install; null when nothing is missing. `newerFound`:
 * CUDA 12 / cuDNN 9 libraries present on the machine (the usual reason on a current workstation).
 */
export function describeMissingGpuLibraries(
  missing: readonly string[],
  platform: NodeJS.Platform,
  newerFound: readonly string[] = [],
): string | null {
  if (missing.length === 0) return null;
  const r = GPU_REQUIREMENTS;
  if (platform !== 'linux' && platform !== 'win32')
    return `${r.package} has no GPU build for ${platform}; use --backend webgpu (Metal), tfjs-node or wasm`;
  const pathVar = platform === 'win32' ? 'PATH' : 'LD_LIBRARY_PATH';
  const driver = platform === 'win32' ? r.driver.win32 : r.driver.linux;
  const install =
    platform === 'win32'
      ? `install the CUDA 11.x toolkit and cuDNN 8 for CUDA 11 and put their bin folders on ${pathVar}`
      : `install ${[...new Set(missing.map((name) => GPU_LIBRARY_PACKAGES[name] ?? name))].join(' ')} ` +
        `(NVIDIA's CUDA apt repository, any 11-x; or the pip wheels nvidia-*-cu11) and put their folders on ${pathVar}`;
  const newer =
    newerFound.length > 0
      ? `; found ${newerFound.join(', ')} (CUDA 12 / cuDNN 9), which libtensorflow ${r.libtensorflow} cannot load: ` +
        `add the CUDA 11 libraries beside it, or use --backend webgpu`
      : '';
  return (
    `GPU libraries not found: ${missing.join(', ')} — ${r.package} ${r.packageVersion} (libtensorflow ${r.libtensorflow}) ` +
    `needs CUDA ${r.cuda} (any 11.x ≥ ${r.cuda}) and cuDNN ${r.cudnn} (any 8.x ≥ ${r.cudnn}) with NVIDIA driver ≥ ${driver}; ` +
    `${install} (docs/install.md, "Using a GPU")${newer}`
  );
}

/** The probe for this machine: the loader's search path plus the usual CUDA install folders. */
export function systemGpuProbe(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): GpuLibraryProbe {
  const split = (value: string | undefined): string[] => (value ? value.split(delimiter).filter(Boolean) : []);
  if (platform === 'win32') {
    const cudaBins = Object.entries(env)
      .filter(([key, value]) => /^CUDA_PATH(_V11_\d+)?$/i.test(key) && value)
      .map(([, value]) => join(value as string, 'bin'));
    const system32 = join(env.SystemRoot ?? 'C:\\Windows', 'System32');
    return {
      platform,
      searchDirs: [...split(env.PATH ?? env.Path), ...cudaBins, system32],
      known: new Set(),
      exists: existsSync,
    };
  }
  const cudaDirs = [
    '/usr/local/cuda/lib64',
    '/usr/local/cuda-11/lib64',
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/lib/wsl/lib',
  ];
  return {
    platform,
    searchDirs: [...split(env.LD_LIBRARY_PATH), ...cudaDirs],
    known: ldconfigNames(),
    exists: existsSync,
  };
}

/** Library names in the dynamic loader's cache (`ldconfig -p`); empty when ldconfig is unavailable. */
function ldconfigNames(): Set<string> {
  for (const exe of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(exe, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      return new Set(
        out
          .split('\n')
          .map((line) => line.trim().split(' ')[0])
          .filter((name) => name.includes('.so')),
      );
    } catch {
      // try the next location
    }
  }
  return new Set();
}

/** Which of `names` the probe finds (loader cache or a searched folder). */
export function foundLibraries(probe: GpuLibraryProbe, names: readonly string[]): string[] {
  return names.filter((name) => probe.known.has(name) || probe.searchDirs.some((dir) => probe.exists(join(dir, name))));
}

/** null when this machine has what tfjs-node-gpu needs, else the one-line explanation. */
export function checkGpuLibraries(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const probe = systemGpuProbe(env, platform);
  const newer =
    platform === 'linux' || platform === 'win32' ? foundLibraries(probe, NEWER_CUDA_LIBRARIES[platform]) : [];
  return describeMissingGpuLibraries(missingGpuLibraries(probe), platform, newer);
}

/** The Vulkan loader Dawn opens on Linux. */
export const VULKAN_LOADER = 'libvulkan.so.1';

/** Where the Vulkan loader looks for driver manifests (ICDs) unless VK_DRIVER_FILES / VK_ICD_FILENAMES name them. */
export const VULKAN_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** What to install for WebGPU on Linux (and how to check it), for the messages below and docs/install.md. */
export const VULKAN_INSTALL_HINT =
  "install libvulkan1 and the GPU's Vulkan driver (NVIDIA: libnvidia-gl-<driver major>; AMD/Intel: mesa-vulkan-drivers), " +
  'then check `vulkaninfo --summary`';

/**
 * Linux: null when the Vulkan loader is there (or when the loader cache could not be read: then Dawn itself decides),
 * else why WebGPU cannot find an adapter and what to install. Other platforms: null (Dawn uses D3D12 / Metal).
 */
export function checkVulkanLoader(probe: GpuLibraryProbe): string | null {
  if (probe.platform !== 'linux') return null;
  if (foundLibraries(probe, [VULKAN_LOADER]).length > 0) return null;
  if (probe.known.size === 0) return null; // no ldconfig answer: not conclusive
  return `${VULKAN_LOADER} not found: ${VULKAN_INSTALL_HINT}`;
}

/** Vulkan driver manifests (ICD .json files) the loader would read: the env override, else the standard folders. */
export function vulkanIcdFiles(
  env: NodeJS.ProcessEnv = process.env,
  list: (dir: string) => string[] = listJsonFiles,
): string[] {
  const override = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (override) return override.split(delimiter).filter(Boolean);
  return VULKAN_ICD_DIRS.flatMap((dir) => list(dir).map((name) => join(dir, name)));
}

function listJsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
}
