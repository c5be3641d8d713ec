// The same exactness checks on the backend the CLI picks (wasm here): custom gradients, compaction, per-row path.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { makeExample, maxRelErr, randomizeVariables, TEMPLATE, tinyConfig, variant } from './fixtures';

before(async () => {
  await initBackend();
});

test('on the default backend: compact == reference, fast per-row == brute force, weighted == combine', () => {
  const config = tinyConfig({ lora: null });
  const model = createKeyphraseLM(config, TEMPLATE, 41);
  randomizeVariables(model.namedVariables().values(), 42, 0.4);
  const a = makeExample(0, config, 6, [7, 8]);
  const b = makeExample(1, config, 3, [9], false);
  const examples = [a, a, a, b];
  const variants = [
    variant(),
    variant({ textStride: 2, imageStride: 2 }),
    variant({ kind: 'pool', textStride: 2, imageStride: 2 }),
    variant({ textStride: 4 }),
  ];
  const w = [1, 0.5, 2, -1];
  const ref = model.weightedGradientsWith(examples, variants, w, false, { compact: false });
  const fast = model.perRowGradients(examples, variants, false);
  const brute = model.perRowGradientsBruteForce(examples, variants, false);
  assert.ok(maxRelErr(fast.losses, ref.result.losses) < 1e-5, `losses on ${tf.getBackend()}`);
  assert.ok(maxRelErr(fast.gram, brute.gram) < 1e-4, `gram on ${tf.getBackend()}: ${maxRelErr(fast.gram, brute.gram)}`);
  const scale = Math.max(...ref.grads.map((g) => Math.max(...Array.from(g.dataSync(), Math.abs))));
  const combined = fast.combine(w);
  combined.forEach((g, i) => {
    const r = ref.grads[i].dataSync();
    const c = g.dataSync();
    let diff = 0;
    for (let k = 0; k < r.length; k++) diff = Math.max(diff, Math.abs(r[k] - c[k]));
    assert.ok(diff < 1e-4 * scale, `variable ${i} on ${tf.getBackend()}`);
  });
  [...ref.grads, ...combined].forEach((g) => g.dispose());
  fast.dispose();
  brute.dispose();
  model.dispose();
});
