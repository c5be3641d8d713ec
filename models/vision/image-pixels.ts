/** Image decoding shared by the encoders: any format sharp reads (JPEG, PNG, WebP, GIF, SVG, …) → RGB pixels. */
import sharp, { type OutputInfo } from 'sharp';
import { corruptImageError } from '../data/image-check';

export interface RgbPixels {
  width: number;
  height: number;
  /** width*height*3 bytes, row-major (y, x, channel). */
  data: Uint8Array;
}

/**
 * Decodes `path`, applies EXIF orientation, flattens transparency onto white (clip-art and logos are mostly
 * transparent PNG/SVG; black would be a misleading background), and stretches to size×size RGB.
 * Stretching (not cropping) keeps everything in the picture, which matters more for keyphrases than aspect.
 */
export async function readRgbSquare(path: string, size: number): Promise<RgbPixels> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(path, { failOn: 'error' })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    // The same wording as the data loader's image check (models/data/image-check.ts).
    throw corruptImageError(path, err);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`${path}: decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
