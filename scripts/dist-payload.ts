/**
 * `npm run dist:payload`: the app payload exactly as electron-builder packs it, without Electron.
 *
 * Runs electron-builder itself (its `dir` target, with build/electron-builder.config.ts unchanged but for the output
 * folder) against a stand-in Electron release zip — `electron-v<version>-linux-<arch>.zip` holding a placeholder
 * `electron` executable — handed over through ELECTRON_CACHE exactly as an offline build gets the real zip (the
 * config's seededElectronZip hook), because no Electron binary can be downloaded here. Everything electron-builder puts
 * under resources/ (app.asar, app.asar.unpacked, the encoder weights, the data set) is therefore its own output. The result is copied to release/payload/resources/ and
 * described in release/payload/files.json (every file with its size and where it lives).
 *
 * `--runnable DIR` also writes a copy that plain Node can run: resources/ with app.asar extracted into a folder of the
 * same name (Node has no asar support; Electron reads the archive the same way), see extractForNode().
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
  statFile(
    archive: string,
    filename: string,
    followLinks?: boolean,
  ): { size?: number; files?: unknown; unpacked?: boolean; link?: string };
  extractAll(archive: string, dest: string): void;
}
// electron-builder's own asar implementation (same version that wrote the archive).
const asar = require(require.resolve('@electron/asar', { paths: [require.resolve('app-builder-lib')] })) as AsarModule;

/** Builds the payload with electron-builder and returns its manifest. The bundles must exist (`npm run build`). */
export async function buildPayload(
  flavour: Flavour = flavourFromEnv(),
  outDir: string = PAYLOAD_DIR,
): Promise<PayloadManifest> {
  for (const required of ['dist-electron', join('dist', 'renderer')]) {
    if (!existsSync(join(PROJECT_DIR, required)))
      throw new Error(`${required}/ is missing: run \`npm run build\` first`);
  }
  const work = await mkdtemp(join(tmpdir(), 'aimkp-payload-'));
  try {
    const builderOut = join(work, 'out');
    const base = builderConfig(flavour);
    const archName = process.arch === 'arm64' ? 'arm64' : 'x64';
    const electronCache = join(work, 'electron-cache');
    await mkdir(electronCache);
    await writeElectronStandInZip(
      join(electronCache, `electron-v${String(base.electronVersion)}-linux-${archName}.zip`),
    );
    // electron-builder is CommonJS; load it lazily so importing this module (tests) stays cheap.
    const { build, Platform, Arch } = await import('electron-builder');
    const savedCache = process.env.ELECTRON_CACHE;
    process.env.ELECTRON_CACHE = electronCache;
    try {
      await build({
        projectDir: PROJECT_DIR,
        targets: Platform.LINUX.createTarget('dir', archName === 'arm64' ? Arch.arm64 : Arch.x64),
        config: { ...base, directories: { ...base.directories, output: builderOut } },
        publish: 'never',
      });
    } finally {
      if (savedCache === undefined) delete process.env.ELECTRON_CACHE;
      else process.env.ELECTRON_CACHE = savedCache;
    }
    const unpackedDir = (await readdir(builderOut)).find((name) => name.endsWith('-unpacked'));
    if (!unpackedDir) throw new Error(`electron-builder wrote no *-unpacked folder into ${builderOut}`);
    const exe = join(builderOut, unpackedDir, 'aimkp-workbench');
    if (!(await readFile(exe, 'utf8')).includes(STAND_IN_MARK))
      throw new Error(`${exe} is not the stand-in: the seeded ELECTRON_CACHE zip was not used`);
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

const STAND_IN_MARK = 'stand-in for the Electron binary (payload build)';

/** The stand-in release zip: a placeholder `electron` (mode 755) that only says what it is, and a LICENSE. */
async function writeElectronStandInZip(file: string): Promise<void> {
  await writeFile(
    file,
    storedZip([
      {
        name: 'electron',
        data: Buffer.from(`#!/bin/sh\necho "${STAND_IN_MARK}: not runnable" >&2\nexit 1\n`),
        mode: 0o100755,
      },
      {
        name: 'LICENSE',
        data: Buffer.from('Stand-in; the real Electron LICENSE ships with the real zip.\n'),
        mode: 0o100644,
      },
    ]),
  );
}

/**
 * A zip archive with stored (uncompressed) entries: local headers + data, the central directory (Unix modes in the
 * external attributes, which electron-builder's extractor applies), end record. APPNOTE.TXT sections 4.3.7, 4.3.12, 4.3.16.
 */
export function storedZip(entries: readonly { name: string; data: Buffer; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, mode } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes hold a mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38); // external attributes: mode in the high 16 bits
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Every file of a packed resources/ folder: the asar's entries (packed or unpacked) and the plain resources. */
export async function describePayload(
  resourcesDir: string,
  flavour: Flavour,
  electronVersion: string,
): Promise<PayloadManifest> {
  const files: PayloadFile[] = [];
  const archive = join(resourcesDir, 'app.asar');
  for (const entry of asar.listPackage(archive, { isPack: false })) {
    const inner = entry.replace(/^[\\/]/, '');
    const info = asar.statFile(archive, inner, false);
    if (info.files !== undefined || info.link !== undefined) continue; // folders, symlinks
    files.push({
      path: `app.asar/${toPosix(inner)}`,
      size: info.size ?? 0,
      place: info.unpacked ? 'unpacked' : 'asar',
    });
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
  console.log(
    `payload (${manifest.flavour}): ${manifest.files.length} files, ${formatMiB(manifest.totalBytes)} → ${relative(PROJECT_DIR, PAYLOAD_DIR)}/`,
  );
  for (const [place, bytes] of byPlace) console.log(`  ${place}: ${formatMiB(bytes)}`);
  const within = manifest.budgetedBytes <= manifest.budgetBytes;
  console.log(
    `size budget: ${formatMiB(manifest.budgetedBytes)} of ${formatMiB(manifest.budgetBytes)} ${within ? '(ok)' : '— OVER BUDGET'}`,
  );
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
