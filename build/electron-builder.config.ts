/**
 * electron-builder configuration (one file, typed). `npm run dist` loads it with `--config build/electron-builder.config.ts`.
 *
 * Two flavours, picked by AIMKP_FLAVOUR (default | gpu): the default installer carries the WebAssembly backend and,
 * when it was installed on the build machine, the native CPU backend (@tensorflow/tfjs-node); the GPU flavour adds
 * @tensorflow/tfjs-node-gpu (needs CUDA 11 / cuDNN 8 on the target) and the WebGPU backend (tfjs-backend-webgpu +
 * Dawn's dawn.node for the target platform only, needs a Vulkan / D3D12 / Metal driver), see docs/install.md.
 *
 * What goes where (docs/install.md has the picture):
 * - app.asar: package.json, the esbuild bundles (dist-electron/), the renderer (dist/renderer/), production node_modules
 *   minus what the bundles already contain or never load in Node (see NOT_LOADED_AT_RUN_TIME).
 * - app.asar.unpacked: native modules (sharp + its @img platform packages, tfjs-node / -gpu, dawn.node, our own
 *   native matmul addon dist-electron/native/native_gemm.node when it was built) and the tfjs-backend-wasm `.wasm`
 *   binaries — the OS loader and the wasm glue need real files.
 * - resources/: the MobileNetV2 encoder weights (copied out of the nsfwjs package) and the bundled ClipArt-KP data set.
 *   The main process points the core at them (electron/packaged-resources.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration } from 'electron-builder';
import { PACKED_RESOURCE_PATHS } from '../electron/packaged-resources';

type PrepareStage = { platformName: string; arch: string; version: string };

export type Flavour = 'default' | 'gpu';

export const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

/** Where the encoder weights and the data set land under resources/ (the app looks there: electron/packaged-resources.ts). */
export const RESOURCE_LAYOUT = {
  mobilenet: { from: 'node_modules/nsfwjs/dist/models/mobilenet_v2_mid', to: PACKED_RESOURCE_PATHS.mobilenet },
  clipartKp: { from: 'data/clipart-kp', to: PACKED_RESOURCE_PATHS.clipartKp },
} as const;

/**
 * Production dependencies that the packed app never loads from node_modules: the renderer's libraries are in the vite
 * bundle, tsx serves only the source-tree CLI, nsfwjs is needed for its weights only (copied to resources/).
 * Their dependencies go too, unless something the app does load needs them (see exclusiveClosure).
 */
export const NOT_LOADED_AT_RUN_TIME = ['vue', 'pinia', 'vue-router', 'chart.js', 'tsx', 'nsfwjs'] as const;

/**
 * Optional native speed-ups that a shipped package loads only when present, left out with everything they pull in:
 * msgpackr-extract (msgpackr, BullMQ's job encoding, falls back to plain JS without it), so the sweeps queue adds no
 * native code to the installers.
 */
export const OPTIONAL_NATIVE_NOT_SHIPPED = ['msgpackr-extract'] as const;

/**
 * `roots` and everything they depend on, minus what the other production dependencies reach: the packages that exist
 * in node_modules only because of `roots`. Reads the installed package.json files (npm's hoisted layout).
 */
export function exclusiveClosure(roots: readonly string[], projectDir: string = PROJECT_DIR): string[] {
  const key = JSON.stringify([projectDir, roots]);
  const known = closureCache.get(key);
  if (known) return known;
  const manifest = readPackage(projectDir, '.');
  const prodRoots = Object.keys({ ...manifest?.dependencies, ...manifest?.optionalDependencies });
  const dropped = closure(roots, projectDir);
  const kept = closure(
    prodRoots.filter((name) => !roots.includes(name)),
    projectDir,
  );
  const result = [...dropped].filter((name) => !kept.has(name)).sort();
  closureCache.set(key, result);
  return result;
}
const closureCache = new Map<string, string[]>();

/** OPTIONAL_NATIVE_NOT_SHIPPED and what only they pull in (a package another dependency needs stays). */
export function optionalNativeExcluded(projectDir: string = PROJECT_DIR): string[] {
  const cut = new Set<string>(OPTIONAL_NATIVE_NOT_SHIPPED);
  const manifest = readPackage(projectDir, '.');
  const prodRoots = Object.keys({ ...manifest?.dependencies, ...manifest?.optionalDependencies });
  const kept = closure(prodRoots, projectDir, cut);
  return [...closure(OPTIONAL_NATIVE_NOT_SHIPPED, projectDir)].filter((name) => !kept.has(name)).sort();
}

