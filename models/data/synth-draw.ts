// Procedural images for the synthetic data set: one coloured shape at a grid cell on a grey canvas.
import sharp from 'sharp';

export const SYNTH_SHAPES = ['circle', 'square', 'triangle', 'stripes'] as const;
export type SynthShape = (typeof SYNTH_SHAPES)[number];

export const SYNTH_COLOURS: Record<string, readonly [number, number, number]> = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [235, 200, 30],
  purple: [140, 60, 180],
  orange: [245, 130, 30],
};

export interface ShapeSpec {
  shape: SynthShape;
  colour: string;
  /** Grid cell, 0..GRID-1 each. */
  row: number;
  col: number;
}

export const SYNTH_SIZE = 64;
export const SYNTH_GRID = 3;
const BACKGROUND = 235;

/** True when pixel (x, y) lies inside the shape drawn in a cell of side `cell` with top-left (x0, y0). */
function inside(shape: SynthShape, x: number, y: number, x0: number, y0: number, cell: number): boolean {
  const m = 2; // margin inside the cell
  const lx = x - x0 - m;
  const ly = y - y0 - m;
  const s = cell - 2 * m;
  if (lx < 0 || ly < 0 || lx >= s || ly >= s) return false;
  const c = (s - 1) / 2;
  switch (shape) {
    case 'square':
      return lx >= 1 && ly >= 1 && lx < s - 1 && ly < s - 1;
    case 'circle':
      return (lx - c) ** 2 + (ly - c) ** 2 <= (s / 2) ** 2;
    case 'triangle':
      // apex at the top centre, base along the bottom row
      return Math.abs(lx - c) <= (ly / (s - 1)) * c + 0.5;
    case 'stripes':
      return Math.floor(ly / 3) % 2 === 0;
  }
}

/** RGB pixels (row-major, 3 bytes each) for `spec`, with uniform pixel noise of ±noise·127. */
export function drawShapePixels(spec: ShapeSpec, noise: number, rand: () => number): Buffer {
  const size = SYNTH_SIZE;
  const cell = Math.floor(size / SYNTH_GRID);
  const x0 = spec.col * cell + Math.floor((size - cell * SYNTH_GRID) / 2);
  const y0 = spec.row * cell + Math.floor((size - cell * SYNTH_GRID) / 2);
  const rgb = SYNTH_COLOURS[spec.colour];
  const buf = Buffer.alloc(size * size * 3);
  const amp = Math.max(0, Math.min(1, noise)) * 127;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = inside(spec.shape, x, y, x0, y0, cell);
      for (let ch = 0; ch < 3; ch++) {
        const base = on ? rgb[ch] : BACKGROUND;
        const v = amp > 0 ? base + (rand() * 2 - 1) * amp : base;
        buf[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return buf;
}

/** Encodes RGB pixels as PNG with fixed settings (byte-identical output for identical pixels). */
export function encodePng(pixels: Buffer, size = SYNTH_SIZE): Promise<Buffer> {
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer();
}
