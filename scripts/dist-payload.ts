/**
 * `npm run dist:payload`: the app payload exactly as electron-builder packs it, without Electron.
 *
 * Runs electron-builder itself (its `dir` target, with build/electron-builder.config.ts) against a stand-in Electron
 * distribution — an empty folder with a placeholder `electron` executable — because no Electron binary can be
 * downloaded here. Everything electron-builder puts under resources/ (app.asar, app.asar.unpacked, the encoder weights,
 * the data set) is therefore its own output, file for file. The result is copied to release/payload/resources/ and
 * described in release/payload/files.json (every file with its size and where it lives).
 *
 * `--runnable DIR` also writes a copy that plain Node can run: resources/ with app.asar extracted into a folder of the
 * same name (Node has no asar support; Electron reads the archive the same way), see extractForNode().
 */
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { Flavour } from '../build/electron-builder.config';
import { BUDGET_EXEMPT, PAYLOAD_BUDGET_BYTES, builderConfig, flavourFromEnv } from '../build/electron-builder.config';

export const PROJECT_DIR = resolve(fileURLToPath(import.meta.url), '..', '..');
export const PAYLOAD_DIR = join(PROJECT_DIR, 'release', 'payload');

/** Where a payload file lives: inside app.asar, in app.asar.unpacked, or as a plain resource next to them. */
export type PayloadPlace = 'asar' | 'unpacked' | 'resources';

export interface PayloadFile {
  /** Path relative to resources/ as the app sees it (asar files as `app.asar/<path>`). */
  path: string;
  size: number;
  place: PayloadPlace;
}

export interface PayloadManifest {
  flavour: Flavour;
  electronVersion: string;
  files: PayloadFile[];
  totalBytes: number;
  /** What the size budget counts (totalBytes minus the optional native TensorFlow packages). */
  budgetedBytes: number;
  budgetBytes: number;
}

const require = createRequire(import.meta.url);
interface AsarModule {
  listPackage(archive: string, options: { isPack: boolean }): string[];
  statFile(archive: string, filename: string, followLinks?: boolean): { size?: number; files?: unknown; unpacked?: boolean; link?: string };
  extractAll(archive: string, dest: string): void;
}
// electron-builder's own asar implementation (same version that wrote the archive).
const asar = require(require.resolve('@electron/asar', { paths: [require.resolve('app-builder-lib')] })) as AsarModule;

