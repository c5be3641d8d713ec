// Where the app's files are, from wherever the running module sits: electron/*.ts in the source tree, or
// dist-electron/*.js (bundled; inside app.asar when installed). Both lie one level below the project root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'aimkp-workbench';

/** The nearest folder at or above `start` whose package.json is this project's. */
export function projectRootFrom(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        /* not ours; keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} folder above ${start}`);
    dir = up;
  }
}

export interface AppPaths {
  root: string;
  /** The built renderer (vite → dist/renderer). */
  rendererDir: string;
  /** The preload bundle (esbuild → dist-electron/preload.cjs; CommonJS, as sandboxed preloads must be). */
  preload: string;
  /** The bundled ClipArt-KP data set in a checkout (an installed app uses resources/, see packaged-resources.ts). */
  clipartKp: string;
}

export function appPaths(moduleUrl: string): AppPaths {
  const root = projectRootFrom(dirname(fileURLToPath(moduleUrl)));
  return {
    root,
    // AIMKP_RENDERER_DIR: serve another build (UI development, tests).
    rendererDir: process.env.AIMKP_RENDERER_DIR ? process.env.AIMKP_RENDERER_DIR : join(root, 'dist', 'renderer'),
    preload: join(root, 'dist-electron', 'preload.cjs'),
    clipartKp: join(root, 'data', 'clipart-kp'),
  };
}
