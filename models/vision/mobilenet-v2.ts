/**
 * The built-in frozen backbone: MobileNetV2-1.4 (ImageNet, TF-Hub feature vector) that ships inside the
 * `nsfwjs` npm package as `dist/models/mobilenet_v2_mid/`. Its files are browserify bundles whose
 * `module.exports` is model.json (object) and, for each weight shard, the shard's bytes as a base64 string.
 * We decode them in memory and load with tf.io.fromMemory: fully offline, nothing written to disk.
 *
 * Features: the last conv block (Conv_1, after ReLU6) — 7×7×1792 at 224×224 input, i.e. before the
 * nsfwjs classification head. The graph's `hub_input` rescales [0,1] → [-1,1] itself, so we feed [0,1].
 * 'bottleneck' variant: the last inverted-residual block's linear projection (expanded_conv_16/project, after
 * its folded BatchNorm, no activation), 7×7×448 (320·1.4) — the same graph stopped before the 1×1 Conv_1
 * expansion, so 4× fewer adapter FLOPs and cache bytes.
 * 's16' variant (issue 19, the paper's mask ratios): the last block output at stride 16 (expanded_conv_12/add, the
 * residual sum, 136 channels = 96·1.4) at a 256×256 input → 16×16×136, so image strides 2 / 4 / 8 keep 64 / 16 / 4
 * tokens = 25 / 6.25 / 1.56 % as on LLaVA's 24×24 grid. The graph declares its input [-1,224,224,3]; every op up to
 * Conv_1 is convolutional, so the Placeholder is relaxed to [-1,-1,-1,3] for this variant (the head after Conv_1,
 * with its fixed AvgPool, is never executed: execute() runs only the sub-graph the node needs).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CoreError } from '../core-error';
import { MOBILENET_DIR_ENV } from '../resource-env';
import { GraphModelEncoder } from './graph-model-encoder';

/** Inside the nsfwjs package (not in its "exports" map, so it is found from the package root). */
export const MOBILENET_FOLDER = 'dist/models/mobilenet_v2_mid';
export const MOBILENET_FEATURE_NODE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/' +
  'StatefulPartitionedCall/predict/MobilenetV2/Conv_1/Relu6';
export const MOBILENET_BOTTLENECK_NODE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/' +
  'StatefulPartitionedCall/predict/MobilenetV2/expanded_conv_16/project/BatchNorm/FusedBatchNormV3';
export const MOBILENET_S16_NODE =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/' +
  'StatefulPartitionedCall/predict/MobilenetV2/expanded_conv_12/add';
export const MOBILENET_INPUT_SIZE = 224;
/** The s16 variant's default input side: 256 / 16 = a 16×16 grid. */
export const MOBILENET_S16_INPUT_SIZE = 256;

/**
 * Which node of the graph gives the features: Conv_1 (7×7×1792), the last bottleneck (7×7×448), or the last block
 * at stride 16 (side/16 × side/16 × 136).
 */
export type MobilenetFeatures = 'conv1' | 'bottleneck' | 's16';

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export interface DecodedGraphModel {
  artifacts: tf.io.ModelArtifacts;
  /** sha1 of model.json + all weight bytes (hex). */
  sha1: string;
}

const requireCjs = createRequire(import.meta.url);

/**
 * The folder holding model.min.js and its shards. An installed app has no nsfwjs package: the installer copies this
 * folder to resources/models/mobilenet_v2_mid and the main process names it in AIMKP_MOBILENET_DIR
 * (build/electron-builder.config.ts, electron/packaged-resources.ts). From source it is inside the nsfwjs package.
 */
export function mobilenetFolder(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[MOBILENET_DIR_ENV]?.trim();
  if (!fromEnv) return join(nsfwjsRoot(), MOBILENET_FOLDER);
  if (!existsSync(join(fromEnv, 'model.min.js'))) {
    throw new CoreError(
      'NOT_FOUND',
      `${MOBILENET_DIR_ENV}=${fromEnv}: no model.min.js there (expected the mobilenet_v2_mid files of nsfwjs)`,
      {
        path: fromEnv,
        field: MOBILENET_DIR_ENV,
      },
    );
  }
  return fromEnv;
}

