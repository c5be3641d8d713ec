/** How cached features are stored: float32, or IEEE float16 (half the bytes, ~3 significant digits). */
export type FeatureStorage = 'float32' | 'float16';

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
  /**
   * The cache storage encodeImages uses when its caller names none (absent = float32). Part of the encoder, not of
   * the call, so that every command (train, eval, predict) caches one encoder's features the same way.
   */
  readonly storage?: FeatureStorage;
  dispose(): void;
}
