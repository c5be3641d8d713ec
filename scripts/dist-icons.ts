/**
 * `npm run dist:icons`: every icon the installers need, from the one source image build/icon.svg.
 *   build/icons/png/<N>x<N>.png  for N in PNG_SIZES (Linux: AppImage / deb take the folder)
 *   build/icons/icon.ico         Windows (NSIS, the .exe): 16…256 (256 as PNG, the others as 32-bit bitmaps)
 *   build/icons/icon.icns        macOS (dmg, the .app): PNG-based entries, 16…1024
 * The icons are generated, not committed (build/icons/ is git-ignored); `npm run dist` runs this first.
 *
 * Both containers are written here (a few header bytes around the images), so no extra package is needed:
 * ICO: ICONDIR (reserved 0, type 1, count) + one 16-byte ICONDIRENTRY per image + the images: 256 px as PNG, smaller
 * sizes as 32-bit DIBs (BITMAPINFOHEADER + bottom-up BGRA + AND mask), the layout every Windows tool reads (NSIS's
 * makensis and older resource editors reject PNG entries at small sizes). ICNS: 'icns' + total length, then per image
 * a 4-char type + length (header included) + PNG bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const PROJECT_DIR = resolve(fileURLToPath(import.meta.url), '..', '..');
export const ICON_SOURCE = join(PROJECT_DIR, 'build', 'icon.svg');
export const ICONS_DIR = join(PROJECT_DIR, 'build', 'icons');

export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;

/** ICNS element types holding PNG data, with the pixel size each one must have (Apple's icns type table). */
export const ICNS_TYPES: readonly { type: string; size: number }[] = [
  { type: 'icp4', size: 16 },
  { type: 'icp5', size: 32 },
  { type: 'icp6', size: 64 },
  { type: 'ic07', size: 128 },
  { type: 'ic08', size: 256 },
  { type: 'ic09', size: 512 },
  { type: 'ic10', size: 1024 }, // 512@2x
  { type: 'ic11', size: 32 }, // 16@2x
  { type: 'ic12', size: 64 }, // 32@2x
  { type: 'ic13', size: 256 }, // 128@2x
  { type: 'ic14', size: 512 }, // 256@2x
];

/** One image of an icon container: its pixel size and its encoded bytes (PNG, or a DIB inside an ICO). */
export interface SizedPng {
  size: number;
  data: Buffer;
}

/** Renders the SVG at each size (rendered at that size, not downscaled from one bitmap, so small sizes stay crisp). */
export async function renderPngs(svg: Buffer | string, sizes: readonly number[]): Promise<SizedPng[]> {
  return Promise.all(
    sizes.map(async (size) => {
      // density scales the SVG's 1024-px canvas so that librsvg rasterises at (at least) the target size.
      const density = Math.max(1, Math.ceil((72 * size) / 1024));
      const data = await sharp(svg, { density }).resize(size, size).png({ compressionLevel: 9 }).toBuffer();
      return { size, data };
    }),
  );
}

/** A 32-bit ICO bitmap (DIB) from RGBA pixels (top-down rows, as sharp gives them). */
export function encodeIcoBitmap(rgba: Buffer, size: number): Buffer {
  if (rgba.length !== size * size * 4) throw new Error(`expected ${size}×${size} RGBA pixels`);
  const header = Buffer.alloc(40);
  const maskStride = Math.ceil(size / 32) * 4;
  header.writeUInt32LE(40, 0); // BITMAPINFOHEADER
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // XOR bitmap + AND mask
  header.writeUInt16LE(1, 12); // planes
  header.writeUInt16LE(32, 14); // bits per pixel
  header.writeUInt32LE(0, 16); // BI_RGB
  header.writeUInt32LE(size * size * 4 + maskStride * size, 20);
  const pixels = Buffer.alloc(size * size * 4);
  const mask = Buffer.alloc(maskStride * size);
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y; // bottom-up
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 4;
      const to = (row * size + x) * 4;
      pixels[to] = rgba[from + 2];
      pixels[to + 1] = rgba[from + 1];
      pixels[to + 2] = rgba[from];
      pixels[to + 3] = rgba[from + 3];
      if (rgba[from + 3] === 0) mask[row * maskStride + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return Buffer.concat([header, pixels, mask]);
}

export function encodeIco(images: readonly SizedPng[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(images.length, 4);
  const entries = Buffer.alloc(16 * images.length);
  let offset = header.length + entries.length;
  images.forEach((img, i) => {
    if (img.size < 1 || img.size > 256) throw new Error(`ICO entries are 1…256 px, got ${img.size}`);
    const at = 16 * i;
    entries.writeUInt8(img.size === 256 ? 0 : img.size, at); // width, 0 means 256
    entries.writeUInt8(img.size === 256 ? 0 : img.size, at + 1); // height
    entries.writeUInt8(0, at + 2); // palette colours: none
    entries.writeUInt8(0, at + 3); // reserved
    entries.writeUInt16LE(1, at + 4); // colour planes
    entries.writeUInt16LE(32, at + 6); // bits per pixel
    entries.writeUInt32LE(img.data.length, at + 8);
    entries.writeUInt32LE(offset, at + 12);
    offset += img.data.length;
  });
  return Buffer.concat([header, entries, ...images.map((img) => img.data)]);
}

export function encodeIcns(elements: readonly { type: string; data: Buffer }[]): Buffer {
  const parts = elements.map(({ type, data }) => {
    if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Error(`icns type must be 4 ASCII characters: ${type}`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([head, body]);
}

/** Writes build/icons/ (or `outDir`) and returns the files written. */
export async function writeIcons(outDir: string = ICONS_DIR, source: string = ICON_SOURCE): Promise<string[]> {
  const sizes = [...new Set<number>([...PNG_SIZES, ...ICO_SIZES, ...ICNS_TYPES.map((t) => t.size)])].sort(
    (a, b) => a - b,
  );
  const bySize = new Map((await renderPngs(source, sizes)).map((p) => [p.size, p.data]));
  const png = (size: number): Buffer => {
    const data = bySize.get(size);
    if (!data) throw new Error(`no ${size}px rendering`);
    return data;
  };
  const written: string[] = [];
  await mkdir(join(outDir, 'png'), { recursive: true });
  for (const size of PNG_SIZES) {
    const file = join(outDir, 'png', `${size}x${size}.png`);
    await writeFile(file, png(size));
    written.push(file);
  }
  const ico = join(outDir, 'icon.ico');
  const icoImages: SizedPng[] = [];
  for (const size of ICO_SIZES) {
    const rgba = await sharp(png(size)).ensureAlpha().raw().toBuffer();
    icoImages.push({ size, data: size === 256 ? png(size) : encodeIcoBitmap(rgba, size) });
  }
  await writeFile(ico, encodeIco(icoImages));
  const icns = join(outDir, 'icon.icns');
  await writeFile(icns, encodeIcns(ICNS_TYPES.map(({ type, size }) => ({ type, data: png(size) }))));
  // electron-builder also looks for build/icons/icon.png (e.g. the window icon on Linux).
  const main = join(outDir, 'icon.png');
  await writeFile(main, png(512));
  written.push(ico, icns, main);
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeIcons()
    .then((files) => console.log(`icons: ${files.length} files in ${ICONS_DIR}`))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
