// Where the Electron executable is, or why there is none — read from node_modules/electron/path.txt as
// electron's own index.js does, but without requiring that module: it would try to download the binary,
// which offline only fails (noisily). Used by scripts/start.mjs; tested in test/cli/start.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** @returns {{ path: string } | { why: string }} */
export function electronBinary(root, env = process.env) {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { why: 'the electron package is not installed' };
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = join(pkg, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  if (!name && !override)
    return { why: 'no Electron binary was downloaded (node_modules/electron/dist missing; an offline install)' };
  const path = override ? join(override, name ?? 'electron') : join(pkg, 'dist', name);
  return existsSync(path) ? { path } : { why: `the Electron binary is missing (${path})` };
}

/** Why Electron cannot show a window here even with a binary (Linux without X11 or Wayland), or null. */
export function noDisplay(platform = process.platform, env = process.env) {
  return platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY
    ? 'no display (DISPLAY / WAYLAND_DISPLAY unset)'
    : null;
}
