#!/usr/bin/env node
// `npm start`: opens the workbench. Builds what is missing or older than its sources, then starts Electron;
// where Electron cannot start (no binary, as after an offline install, or no display) it says so in one line
// and serves browser mode instead, printing the URL. `npm run web` (`--web`) goes straight to browser mode.
// Flags after `--` go to the browser-mode server (aimkp serve --help).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { electronBinary, noDisplay } from './electron-binary.mjs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const webOnly = args.includes('--web');
const serverArgs = args.filter((a) => a !== '--web');

/** Newest modification time of the files under `dirs` (skipping node_modules and tests). */
function newest(dirs) {
  let t = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'tests') continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else t = Math.max(t, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return t;
}

function builtAt(file) {
  return existsSync(join(root, file)) ? statSync(join(root, file)).mtimeMs : 0;
}

function run(script) {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', script], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// AIMKP_RENDERER_DIR points the server at another renderer build (UI development, tests): nothing to build then.
if (!process.env.AIMKP_RENDERER_DIR && builtAt('dist/renderer/index.html') < newest(['renderer', 'shared']))
  run('build:renderer');
if (builtAt('dist-electron/server.js') < newest(['electron', 'shared', 'models'])) run('build:electron');

if (!webOnly) {
  const bin = electronBinary(root);
  const why = 'why' in bin ? bin.why : noDisplay();
  if (why === null) {
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    const child = spawn(bin.path, [root], { stdio: 'inherit', env });
    for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
    // Electron owns the rest; its exit code is ours.
    child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
    await new Promise(() => undefined);
  }
  console.log(`Electron cannot start here: ${why}; opening browser mode instead.`);
}

process.argv = [process.argv[0], join(root, 'dist-electron', 'server.js'), ...serverArgs];
await import(new URL('../dist-electron/server.js', import.meta.url).href);
