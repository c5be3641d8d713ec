// The zero-copy Identity on wasm (models/tf/wasm-identity.ts): a clone shares its source's buffer and outlives it,
// buffers are freed when the last holder goes, and a training step (dropout, LoRA, the per-row AimKP gradients, all
// of which save tensors on the gradient tape) gives the same bits with the sharing kernel as with wasm's copying one.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { registerSharedIdentity, sharedIdentityActive, unregisterSharedIdentity } from '../../models/tf/wasm-identity';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { maskedBatch, randomizeVariables, TEMPLATE, tinyConfig } from '../lm/fixtures';
import { runScriptJson } from './native-fixtures';

before(async () => {
  await initBackend('wasm');
});

const dataIds = (): number => tf.engine().backend.numDataIds();

test('a clone shares the buffer, outlives its source, and the buffer goes with the last holder', () => {
  assert.equal(sharedIdentityActive(), true, 'registered when wasm starts');
  const start = dataIds();
  const x = tf.tensor2d([1, 2, 3, 4.5], [2, 2]);
  const y = tf.clone(x);
  assert.equal(y.dataId, x.dataId, 'no copy: the same buffer');
  assert.equal(dataIds(), start + 1);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4.5], 'still readable after its source is gone');
  assert.equal(dataIds(), start + 1);
  y.dispose();
  assert.equal(dataIds(), start, 'freed with its last holder');
  // Strings stay off the heap: copied as before.
  const s = tf.tensor1d(['a', 'b'], 'string');
  const s2 = tf.clone(s);
  assert.deepEqual(s2.dataSync(), ['a', 'b']);
  tf.dispose([s, s2]);
});

test('a training step gives the same bits with the sharing Identity as with the copying one', () => {
  const config = tinyConfig({
    dModel: 32,
    nHeads: 2,
    dFF: 64,
    adapterHidden: 24,
    vocabSize: 40,
    dropout: 0.1,
    lora: { rank: 4, alpha: 8, dropout: 0.1 },
  });
  const model = createKeyphraseLM(config, TEMPLATE, 61);
  randomizeVariables(model.namedVariables().values(), 62, 0.3);
  const { examples, variants, weights: w } = maskedBatch(config);
  const step = (): Float32Array[] => {
    model.reseedDropout(7);
    const ref = model.weightedGradients(examples, variants, w, true);
    const perRow = model.perRowGradients(examples, variants, true);
    const combined = perRow.combine(w);
    const out = [
      Float32Array.from(ref.result.losses),
      ...ref.grads.map((g) => g.dataSync().slice() as Float32Array),
      Float32Array.from(perRow.gram),
      ...combined.map((g) => g.dataSync().slice() as Float32Array),
    ];
    tf.dispose([...ref.grads, ...combined]);
    perRow.dispose();
    return out;
  };
  const shared = step();
  unregisterSharedIdentity();
  let copied: Float32Array[];
  try {
    assert.equal(sharedIdentityActive(), false);
    copied = step();
  } finally {
    assert.equal(registerSharedIdentity(), true);
  }
  assert.equal(shared.length, copied.length);
  shared.forEach((s, i) => assert.deepEqual(Buffer.from(s.buffer), Buffer.from(copied[i].buffer), `output ${i}`));
  model.dispose();
});

test("AIMKP_WASM_IDENTITY=copy keeps wasm's copying kernel", () => {
  const probe = `import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend.ts';
    import { sharedIdentityActive } from './models/tf/wasm-identity.ts';
    await initBackend('wasm');
    const x = tf.tensor1d([1, 2]);
    console.log(JSON.stringify({ active: sharedIdentityActive(), same: tf.clone(x).dataId === x.dataId }));`;
  assert.deepEqual(runScriptJson(probe, { AIMKP_WASM_IDENTITY: 'copy' }), { active: false, same: false });
  assert.deepEqual(runScriptJson(probe), { active: true, same: true });
});
