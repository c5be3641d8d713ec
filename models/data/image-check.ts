// Decodes images cheaply to tell "missing" and "corrupt" apart from usable files.
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { CoreError } from '../core-error';

/**
 * The one wording of "this image cannot be decoded", used by the loader's check and by the encoders'
 * decoding (models/vision/image-pixels.ts), so a corrupt file reads the same wherever it is found. The
 * decoder's own text (which differs between libvips code paths) goes to the error's details only.
 */
export function corruptImageMessage(file: string): string {
  return `image "${file}" cannot be decoded (corrupt, truncated, or not an image file)`;
}

/** The CoreError for a corrupt image: BAD_INPUT with the shared message; `details.decoder` keeps sharp's text. */
export function corruptImageError(file: string, cause: unknown): CoreError {
  const decoder = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
  return new CoreError('BAD_INPUT', corruptImageMessage(file), { path: file, operation: 'decode an image', decoder }, { cause });
}

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
    if (!meta.width || !meta.height) return { kind: 'image-corrupt', message: corruptImageMessage(file) };
    // Small images decode fastest as they are; big ones through a tiny resize (JPEG shrink-on-load).
    if (meta.width * meta.height <= SMALL_PIXELS) await sharp(file).raw().toBuffer();
    else await sharp(file).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
    return null;
  } catch (err) {
    void err; // sharp's wording differs between its code paths; the shared message does not
    return { kind: 'image-corrupt', message: corruptImageMessage(file) };
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