interface PackageManifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** `roots` and their dependencies, transitively; a package in `cut` is neither included nor followed. */
export function closure(
  roots: readonly string[],
  projectDir: string,
  cut: ReadonlySet<string> = new Set(),
): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name) || cut.has(name)) continue;
    seen.add(name);
    const pkgJson = readPackage(projectDir, join('node_modules', name));
    if (!pkgJson) continue; // optional and not installed
    queue.push(
      ...Object.keys({ ...pkgJson.dependencies, ...pkgJson.optionalDependencies, ...pkgJson.peerDependencies }),
    );
  }
  return seen;
}

function readPackage(projectDir: string, dir: string): PackageManifest | null {
  const file = join(projectDir, dir, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageManifest) : null;
}

/**
 * What only the GPU flavour carries: tfjs-node-gpu (CUDA) and the WebGPU backend (tfjs-backend-webgpu + Dawn's binding
 * `webgpu`, whose npm package holds dawn.node for every platform, 132 MB: the GPU flavour keeps only its target's).
 */
export const GPU_FLAVOUR_ONLY = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-webgpu', 'webgpu'] as const;

/**
 * The folder of npm `webgpu`'s dist/ that holds dawn.node for each electron-builder platform (`${arch}`: x64, arm64;
 * macOS has one universal binary). Per-platform `files` patterns drop the others (electron-builder expands ${arch}).
 */
export const DAWN_DIST_FOLDER = { linux: 'linux-${arch}', win: 'win32-${arch}', mac: 'darwin-universal' } as const;

/** The GPU flavour's exclusions for one platform: every dawn.node folder but the target's, and the install scripts. */
export function dawnFilesFor(platform: keyof typeof DAWN_DIST_FOLDER): string[] {
  return [`!**/node_modules/webgpu/dist/!(${DAWN_DIST_FOLDER[platform]})/**`, '!**/node_modules/webgpu/build/**'];
}

/**
 * Size budget of the app payload (everything electron-builder puts under resources/, i.e. without Electron itself) for
 * the default flavour on Linux x64. The optional native TensorFlow packages are not counted: only a build machine with
 * internet has them, and their size is libtensorflow's, not ours.
 */
export const PAYLOAD_BUDGET_BYTES = 60 * 2 ** 20;
/** Payload paths (relative to resources/) the budget does not count. */
export const BUDGET_EXEMPT = /^app\.asar\/node_modules\/@tensorflow\/tfjs-node(-gpu)?\//;

/** Native modules and wasm binaries: outside the asar, where the OS loader / the wasm glue can open them. */
export const ASAR_UNPACK = [
  'node_modules/sharp/**',
  'node_modules/@img/**',
  'node_modules/@tensorflow/tfjs-node/**',
  'node_modules/@tensorflow/tfjs-node-gpu/**',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
  'node_modules/webgpu/dist/**',
  'dist-electron/**/*.wasm',
  // The native matmul addon (scripts/build-native.mjs, copied there by build-electron.ts when it was built).
  'dist-electron/**/*.node',
];

/** The pure-JS TensorFlow.js packages (not the native tfjs-node ones, which keep their whole folder). */
export const TFJS_JS_PACKAGES = [
  'tfjs',
  'tfjs-core',
  'tfjs-layers',
  'tfjs-converter',
  'tfjs-data',
  'tfjs-backend-cpu',
  'tfjs-backend-webgl',
  'tfjs-backend-wasm',
  'tfjs-backend-webgpu',
] as const;

/** The file name of a package's `main` inside its dist/ folder (what Node loads; e.g. tf-core.node.js). */
export function nodeMainOf(name: string, projectDir: string = PROJECT_DIR): string {
  const main =
    (JSON.parse(readFileSync(join(projectDir, 'node_modules', name, 'package.json'), 'utf8')) as { main?: string })
      .main ?? '';
  const m = /^(?:\.\/)?dist\/([^/]+\.js)$/.exec(main);
  if (!m)
    throw new Error(
      `${name}: main "${main}" is not a file in dist/; update the TensorFlow.js exclusions in build/electron-builder.config.ts`,
    );
  return m[1];
}

/** Never shipped: sources maps, type declarations, docs, tests, browser-only builds of tfjs (the app runs tfjs in Node). */
const DEV_FILES_EXCLUDED = [
  '!**/*.map',
  '!**/*.{d.ts,d.mts,d.cts}',
  '!**/*.{md,markdown}',
  '!**/{CHANGELOG,HISTORY,AUTHORS,CONTRIBUTING}*',
  '!**/node_modules/**/{test,tests,__tests__,example,examples,docs,benchmark,benchmarks}/**',
  '!**/node_modules/**/*.{ts,mts,cts,tsbuildinfo}',
  // TensorFlow.js in Node loads each package's `main`, a single dist/tf-*.node.js bundle (and the wasm backend its
  // dist/*.wasm); the per-file ES modules, browser bundles and sources beside them are for bundlers and browsers.
  ...TFJS_JS_PACKAGES.map(
    (name) => `!**/node_modules/@tensorflow/${name}/dist/**/!(${nodeMainOf(`@tensorflow/${name}`)}|*.wasm)`,
  ),
  '!**/node_modules/@tensorflow/*/{src,.rollup.cache}/**',
  // The emscripten glue is inlined in tf-backend-wasm.node.js, which reads the dist/*.wasm copies.
  '!**/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/**',
  '!**/node_modules/@types/**',
];

