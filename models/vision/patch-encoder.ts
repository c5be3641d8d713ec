/**
 * 'patch:G:P' — a raw patch encoder with no weights: the image is resized to (G·P)², and each of the G×G grid
 * cells becomes one token holding its P×P×3 pixels scaled to [0,1] (row-major y, x, channel inside the cell).
 * Deterministic and instant; the model's trainable adapter does all the learning. Used for synthetic data
 * and fast tests.
 */
import type { ImageEncoder } from './image-encoder';
import { readRgbSquare } from './image-pixels';

export class PatchEncoder implements ImageEncoder {
  readonly id: string;
  readonly channels: number;

  constructor(
    readonly grid: number,
    readonly patch: number,
  ) {
    if (!Number.isInteger(grid) || grid < 1 || !Number.isInteger(patch) || patch < 1) {
      throw new Error(`patch encoder: grid and patch size must be positive integers (got ${grid}, ${patch})`);
    }
    this.channels = patch * patch * 3;
    this.id = `patch-g${grid}-p${patch}-v1`;
  }

  async encodeFile(path: string): Promise<Float32Array> {
    const { grid: g, patch: p } = this;
    const side = g * p;
    const { data } = await readRgbSquare(path, side);
    const out = new Float32Array(g * g * this.channels);
    let o = 0;
    for (let row = 0; row < g; row++) {
      for (let col = 0; col < g; col++) {
        for (let y = 0; y < p; y++) {
          const start = ((row * p + y) * side + col * p) * 3;
          for (let i = 0; i < p * 3; i++) out[o++] = data[start + i] / 255;
        }
      }
    }
    return out;
  }

  dispose(): void {}
}
