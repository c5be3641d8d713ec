/** `--encoder` spec → ImageEncoder: 'mobilenet-v2' (default), 'mobilenet-v2-bottleneck', 'patch:G:P', 'tfjs:/folder[#node]'. */
import { CoreError } from '../core-error';
import { initBackend } from '../tf/backend';
import type { ImageEncoder } from './image-encoder';
import { loadMobilenetEncoder } from './mobilenet-v2';
import { PatchEncoder } from './patch-encoder';
import { loadTfjsFolderEncoder } from './tfjs-folder-encoder';

export const DEFAULT_ENCODER_SPEC = 'mobilenet-v2';
export const ENCODER_SPEC_HELP =
  "'mobilenet-v2' (MobileNetV2-1.4, 7×7×1792), 'mobilenet-v2-bottleneck' (same graph, last bottleneck block, 7×7×448, " +
  "4× cheaper adapter), 'patch:G:P' (raw G×G patches of P×P pixels) or 'tfjs:/folder[#node]'";

export async function loadImageEncoder(spec: string = DEFAULT_ENCODER_SPEC): Promise<ImageEncoder> {
  const trimmed = spec.trim();
  if (trimmed === 'mobilenet-v2' || trimmed === 'mobilenet') {
    await initBackend();
    return loadMobilenetEncoder('conv1');
  }
  if (trimmed === 'mobilenet-v2-bottleneck') {
    await initBackend();
    return loadMobilenetEncoder('bottleneck');
  }
  if (trimmed.startsWith('patch:')) {
    const [g, p, extra] = trimmed.slice('patch:'.length).split(':');
    const grid = Number(g);
    const patch = Number(p);
    if (extra !== undefined || !isPositiveInt(grid) || !isPositiveInt(patch)) {
      throw new CoreError('BAD_INPUT', `encoder "${spec}": expected patch:G:P with positive integers, e.g. patch:4:8`);
    }
    return new PatchEncoder(grid, patch);
  }
  if (trimmed.startsWith('tfjs:')) {
    const rest = trimmed.slice('tfjs:'.length);
    const hashAt = rest.lastIndexOf('#');
    const folder = hashAt >= 0 ? rest.slice(0, hashAt) : rest;
    const node = hashAt >= 0 ? rest.slice(hashAt + 1) : undefined;
    if (!folder) throw new CoreError('BAD_INPUT', `encoder "${spec}": expected tfjs:/path/to/model-folder[#node]`);
    await initBackend();
    return loadTfjsFolderEncoder(folder, node || undefined);
  }
  throw new CoreError('BAD_INPUT', `encoder "${spec}": unknown; use ${ENCODER_SPEC_HELP}`);
}

function isPositiveInt(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}
