// SVG → small PNG with sharp: white background (clip art is mostly transparent), fitted into a square.
// Many openclipart files draw outside their page (Inkscape page left at A4 or at 0×0 while the drawing sits
// elsewhere), so rendering the page alone gives blank or cut images. We therefore render a canvas that extends
// the page by PAGE_MARGIN page sizes on every side, trim the white border to the drawing's bounding box, and
// only then fit it into the square.

import sharp from 'sharp';

export interface RasterOptions {
  /** Side of the square output in pixels. */
  size: number;
}

/** How many page widths/heights of extra canvas to render on each side of the page. */
const PAGE_MARGIN = 2;

const UNIT_PX: Record<string, number> = { '': 1, px: 1, pt: 4 / 3, pc: 16, mm: 96 / 25.4, cm: 96 / 2.54, in: 96 };

/** A length attribute in user units (px); null for percentages, missing or unparsable values. */
function lengthPx(value: string | undefined): number | null {
  const m = value && /^\s*([0-9.eE+-]+)\s*(px|pt|pc|mm|cm|in)?\s*$/.exec(value);
  if (!m) return null;
  const n = parseFloat(m[1]) * UNIT_PX[m[2] ?? ''];
  return Number.isFinite(n) && n > 0 ? n : null;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag)?.slice(1).find((v) => v !== undefined);
}

/**
 * Rewrites the root `<svg>` so it shows the page plus PAGE_MARGIN pages on each side, at `maxSide` pixels on the
 * longer side (pixel size set through width/height, so very large or tiny pages need no extreme density).
 * Returns null when the root tag cannot be read.
 */
export function expandCanvas(svg: string, maxSide: number): { svg: string; width: number; height: number } | null {
  const root = /<(?:svg:)?svg\b[^>]*>/.exec(svg);
  if (!root) return null;
  const tag = root[0];
  const vb = attr(tag, 'viewBox')
    ?.trim()
    .split(/[\s,]+/)
    .map(Number);
  let x = 0;
  let y = 0;
  let w: number;
  let h: number;
  if (vb && vb.length === 4 && vb.every(Number.isFinite) && vb[2] > 0 && vb[3] > 0) [x, y, w, h] = vb;
  else {
    w = lengthPx(attr(tag, 'width')) ?? 0;
    h = lengthPx(attr(tag, 'height')) ?? 0;
    if (!w || !h) [w, h] = [w || h || 500, h || w || 500];
  }
  const m = PAGE_MARGIN;
  const [cw, ch] = [w * (1 + 2 * m), h * (1 + 2 * m)];
  const scale = maxSide / Math.max(cw, ch);
  const [pw, ph] = [Math.max(1, Math.round(cw * scale)), Math.max(1, Math.round(ch * scale))];
  const stripped = tag.replace(/\s(?:width|height|viewBox|preserveAspectRatio)\s*=\s*(?:"[^"]*"|'[^']*')/g, '');
  const newTag = stripped.replace(/^<((?:svg:)?svg)\b/, `<$1 width="${pw}" height="${ph}" viewBox="${x - m * w} ${y - m * h} ${cw} ${ch}"`);
  return { svg: svg.slice(0, root.index) + newTag + svg.slice(root.index + tag.length), width: pw, height: ph };
}

/** Thrown when the SVG renders to a plain white image (nothing drawn, or all of it far off the page). */
export class BlankImageError extends Error {}

/**
 * Renders an SVG into a `size`×`size` PNG: drawing trimmed to its bounding box, contained (aspect kept, white
 * padding), flattened on white, palette-encoded at libimagequant quality 60 (flat clip art stays small: ~1.9 KB at 112²). Throws when sharp cannot parse or
 * render the SVG, and BlankImageError when nothing visible is drawn.
 */
export async function rasterizeSvg(svg: Buffer, { size }: RasterOptions): Promise<Buffer> {
  // The page spans 1/(1+2m) of the canvas; render it at about 2× the output size so thin lines survive.
  const expanded = expandCanvas(svg.toString('utf8'), 2 * size * (1 + 2 * PAGE_MARGIN));
  if (!expanded) throw new Error('no <svg> root element');
  const flat = await sharp(Buffer.from(expanded.svg), { density: 72, limitInputPixels: 1e8 })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
  const { channels } = await sharp(flat).stats();
  if (channels.slice(0, 3).every((c) => c.min >= 247)) throw new BlankImageError('the SVG draws nothing visible');
  const trimmed = await sharp(flat).trim({ background: '#ffffff', threshold: 8 }).toBuffer();
  return sharp(trimmed)
    .resize(size, size, { fit: 'contain', background: '#ffffff', kernel: 'lanczos3' })
    .flatten({ background: '#ffffff' })
    .png({ palette: true, quality: 60, effort: 7, compressionLevel: 9 })
    .toBuffer();
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
