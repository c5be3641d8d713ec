// The model's variables: creation with seeded initialisation, stable names, trainable set.
import * as tf from '@tensorflow/tfjs';
import type { LmConfig } from './contract';

export interface LoraParams {
  a: tf.Variable; // din × r
  b: tf.Variable; // r × dout
  scale: number; // alpha / r
}

export interface LinearParams {
  w: tf.Variable; // din × dout
  b: tf.Variable | null;
  lora: LoraParams | null;
}

export interface NormParams {
  g: tf.Variable;
  b: tf.Variable;
}

export interface BlockParams {
  ln1: NormParams;
  q: LinearParams;
  k: LinearParams;
  v: LinearParams;
  o: LinearParams;
  ln2: NormParams;
  up: LinearParams;
  down: LinearParams;
}

export interface ModelParams {
  fc1: LinearParams;
  fc2: LinearParams;
  tokEmb: tf.Variable; // V × d
  posEmb: tf.Variable; // maxPositions × d
  blocks: BlockParams[];
  lnF: NormParams;
  head: LinearParams; // d × V, no bias (untied: keeps the embedding gradient sparse per row)
  named: Map<string, tf.Variable>;
  trainable: tf.Variable[];
}

let modelCounter = 0;

/** Creates every variable. tf variable names get a per-model prefix (tf's registry is global). */
export function createParams(config: LmConfig, seed: number): ModelParams {
  const uid = `aimkp_lm${++modelCounter}`;
  const named = new Map<string, tf.Variable>();
  const trainable: tf.Variable[] = [];
  let seedCounter = 0;
  const nextSeed = (): number => (seed * 1000003 + ++seedCounter * 7919) % 2147483647;
  const lora = config.lora;
  const add = (name: string, value: tf.Tensor, train: boolean): tf.Variable => {
    const v = tf.variable(value, train, `${uid}/${name}`);
    value.dispose();
    named.set(name, v);
    if (train) trainable.push(v);
    return v;
  };
  const normal = (shape: number[], std: number): tf.Tensor => tf.randomNormal(shape, 0, std, 'float32', nextSeed());
  const d = config.dModel;
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayers);

  const linear = (
    name: string,
    din: number,
    dout: number,
    std: number,
    train: boolean,
    withLora: boolean,
    bias = true,
  ): LinearParams => {
    const w = add(`${name}.w`, normal([din, dout], std), train);
    const b = bias ? add(`${name}.b`, tf.zeros([dout]), train) : null;
    let l: LoraParams | null = null;
    if (withLora && lora !== null) {
      // PEFT's init: A ~ U(±1/sqrt(din)), B = 0 (so a fresh LoRA model equals its base model).
      const bound = 1 / Math.sqrt(din);
      l = {
        a: add(`${name}.lora_a`, tf.randomUniform([din, lora.rank], -bound, bound, 'float32', nextSeed()), true),
        b: add(`${name}.lora_b`, tf.zeros([lora.rank, dout]), true),
        scale: lora.alpha / lora.rank,
      };
    }
    return { w, b, lora: l };
  };
  const norm = (name: string, train: boolean): NormParams => ({
    g: add(`${name}.g`, tf.ones([d]), train),
    b: add(`${name}.b`, tf.zeros([d]), train),
  });

  // The LM's base weights train only from scratch; with LoRA (fine-tuning) or freezeLm (alignment) they are frozen.
  const lmTrain = lora === null && config.freezeLm !== true;
  const fc1 = linear(
    'adapter.fc1',
    config.imageFeatureDim,
    config.adapterHidden,
    1 / Math.sqrt(config.imageFeatureDim),
    true,
    false,
  );
  const fc2 = linear('adapter.fc2', config.adapterHidden, d, 1 / Math.sqrt(config.adapterHidden), true, false);
  const tokEmb = add('lm.tok_emb', normal([config.vocabSize, d], 0.02), lmTrain);
  const posEmb = add('lm.pos_emb', normal([config.maxPositions, d], 0.01), lmTrain);
  const blocks: BlockParams[] = [];
  for (let i = 0; i < config.nLayers; i++) {
    const p = `lm.blocks.${i}`;
    blocks.push({
      ln1: norm(`${p}.ln1`, lmTrain),
      q: linear(`${p}.attn.q`, d, d, 0.02, lmTrain, true),
      k: linear(`${p}.attn.k`, d, d, 0.02, lmTrain, true),
      v: linear(`${p}.attn.v`, d, d, 0.02, lmTrain, true),
      o: linear(`${p}.attn.o`, d, d, residualStd, lmTrain, true),
      ln2: norm(`${p}.ln2`, lmTrain),
      up: linear(`${p}.mlp.up`, d, config.dFF, 0.02, lmTrain, true),
      down: linear(`${p}.mlp.down`, config.dFF, d, residualStd, lmTrain, true),
    });
  }
  const lnF = norm('lm.ln_f', lmTrain);
  const head = linear('lm.head', d, config.vocabSize, 0.02, lmTrain, false, false);
  return { fc1, fc2, tokEmb, posEmb, blocks, lnF, head, named, trainable };
}
