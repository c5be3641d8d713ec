/**
 * `--encoder` spec → ImageEncoder: 'mobilenet-v2' (default), 'mobilenet-v2-bottleneck', 'mobilenet-v2-s16[@SIDE]',
 * 'patch:G:P', 'tfjs:/folder[#node]'.
 */
import { CoreError } from '../core-error';
import { initBackend } from '../tf/backend';
import type { ImageEncoder } from './image-encoder';
import { loadMobilenetEncoder, MOBILENET_S16_INPUT_SIZE } from './mobilenet-v2';
import { PatchEncoder } from './patch-encoder';
import { loadTfjsFolderEncoder } from './tfjs-folder-encoder';

export const DEFAULT_ENCODER_SPEC = 'mobilenet-v2';
export const ENCODER_SPEC_HELP =
  "'mobilenet-v2' (MobileNetV2-1.4, 7×7×1792), 'mobilenet-v2-bottleneck' (same graph, last bottleneck block, 7×7×448, " +
  "4× cheaper adapter), 'mobilenet-v2-s16' (same graph, stride-16 stage at a 256² input, 16×16×136; " +
  "'mobilenet-v2-s16@SIDE' for another side, a multiple of 16), 'patch:G:P' (raw G×G patches of P×P pixels) or " +
  "'tfjs:/folder[#node]'";

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
  const s16 = /^mobilenet-v2-s16(?:@(\d+))?$/.exec(trimmed);
  if (s16) {
    const side = s16[1] === undefined ? MOBILENET_S16_INPUT_SIZE : Number(s16[1]);
    if (side % 16 !== 0 || side < 64 || side > 1024)
      throw new CoreError('BAD_INPUT', `encoder "${spec}": the input side must be a multiple of 16 in [64, 1024]`);
    await initBackend();
    return loadMobilenetEncoder('s16', side);
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
