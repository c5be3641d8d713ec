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
export const MOBILENET_INPUT_SIZE = 224;

/** Which node of the graph gives the features: Conv_1 (1792 channels) or the last bottleneck (448). */
export type MobilenetFeatures = 'conv1' | 'bottleneck';

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

export async function loadMobilenetEncoder(features: MobilenetFeatures = 'conv1'): Promise<GraphModelEncoder> {
  const { artifacts, sha1 } = decodeBundledMobilenet();
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return GraphModelEncoder.create(model, {
    // The id names the node, so the two variants never share cached features.
    id: `mobilenet-v2-1.4-${features}@${sha1.slice(0, 12)}`,
    inputSize: MOBILENET_INPUT_SIZE,
    node: features === 'conv1' ? MOBILENET_FEATURE_NODE : MOBILENET_BOTTLENECK_NODE,
  });
}
