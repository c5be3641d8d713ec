/** A frozen image encoder producing a G×G grid of C-dimensional image tokens. */
export interface ImageEncoder {
  /** Stable id (name + weights hash): part of the feature-cache key. */
  readonly id: string;
  /** G: features form a G×G grid. */
  readonly grid: number;
  /** C: channels per image token. */
  readonly channels: number;
  /** Encodes one image file → Float32Array of G*G*C (row-major: grid row, grid col, channel). */
  encodeFile(path: string): Promise<Float32Array>;
  dispose(): void;
}