/** Builds the payload with electron-builder and returns its manifest. The bundles must exist (`npm run build`). */
export async function buildPayload(flavour: Flavour = flavourFromEnv(), outDir: string = PAYLOAD_DIR): Promise<PayloadManifest> {
  for (const required of ['dist-electron', join('dist', 'renderer')]) {
    if (!existsSync(join(PROJECT_DIR, required))) throw new Error(`${required}/ is missing: run \`npm run build\` first`);
  }
  const work = await mkdtemp(join(tmpdir(), 'aimkp-payload-'));
  try {
    const standIn = await makeElectronStandIn(join(work, 'electron-stand-in'));
    const builderOut = join(work, 'out');
    const base = builderConfig(flavour);
    // electron-builder is CommonJS; load it lazily so importing this module (tests) stays cheap.
    const { build, Platform, Arch } = await import('electron-builder');
    const arch = process.arch === 'arm64' ? Arch.arm64 : Arch.x64;
    await build({
      projectDir: PROJECT_DIR,
      targets: Platform.LINUX.createTarget('dir', arch),
      config: { ...base, electronDist: standIn, directories: { ...base.directories, output: builderOut } },
      publish: 'never',
    });
    const unpackedDir = (await readdir(builderOut)).find((name) => name.endsWith('-unpacked'));
    if (!unpackedDir) throw new Error(`electron-builder wrote no *-unpacked folder into ${builderOut}`);
    const resources = join(builderOut, unpackedDir, 'resources');
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    await cp(resources, join(outDir, 'resources'), { recursive: true, verbatimSymlinks: true });
    const manifest = await describePayload(join(outDir, 'resources'), flavour, String(base.electronVersion));
    await writeFile(join(outDir, 'files.json'), JSON.stringify(manifest, null, 1) + '\n');
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A folder electron-builder accepts as an unpacked Electron distribution; its `electron` only says it is a stand-in. */
async function makeElectronStandIn(dir: string): Promise<string> {
  await mkdir(join(dir, 'resources'), { recursive: true });
  const exe = join(dir, 'electron');
  await writeFile(exe, '#!/bin/sh\necho "stand-in for the Electron binary (payload build): not runnable" >&2\nexit 1\n');
  await chmod(exe, 0o755);
  return dir;
}

/** Every file of a packed resources/ folder: the asar's entries (packed or unpacked) and the plain resources. */
export async function describePayload(resourcesDir: string, flavour: Flavour, electronVersion: string): Promise<PayloadManifest> {
  const files: PayloadFile[] = [];
  const archive = join(resourcesDir, 'app.asar');
  for (const entry of asar.listPackage(archive, { isPack: false })) {
    const inner = entry.replace(/^[\\/]/, '');
    const info = asar.statFile(archive, inner, false);
    if (info.files !== undefined || info.link !== undefined) continue; // folders, symlinks
    files.push({ path: `app.asar/${toPosix(inner)}`, size: info.size ?? 0, place: info.unpacked ? 'unpacked' : 'asar' });
  }
  for (const file of await walk(resourcesDir)) {
    const rel = toPosix(relative(resourcesDir, file));
    if (rel === 'app.asar' || rel.startsWith('app.asar.unpacked/')) continue; // described through the archive
    files.push({ path: rel, size: (await stat(file)).size, place: 'resources' });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const sum = (list: PayloadFile[]): number => list.reduce((total, f) => total + f.size, 0);
  return {
    flavour,
    electronVersion,
    files,
    totalBytes: sum(files),
    budgetedBytes: sum(files.filter((f) => !BUDGET_EXEMPT.test(f.path))),
    budgetBytes: PAYLOAD_BUDGET_BYTES,
  };
}

/**
 * Copies a packed resources/ folder to `dest` in a form plain Node can run: app.asar becomes a folder of the same name
 * holding every entry (unpacked ones included), and app.asar.unpacked stays beside it. Paths therefore read exactly as
 * they do inside Electron (…/resources/app.asar/dist-electron/server.js).
 */
export async function extractForNode(resourcesDir: string, dest: string): Promise<string> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  for (const name of await readdir(resourcesDir)) {
    if (name === 'app.asar') continue;
    await cp(join(resourcesDir, name), join(dest, name), { recursive: true, verbatimSymlinks: true });
  }
  asar.extractAll(join(resourcesDir, 'app.asar'), join(dest, 'app.asar'));
  return dest;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function main(argv: string[]): Promise<void> {
  const runnableAt = argv.indexOf('--runnable');
  const manifest = await buildPayload();
  const byPlace = new Map<PayloadPlace, number>();
  for (const f of manifest.files) byPlace.set(f.place, (byPlace.get(f.place) ?? 0) + f.size);
  console.log(`payload (${manifest.flavour}): ${manifest.files.length} files, ${formatMiB(manifest.totalBytes)} → ${relative(PROJECT_DIR, PAYLOAD_DIR)}/`);
  for (const [place, bytes] of byPlace) console.log(`  ${place}: ${formatMiB(bytes)}`);
  const within = manifest.budgetedBytes <= manifest.budgetBytes;
  console.log(`size budget: ${formatMiB(manifest.budgetedBytes)} of ${formatMiB(manifest.budgetBytes)} ${within ? '(ok)' : '— OVER BUDGET'}`);
  if (!within) process.exitCode = 1;
  if (runnableAt >= 0) {
    const dest = argv[runnableAt + 1];
    if (!dest) throw new Error('--runnable needs a folder');
    await extractForNode(join(PAYLOAD_DIR, 'resources'), resolve(dest));
    console.log(`runnable copy for plain Node: ${resolve(dest)}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