export function builderConfig(flavour: Flavour = flavourFromEnv()): Configuration {
  const gpu = flavour === 'gpu';
  const excludedPackages = [
    ...exclusiveClosure(NOT_LOADED_AT_RUN_TIME),
    ...optionalNativeExcluded(),
    // The default flavour runs anywhere and stays within its budget: no CUDA-linked TensorFlow, no Dawn.
    ...(gpu ? [] : exclusiveClosure(GPU_FLAVOUR_ONLY)),
  ];
  return {
    appId: 'org.aimkp.workbench',
    productName: 'AimKP Workbench',
    // electron-builder reads the app version from package.json itself; electronVersion is pinned to the devDependency
    // so that no installed Electron binary is needed to find it.
    electronVersion: pkg.devDependencies.electron.replace(/^[\^~]/, ''),
    copyright: 'MIT licence',
    directories: { output: gpu ? 'release/gpu' : 'release/default', buildResources: 'build' },
    // No spaces in file names (apt, shells, URLs); the GPU flavour is named as such.
    artifactName: gpu ? 'aimkp-workbench-gpu-${version}-${arch}.${ext}' : 'aimkp-workbench-${version}-${arch}.${ext}',
    files: [
      'package.json',
      'dist-electron/**/*',
      'dist/renderer/**/*',
      ...DEV_FILES_EXCLUDED,
      ...excludedPackages.map((name) => `!**/node_modules/${name}/**`),
    ],
    asar: true,
    asarUnpack: ASAR_UNPACK,
    extraResources: [RESOURCE_LAYOUT.mobilenet, RESOURCE_LAYOUT.clipartKp].map(({ from, to }) => ({
      from,
      to,
      // Hidden entries are caches (the CLI's feature cache lives in data/clipart-kp/.cache), never data.
      filter: ['**/*', '!**/*.map', '!**/.*', '!**/.*/**'],
    })),
    // desktopName: Electron's app_id / WM_CLASS on Linux, so the desktop links the window to the .desktop entry.
    extraMetadata: { aimkpFlavour: flavour, desktopName: 'aimkp-workbench.desktop' },
    // Native modules here are N-API prebuilds (sharp, tfjs-node): nothing to rebuild against Electron's headers, and a
    // rebuild would need those headers from the internet.
    npmRebuild: false,
    // A hook may return null (→ download); the published type says string only, hence the cast.
    electronDist: seededElectronZip as (options: PrepareStage) => string,
    linux: {
      ...(gpu ? { files: dawnFilesFor('linux') } : {}),
      target: ['AppImage', 'deb'],
      category: 'Science',
      syncDesktopName: true,
      icon: 'build/icons/png',
      synopsis: 'Train and compare multimodal keyphrase generators',
      maintainer: 'AimKP Workbench maintainers <aimkp@example.org>',
    },
    win: { ...(gpu ? { files: dawnFilesFor('win') } : {}), target: ['nsis'], icon: 'build/icons/icon.ico' },
    nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
    mac: {
      ...(gpu ? { files: dawnFilesFor('mac') } : {}),
      target: ['dmg'],
      icon: 'build/icons/icon.icns',
      category: 'public.app-category.education',
    },
    publish: null,
  };
}

export function flavourFromEnv(value: string | undefined = process.env.AIMKP_FLAVOUR): Flavour {
  const v = (value ?? '').trim();
  if (v === '' || v === 'default') return 'default';
  if (v === 'gpu') return 'gpu';
  throw new Error(`AIMKP_FLAVOUR=${v}: expected default or gpu`);
}

/**
 * Offline builds: when ELECTRON_CACHE holds `electron-v<version>-<platform>-<arch>.zip` (flat, the file name of Electron's
 * GitHub release), use it instead of downloading. null → electron-builder's normal download (with its own cache).
 */
export function seededElectronZip(options: PrepareStage): string | null {
  const cache = process.env.ELECTRON_CACHE?.trim();
  if (!cache) return null;
  const zip = join(cache, `electron-v${options.version}-${options.platformName}-${options.arch}.zip`);
  return existsSync(zip) ? zip : null;
}

export default builderConfig();
