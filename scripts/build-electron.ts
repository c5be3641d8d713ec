// `npm run build:electron`: esbuild bundles of the Node side into dist-electron/ —
//   main.js     the Electron main process (ESM; `electron` stays external)
//   preload.cjs the preload (CommonJS, self-contained: sandboxed preloads cannot load modules)
//   worker.js   the supervisor's job worker (worker_threads)
//   pool-worker.js  a data-parallel worker of a job (models/train/pool-worker.ts; started by the job's own thread, found
//               beside whichever bundle holds models/parallel/pool-entry.ts)
//   server.js   browser mode (`node dist-electron/server.js`, what `aimkp serve` runs when built)
//   native/native_gemm.node  the native matmul addon, when `npm run build:native` built it (the bundles look for it
//               beside themselves; electron-builder unpacks it from the asar). Without it they use wasm's matmuls.
// Packages from node_modules stay external (electron-builder ships the production ones); our own code
// (models/, shared/, electron/) is bundled. The renderer is vite's job (npm run build:renderer). Files are
// overwritten in place (not deleted first), so a server already running from dist-electron/ keeps working.
import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist-electron');

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  legalComments: 'none',
};

const esm: BuildOptions = {
  ...common,
  format: 'esm',
  packages: 'external',
  // Bundled CommonJS-style code (if any) still finds require / __dirname in an ES module.
  banner: {
    js: "import { createRequire as __aimkpCreateRequire } from 'node:module'; const require = __aimkpCreateRequire(import.meta.url);",
  },
};

/** Copies the addon beside the bundles, or removes a stale copy when it is not built (the payload must match). */
function copyNativeAddon(): string {
  const built = join(root, 'native', 'build', 'native_gemm.node');
  const target = join(out, 'native', 'native_gemm.node');
  if (!existsSync(built)) {
    rmSync(join(out, 'native'), { recursive: true, force: true });
    return 'no native addon (not built)';
  }
  mkdirSync(join(out, 'native'), { recursive: true });
  copyFileSync(built, target);
  return 'native/native_gemm.node';
}

export async function buildElectron(): Promise<void> {
  const started = performance.now();
  await Promise.all([
    build({
      ...esm,
      entryPoints: { main: 'electron/main.ts' },
      outdir: out,
      outExtension: { '.js': '.js' },
      external: ['electron'],
    }),
    build({ ...esm, entryPoints: { worker: 'electron/supervisor/worker-entry.ts' }, outdir: out }),
    build({ ...esm, entryPoints: { 'pool-worker': 'models/train/pool-worker.ts' }, outdir: out }),
    build({ ...esm, entryPoints: { server: 'electron/server/entry.ts' }, outdir: out }),
    build({
      ...common,
      format: 'cjs',
      entryPoints: { preload: 'electron/preload.ts' },
      outdir: out,
      outExtension: { '.js': '.cjs' },
      external: ['electron'],
    }),
  ]);
  const native = copyNativeAddon();
  console.log(
    `dist-electron/: main.js, preload.cjs, worker.js, pool-worker.js, server.js, ${native} (${Math.round(performance.now() - started)} ms)`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildElectron();
