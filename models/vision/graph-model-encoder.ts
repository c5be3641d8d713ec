/**
 * An ImageEncoder over any TF.js graph model: the features are one internal node's output (or the model's
 * output), shaped [1,G,G,C] or [1,G*G,C]. Used by the built-in MobileNetV2 and by 'tfjs:/folder#node'.
 */
import * as tf from '@tensorflow/tfjs';
import type { FeatureStorage, ImageEncoder } from './image-encoder';
import { readRgbSquare } from './image-pixels';

export interface GraphEncoderOptions {
  /** Stable id: name + weights hash. */
  id: string;
  /** Square input side in pixels. */
  inputSize: number;
  /** Node whose output is the feature map; undefined = the model's (first) output. */
  node?: string;
  /** Pixel scaling: value = byte/255 * scale + offset. [0,1] is scale 1, offset 0. */
  scale?: number;
  offset?: number;
  /** How encodeImages caches this encoder's features when the caller does not say (default float32). */
  storage?: FeatureStorage;
}

export class GraphModelEncoder implements ImageEncoder {
  readonly id: string;
  readonly storage: FeatureStorage | undefined;
  private constructor(
    private readonly model: tf.GraphModel,
    private readonly options: GraphEncoderOptions,
    readonly grid: number,
    readonly channels: number,
  ) {
    this.id = options.id;
    this.storage = options.storage;
  }

  /** Runs the model once on a blank image to learn G and C (and to fail early on a wrong node name). */
  static create(model: tf.GraphModel, options: GraphEncoderOptions): GraphModelEncoder {
    const size = options.inputSize;
    const shape = tf.tidy(() => runNode(model, tf.zeros([1, size, size, 3]), options.node).shape);
    const { grid, channels } = gridFromShape(shape, options.node ?? 'output');
    return new GraphModelEncoder(model, options, grid, channels);
  }

  async encodeFile(path: string): Promise<Float32Array> {
    const size = this.options.inputSize;
    const { data } = await readRgbSquare(path, size);
    const scale = (this.options.scale ?? 1) / 255;
    const offset = this.options.offset ?? 0;
    const pixels = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) pixels[i] = data[i] * scale + offset;
    const features = tf.tidy(() => runNode(this.model, tf.tensor4d(pixels, [1, size, size, 3]), this.options.node));
    try {
      const values = await features.data();
      return values instanceof Float32Array ? values : Float32Array.from(values);
    } finally {
      features.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

function runNode(model: tf.GraphModel, input: tf.Tensor, node: string | undefined): tf.Tensor {
  const out = node === undefined ? model.execute(input) : model.execute(input, node);
  const tensor = Array.isArray(out) ? out[0] : out;
  return tensor.dtype === 'float32' ? tensor : tensor.toFloat();
}

/** [1,G,G,C] or [1,G*G,C] (G*G a perfect square) → G and C. */
export function gridFromShape(shape: number[], what: string): { grid: number; channels: number } {
  if (shape.length === 4 && shape[0] === 1 && shape[1] === shape[2]) return { grid: shape[1], channels: shape[3] };
  if (shape.length === 3 && shape[0] === 1) {
    const grid = Math.round(Math.sqrt(shape[1]));
    if (grid * grid === shape[1]) return { grid, channels: shape[2] };
  }
  throw new Error(`${what}: output shape [${shape.join(',')}] is not [1,G,G,C] or [1,G*G,C]`);
}