/** Decodes the nsfwjs-bundled MobileNetV2-1.4 into model artifacts (throws if the package is missing). */
export function decodeBundledMobilenet(): DecodedGraphModel {
  const folder = mobilenetFolder();
  const modelFile = join(folder, 'model.min.js');
  const json = requireCjs(modelFile) as ModelJson;
  if (json.format !== 'graph-model' || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${modelFile}: not a TF.js graph model bundle`);
  }
  const hash = createHash('sha1').update(JSON.stringify(json.modelTopology));
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const shardPath of group.paths) {
      const shardFile = join(folder, `${shardPath}.min.js`);
      const base64 = requireCjs(shardFile) as unknown;
      if (typeof base64 !== 'string') throw new Error(`${shardFile}: expected a base64 string export`);
      const bytes = Buffer.from(base64, 'base64');
      hash.update(bytes);
      buffers.push(bytes);
      // The decoded module text is no longer needed; drop it from require's cache to free ~5 MB per shard.
      delete requireCjs.cache[shardFile];
    }
  }
  delete requireCjs.cache[modelFile];
  return { artifacts: toArtifacts(json, Buffer.concat(buffers)), sha1: hash.digest('hex') };
}

/** The installed nsfwjs package folder (resolving only; nothing of nsfwjs is executed here). */
function nsfwjsRoot(): string {
  let dir = dirname(requireCjs.resolve('nsfwjs'));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nsfwjs') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the nsfwjs package folder (is nsfwjs installed?)');
    dir = parent;
  }
}

export function toArtifacts(json: ModelJson, weights: Buffer): tf.io.ModelArtifacts {
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData,
  };
}

interface GraphNode {
  op: string;
  attr?: { shape?: { shape?: { dim?: { size: string }[] } } };
}

/** Lets the graph take any square input side: its input Placeholders become [-1,-1,-1,3] (batch, height, width). */
export function relaxInputShape(artifacts: tf.io.ModelArtifacts): void {
  const topology = artifacts.modelTopology as { node?: GraphNode[] };
  for (const node of topology.node ?? []) {
    const dim = node.attr?.shape?.shape?.dim;
    if (node.op === 'Placeholder' && dim?.length === 4)
      dim.splice(0, 3, { size: '-1' }, { size: '-1' }, { size: '-1' });
  }
}

/**
 * The bundled MobileNetV2 as an encoder. `inputSize` only applies to 's16' (a multiple of 16; default 256); Conv_1
 * and the bottleneck keep the graph's declared 224.
 */
export async function loadMobilenetEncoder(
  features: MobilenetFeatures = 'conv1',
  inputSize: number = MOBILENET_S16_INPUT_SIZE,
): Promise<GraphModelEncoder> {
  const { artifacts, sha1 } = decodeBundledMobilenet();
  if (features !== 's16') {
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    return GraphModelEncoder.create(model, {
      // The id names the node, so the variants never share cached features.
      id: `mobilenet-v2-1.4-${features}@${sha1.slice(0, 12)}`,
      inputSize: MOBILENET_INPUT_SIZE,
      node: features === 'conv1' ? MOBILENET_FEATURE_NODE : MOBILENET_BOTTLENECK_NODE,
    });
  }
  if (!Number.isInteger(inputSize) || inputSize % 16 !== 0 || inputSize < 64 || inputSize > 1024)
    throw new CoreError(
      'BAD_INPUT',
      `encoder mobilenet-v2-s16@${inputSize}: the input side must be a multiple of 16 in [64, 1024]`,
    );
  // sha1 is of the topology as shipped (before relaxing), so it still names the weights.
  relaxInputShape(artifacts);
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return GraphModelEncoder.create(model, {
    // The id names node and input side: no two variants share cached features.
    id: `mobilenet-v2-1.4-s16-${inputSize}@${sha1.slice(0, 12)}`,
    inputSize,
    node: MOBILENET_S16_NODE,
    // 136 channels of a residual sum (|x| < 100 here): float16 keeps ~3 digits at half the bytes (211 MB for ClipArt-KP).
    storage: 'float16',
  });
}
