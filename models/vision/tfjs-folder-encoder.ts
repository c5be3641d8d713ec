/**
 * 'tfjs:/path/to/folder[#node]' — any TF.js graph model saved on disk (model.json + weight shards), e.g. a
 * converted CLIP vision tower. Input: RGB scaled to [0,1] at the model's declared square input size
 * (224 when the signature leaves it open). Features: the named node's output, or the model's output.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CoreError } from '../core-error';
import { GraphModelEncoder } from './graph-model-encoder';
import { toArtifacts } from './mobilenet-v2';

const DEFAULT_INPUT_SIZE = 224;

interface ModelJsonFile {
  format?: string;
  modelTopology?: object;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function loadTfjsFolderEncoder(folder: string, node?: string): Promise<GraphModelEncoder> {
  const jsonPath = join(folder, 'model.json');
  let json: ModelJsonFile;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJsonFile;
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${jsonPath}: cannot read a TF.js model.json (${(err as Error).message})`);
  }
  if (json.format !== 'graph-model' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new CoreError(
      'BAD_INPUT',
      `${jsonPath}: field "format": expected a TF.js graph model ("graph-model" with weightsManifest)`,
    );
  }
  const hash = createHash('sha1').update(JSON.stringify(json.modelTopology));
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const shard of group.paths) {
      try {
        const bytes = await readFile(join(folder, shard));
        hash.update(bytes);
        shards.push(bytes);
      } catch (err) {
        throw new CoreError(
          'BAD_INPUT',
          `${jsonPath}: field "weightsManifest": shard ${shard}: ${(err as Error).message}`,
        );
      }
    }
  }
  const sha1 = hash.digest('hex');
  const manifest = { modelTopology: json.modelTopology, weightsManifest: json.weightsManifest, format: json.format };
  const model = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(manifest, Buffer.concat(shards))));
  const declared = model.inputs[0]?.shape;
  const side = declared && declared[1] > 0 && declared[1] === declared[2] ? declared[1] : DEFAULT_INPUT_SIZE;
  try {
    return GraphModelEncoder.create(model, {
      id: `tfjs-${sha1.slice(0, 12)}${node ? `-${node.replace(/[^A-Za-z0-9_.-]+/g, '_')}` : ''}`,
      inputSize: side,
      node,
    });
  } catch (err) {
    model.dispose();
    throw new CoreError('BAD_INPUT', `${folder}${node ? `#${node}` : ''}: ${(err as Error).message}`);
  }
}
