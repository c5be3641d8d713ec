// Decodes images cheaply to tell "missing" and "corrupt" apart from usable files.
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

const SMALL_PIXELS = 512 * 512;

export type ImageProblem = { kind: 'image-missing' | 'image-corrupt'; message: string };

/**
 * Returns null when `file` is a decodable image. The header (metadata) alone does not catch truncated
 * files, so the pixels are decoded too.
 */
export async function checkImageFile(file: string): Promise<ImageProblem | null> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return { kind: 'image-missing', message: `image "${file}" is not a file` };
  } catch {
    return { kind: 'image-missing', message: `image file "${file}" does not exist` };
  }
  try {
    const meta = await sharp(file).metadata();
    if (!meta.width || !meta.height) return { kind: 'image-corrupt', message: `image "${file}" has no size` };
    // Small images decode fastest as they are; big ones through a tiny resize (JPEG shrink-on-load).
    if (meta.width * meta.height <= SMALL_PIXELS) await sharp(file).raw().toBuffer();
    else await sharp(file).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
    return null;
  } catch (err) {
    return { kind: 'image-corrupt', message: `image "${file}" cannot be decoded: ${(err as Error).message}` };
  }
}

/** Runs `fn` over `inputs` with at most `limit` in flight; results keep input order. */
export async function mapLimit<T, R>(inputs: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      out[i] = await fn(inputs[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return out;
}
