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
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/** One line saying what is missing and what is needed; null when nothing is missing. */
export function describeMissingGpuLibraries(missing: readonly string[], platform: NodeJS.Platform): string | null {
  if (missing.length === 0) return null;
  const r = GPU_REQUIREMENTS;
  if (platform !== 'linux' && platform !== 'win32')
    return `${r.package} has no GPU build for ${platform}; use tfjs-node or wasm`;
  const pathVar = platform === 'win32' ? 'PATH' : 'LD_LIBRARY_PATH';
  const driver = platform === 'win32' ? r.driver.win32 : r.driver.linux;
  return (
    `GPU libraries not found: ${missing.join(', ')} — ${r.package} ${r.packageVersion} (libtensorflow ${r.libtensorflow}) ` +
    `needs CUDA ${r.cuda} (any 11.x ≥ ${r.cuda}) and cuDNN ${r.cudnn} (any 8.x ≥ ${r.cudnn}) with NVIDIA driver ≥ ${driver}; ` +
    `install them and put their folders on ${pathVar} (docs/install.md, "Using a GPU")`
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
    '/usr/lib64',
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

/** null when this machine has what tfjs-node-gpu needs, else the one-line explanation. */
export function checkGpuLibraries(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  return describeMissingGpuLibraries(missingGpuLibraries(systemGpuProbe(env, platform)), platform);
}
