/**
 * Icons generated from build/icon.svg: the ICO and ICNS containers are read back with an independent parser written
 * from the formats' layouts, and every embedded image is decoded by sharp and must have the size its entry declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  encodeIcns,
  encodeIco,
  ICNS_TYPES,
  ICO_SIZES,
  ICON_SOURCE,
  PNG_SIZES,
  renderPngs,
  writeIcons,
} from '../../scripts/dist-icons';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface IcoEntry {
  width: number;
  height: number;
  bitsPerPixel: number;
  data: Buffer;
}

function readIco(buf: Buffer): IcoEntry[] {
  assert.equal(buf.readUInt16LE(0), 0, 'reserved');
  assert.equal(buf.readUInt16LE(2), 1, 'type 1 = icon');
  const count = buf.readUInt16LE(4);
  const entries: IcoEntry[] = [];
  let end = 6 + 16 * count;
  for (let i = 0; i < count; i++) {
    const at = 6 + 16 * i;
    const size = buf.readUInt32LE(at + 8);
    const offset = buf.readUInt32LE(at + 12);
    assert.equal(offset, end, `entry ${i} follows the previous one`);
    end = offset + size;
    entries.push({
      width: buf.readUInt8(at) || 256,
      height: buf.readUInt8(at + 1) || 256,
      bitsPerPixel: buf.readUInt16LE(at + 6),
      data: buf.subarray(offset, offset + size),
    });
  }
  assert.equal(end, buf.length, 'no trailing bytes');
  return entries;
}

function readIcns(buf: Buffer): { type: string; data: Buffer }[] {
  assert.equal(buf.toString('latin1', 0, 4), 'icns');
  assert.equal(buf.readUInt32BE(4), buf.length, 'total length');
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < buf.length;) {
    const length = buf.readUInt32BE(at + 4);
    assert.ok(length > 8 && at + length <= buf.length, `element at ${at} fits`);
    out.push({ type: buf.toString('latin1', at, at + 4), data: buf.subarray(at + 8, at + length) });
    at += length;
  }
  return out;
}

/** BITMAPINFOHEADER + bottom-up BGRA + AND mask → width and top-down RGBA. */
function readIcoBitmap(dib: Buffer): { width: number; pixels: Buffer } {
  assert.equal(dib.readUInt32LE(0), 40, 'BITMAPINFOHEADER');
  const width = dib.readInt32LE(4);
  assert.equal(dib.readInt32LE(8), 2 * width, 'height counts the AND mask');
  assert.equal(dib.readUInt16LE(14), 32);
  const maskStride = Math.ceil(width / 32) * 4;
  assert.equal(dib.length, 40 + width * width * 4 + maskStride * width, 'header + pixels + mask');
  const pixels = Buffer.alloc(width * width * 4);
  for (let row = 0; row < width; row++) {
    const y = width - 1 - row;
    for (let x = 0; x < width; x++) {
      const from = 40 + (row * width + x) * 4;
      const to = (y * width + x) * 4;
      pixels[to] = dib[from + 2];
      pixels[to + 1] = dib[from + 1];
      pixels[to + 2] = dib[from];
      pixels[to + 3] = dib[from + 3];
      const transparentBit = (dib[40 + width * width * 4 + row * maskStride + (x >> 3)] >> (7 - (x & 7))) & 1;
      assert.equal(transparentBit, dib[from + 3] === 0 ? 1 : 0, 'AND mask marks exactly the transparent pixels');
    }
  }
  return { width, pixels };
}

async function renderAt(size: number): Promise<Buffer> {
  const [png] = await renderPngs(ICON_SOURCE, [size]);
  return png.data;
}

async function pngSize(data: Buffer): Promise<{ width: number; height: number }> {
  assert.deepEqual(data.subarray(0, 8), PNG_SIGNATURE, 'PNG signature');
  const meta = await sharp(data).metadata();
  assert.equal(meta.format, 'png');
  return { width: meta.width ?? 0, height: meta.height ?? 0 };
}

test('icons from build/icon.svg: PNG sizes, an ICO and an ICNS whose entries decode at their declared sizes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aimkp-icons-'));
  try {
    await writeIcons(dir);
    for (const size of PNG_SIZES) {
      assert.deepEqual(await pngSize(await readFile(join(dir, 'png', `${size}x${size}.png`))), {
        width: size,
        height: size,
      });
    }
    const ico = readIco(await readFile(join(dir, 'icon.ico')));
    assert.deepEqual(
      ico.map((e) => e.width),
      [...ICO_SIZES],
    );
    for (const entry of ico) {
      assert.equal(entry.bitsPerPixel, 32);
      const pngFile = await readFile(join(dir, 'png', `${entry.width}x${entry.width}.png`)).catch(() => null);
      if (entry.data.subarray(0, 8).equals(PNG_SIGNATURE)) {
        assert.equal(entry.width, 256, 'only the 256 px entry is PNG');
        assert.deepEqual(await pngSize(entry.data), { width: entry.width, height: entry.height });
      } else {
        // A DIB: its pixels, read back bottom-up BGRA, equal the PNG rendering of the same size.
        const { width, pixels } = readIcoBitmap(entry.data);
        assert.equal(width, entry.width);
        const expected = await sharp(pngFile ?? (await renderAt(entry.width)))
          .ensureAlpha()
          .raw()
          .toBuffer();
        assert.ok(pixels.equals(expected), `${entry.width} px bitmap equals the rendering`);
      }
    }
    const icns = readIcns(await readFile(join(dir, 'icon.icns')));
    assert.deepEqual(
      icns.map((e) => e.type),
      ICNS_TYPES.map((t) => t.type),
    );
    for (const [i, element] of icns.entries()) {
      const size = ICNS_TYPES[i].size;
      assert.deepEqual(await pngSize(element.data), { width: size, height: size }, element.type);
    }
    // The icon is drawn, not blank: the 256 px rendering has both dark background and light tiles.
    const { data } = await sharp(await readFile(join(dir, 'png', '256x256.png')))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const values = [...data];
    assert.ok(Math.min(...values) < 80 && Math.max(...values) > 200, 'contrast in the rendering');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ICO and ICNS encoders: exact byte layout on a hand-made example', () => {
  const a = Buffer.from('AAAA');
  const b = Buffer.from('BBBBBB');
  const ico = encodeIco([
    { size: 16, data: a },
    { size: 256, data: b },
  ]);
  assert.equal(
    ico.toString('hex'),
    '000001000200' +
      '1010000001002000' +
      '04000000' +
      '26000000' + // 16x16, 4 bytes at 6+32 = 38
      '0000000001002000' +
      '06000000' +
      '2a000000' + // 256 (as 0), 6 bytes at 42
      a.toString('hex') +
      b.toString('hex'),
  );
  assert.throws(() => encodeIco([{ size: 512, data: a }]), /1…256/);
  const icns = encodeIcns([{ type: 'icp4', data: a }]);
  assert.equal(
    icns.toString('hex'),
    Buffer.from('icns').toString('hex') +
      '00000014' +
      Buffer.from('icp4').toString('hex') +
      '0000000c' +
      a.toString('hex'),
  );
  assert.throws(() => encodeIcns([{ type: 'ic0', data: a }]), /4 ASCII/);
});
