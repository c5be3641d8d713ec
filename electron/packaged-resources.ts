// Where an installed app finds what the installer put beside app.asar (build/electron-builder.config.ts,
// extraResources):
//   <resources>/models/mobilenet_v2_mid/   the MobileNetV2 encoder weights (copied out of the nsfwjs package)
//   <resources>/data/clipart-kp/           the bundled ClipArt-KP data set (read-only)
// Electron names <resources> in process.resourcesPath. A bundle that plain Node runs from a packed layout (the
// payload test; `aimkp serve` on a headless box from an unpacked install) finds it two folders above itself:
// <resources>/app.asar/dist-electron/<bundle>.js. From the source tree neither exists and nothing changes.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_DATA_DIR_ENV, MOBILENET_DIR_ENV } from '../models/index';

/** Paths under <resources>/ (the installer config copies to exactly these). */
export const PACKED_RESOURCE_PATHS = { mobilenet: 'models/mobilenet_v2_mid', clipartKp: 'data/clipart-kp' } as const;

/** The packed resources folder, or null when running from the source tree. */
export function packedResourcesDir(bundleUrl: string, electronResourcesPath: string | undefined): string | null {
  const candidates = [electronResourcesPath, resolve(dirname(fileURLToPath(bundleUrl)), '..', '..')];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, PACKED_RESOURCE_PATHS.mobilenet, 'model.min.js'))) return dir;
  }
  return null;
}

/**
 * Points the core at the packed resources through its environment variables (models/resource-env.ts); call it in
 * the main process / server before the first worker starts, passing the bundle's import.meta.url. Values already set
 * win (an administrator's override). Returns the resources folder, or null from the source tree.
 */
export function usePackedResources(bundleUrl: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = packedResourcesDir(bundleUrl, (process as { resourcesPath?: string }).resourcesPath);
  if (dir === null) return null;
  env[MOBILENET_DIR_ENV] ||= join(dir, PACKED_RESOURCE_PATHS.mobilenet);
  env[BUNDLED_DATA_DIR_ENV] ||= join(dir, PACKED_RESOURCE_PATHS.clipartKp);
  return dir;
}

/** The bundled ClipArt-KP folder: the packed one when set, else `sourceTreeDefault` (data/clipart-kp of a checkout). */
export function bundledDataDir(sourceTreeDefault: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[BUNDLED_DATA_DIR_ENV]?.trim();
  return fromEnv ? fromEnv : sourceTreeDefault;
}
