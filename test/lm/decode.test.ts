import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { DecodeOptions } from '../../models/lm/contract';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import {
  assertKvCacheMatchesRecompute,
  makeExample,
  randomizeVariables,
  TEMPLATE,
  tinyConfig,
  useCpu,
  variant,
} from './fixtures';

before(useCpu);

const opts = (partial: Partial<DecodeOptions>): DecodeOptions => ({
  strategy: 'greedy',
  beamSize: 1,
  temperature: 1,
  maxNewTokens: 6,
  seed: 1,
  ...partial,
});

function trainedLikeModel() {
  const config = tinyConfig();
  const model = createKeyphraseLM(config, TEMPLATE, 31);
  randomizeVariables(model.namedVariables().values(), 32, 0.6);
  const examples = [makeExample(0, config, 5, []), makeExample(1, config, 3, [], false), makeExample(2, config, 7, [])];
  return { config, model, examples };
}

/** Makes the model always predict `token`: final LayerNorm outputs a constant, the head picks one column. */
function forceToken(model: ReturnType<typeof createKeyphraseLM>, token: number): void {
  const vars = model.namedVariables();
  const d = model.config.dModel;
  const V = model.config.vocabSize;
  vars.get('lm.ln_f.g')!.assign(tf.zeros([d]));
  vars.get('lm.ln_f.b')!.assign(tf.ones([d]));
  const head = new Float32Array(d * V);
  for (let k = 0; k < d; k++) head[k * V + token] = 1;
  vars.get('lm.head.w')!.assign(tf.tensor2d(head, [d, V]));
}

test('greedy decoding is deterministic and agrees with the teacher-forced training path', () => {
  const { model, examples } = trainedLikeModel();
  const a = model.generate(examples, 'multimodal', opts({}));
  const b = model.generate(examples, 'multimodal', opts({ seed: 99 }));
  assert.deepEqual(
    a.map((x) => Array.from(x)),
    b.map((x) => Array.from(x)),
  );
  // Each greedy token is the argmax of the next-token distribution given the tokens before it.
  for (let i = 0; i < examples.length; i++) {
    const out = Array.from(a[i]);
    for (let t = 0; t < out.length; t++) {
      const logp = model.nextLogProbs([examples[i]], 'multimodal', [out.slice(0, t)], [6 - t]);
      assert.equal(logp.indexOf(Math.max(...logp)), out[t]);
    }
  }
  // The decoding forward (last slot) and the training forward (answer losses) compute the same probabilities.
  const ex = { ...examples[0], answer: Int32Array.from([...a[0], TEMPLATE.eos]) };
  let nll = 0;
  for (let t = 0; t < ex.answer.length; t++) {
    const logp = model.nextLogProbs([examples[0]], 'multimodal', [Array.from(ex.answer.slice(0, t))], [0]);
    nll -= logp[ex.answer[t]];
  }
  const loss = model.losses([ex], [variant()]).losses[0];
  assert.ok(Math.abs(nll / ex.answer.length - loss) < 1e-4, `${nll / ex.answer.length} vs ${loss}`);
  model.dispose();
});

test('decoding stops at EOS and at maxNewTokens (all strategies)', () => {
  const { model, examples } = trainedLikeModel();
  for (const strategy of ['greedy', 'beam', 'beam-sample'] as const) {
    forceToken(model, TEMPLATE.eos);
    for (const out of model.generate(examples, 'text', opts({ strategy, beamSize: 3, temperature: 0.5 })))
      assert.equal(out.length, 0, strategy);
    forceToken(model, 9);
    for (const out of model.generate(
      examples,
      'image',
      opts({ strategy, beamSize: 3, temperature: 0.5, maxNewTokens: 4 }),
    )) {
      assert.deepEqual(Array.from(out), [9, 9, 9, 9], strategy);
    }
    assert.deepEqual(
      model.generate(examples, 'multimodal', opts({ strategy, maxNewTokens: 0 })).map((x) => x.length),
      [0, 0, 0],
    );
  }
  model.dispose();
});

test('exhaustive beam finds the best length-normalised sequence', () => {
  const { config, model, examples } = trainedLikeModel();
  const V = config.vocabSize;
  const eos = TEMPLATE.eos;
  const ex = examples[0];
  // Brute force over all answers of ≤ 2 new tokens: [EOS], [a, EOS], [a, b] (cut at maxNewTokens).
  const first = model.nextLogProbs([ex], 'multimodal', [[]], [2]);
  let best = { tokens: [] as number[], norm: first[eos] };
  const prefixes = [...Array(V).keys()].filter((a) => a !== eos);
  const second = model.nextLogProbs(
    prefixes.map(() => ex),
    'multimodal',
    prefixes.map((a) => [a]),
    prefixes.map(() => 1),
  );
  prefixes.forEach((a, k) => {
    for (let b = 0; b < V; b++) {
      const score = first[a] + second[k * V + b];
      const cand = b === eos ? { tokens: [a], norm: score / 2 } : { tokens: [a, b], norm: score / 2 };
      if (cand.norm > best.norm) best = cand;
    }
  });
  const out = model.generate([ex], 'multimodal', opts({ strategy: 'beam', beamSize: V, maxNewTokens: 2 }));
  assert.deepEqual(Array.from(out[0]), best.tokens);
  model.dispose();
});

test('beam-sample is seeded: same seed same output, temperature → 0 approaches beam search', () => {
  const { model, examples } = trainedLikeModel();
  const run = (seed: number, temperature: number) =>
    model
      .generate(examples, 'multimodal', opts({ strategy: 'beam-sample', beamSize: 3, temperature, seed }))
      .map((x) => Array.from(x).join(' '));
  assert.deepEqual(run(5, 1), run(5, 1));
  const outs = new Set([1, 2, 3, 4, 5, 6].map((s) => run(s, 3).join('|')));
  assert.ok(outs.size > 1, 'different seeds explore different hypotheses at a high temperature');
  const beam = model
    .generate(examples, 'multimodal', opts({ strategy: 'beam', beamSize: 3 }))
    .map((x) => Array.from(x).join(' '));
  assert.deepEqual(run(7, 1e-4), beam);
  model.dispose();
});

test('KV-cached decoding steps equal a full recompute (different prompt lengths, beam reordering, LoRA)', () => {
  assertKvCacheMatchesRecompute();
});

test("decoding frees each layer's intermediates: the prompt's peak memory does not grow with the layer count", async () => {
  // Attention dominates (8 rows × 4 heads × 40² slots per layer); in one scope every layer's stayed alive until the
  // prompt had run (a 32-row ClipArt-KP validation batch on the large base exhausted the wasm heap that way).
  const peakOver = async (nLayers: number) => {
    const config = tinyConfig({ nLayers, nHeads: 4, dModel: 8, maxPositions: 64 });
    const model = createKeyphraseLM(config, TEMPLATE, 5);
    const examples = Array.from({ length: 8 }, (_, i) => makeExample(i, config, 24, []));
    const held = tf.memory().numBytes;
    const { peakBytes } = await tf.profile(() => {
      model.generate(examples, 'multimodal', opts({ maxNewTokens: 1 }));
    });
    model.dispose();
    return peakBytes - held;
  };
  const one = await peakOver(1);
  const four = await peakOver(4);
  // What must stay: each layer's key/value cache (8 rows × 40 slots × d 8 × 2 × 4 B ≈ 20 KB a layer) and weights.
  assert.ok(four < 1.5 * one, `peak over the held memory: ${four} B with 4 layers, ${one} B with 1`);
});
