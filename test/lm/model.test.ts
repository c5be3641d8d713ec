import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { countParameters, defaultLmConfig } from '../../models/lm/config';
import { copyWeightsByName, exportWeights, importWeights } from '../../models/lm/weights-io';
import { keptImageIndices } from '../../models/lm/masking';
import { makeExample, maxRelErr, randomizeVariables, TEMPLATE, tinyConfig, useCpu, variant } from './fixtures';

before(useCpu);

const rowsOf = (config: ReturnType<typeof tinyConfig>) => {
  const a = makeExample(0, config, 5, [7, 8]);
  const b = makeExample(1, config, 9, [9]);
  const c = makeExample(2, config, 4, [10, 11, 12], false);
  return {
    examples: [a, a, a, b, b, c],
    variants: [
      variant(),
      variant({ textStride: 2, imageStride: 2 }),
      variant({ textStride: 8, imageStride: 4 }),
      variant({ kind: 'random', textStride: 4, imageStride: 2, seed: 3 }),
      variant({ mode: 'image', imageStride: 2 }),
      variant({ mode: 'text', textStride: 2 }),
    ],
  };
};

test('compacted rows give the same losses and gradients as the attention-mask reference', () => {
  const config = tinyConfig();
  const model = createKeyphraseLM(config, TEMPLATE, 1);
  randomizeVariables(model.namedVariables().values(), 2, 0.4);
  const { examples, variants } = rowsOf(config);
  const w = [1, 0.5, -2, 0.25, 1.5, 1];
  const ref = model.weightedGradientsWith(examples, variants, w, false, { compact: false });
  const fast = model.weightedGradientsWith(examples, variants, w, false, { compact: true });
  assert.ok(maxRelErr(fast.result.losses, ref.result.losses) < 1e-5);
  assert.deepEqual(Array.from(fast.result.answerTokens), [3, 3, 3, 2, 2, 4]);
  ref.grads.forEach((g, i) => assert.ok(maxRelErr(fast.grads[i].dataSync(), g.dataSync()) < 1e-5, `variable ${i}`));
  // Masking is not a no-op: masked rows differ from the original row.
  assert.ok(Math.abs(ref.result.losses[0] - ref.result.losses[1]) > 1e-4);
  [...ref.grads, ...fast.grads].forEach((g) => g.dispose());
  model.dispose();
});

test('a masked token never reaches an unmasked slot; an unmasked one does', () => {
  const config = tinyConfig();
  const model = createKeyphraseLM(config, TEMPLATE, 3);
  randomizeVariables(model.namedVariables().values(), 4, 0.4);
  const ex = makeExample(0, config, 5, [7, 8]);
  const v = variant({ textStride: 2, imageStride: 2 });
  const base = model.hiddenStates([ex], [v], { compact: false });
  const row = base.rows[0];
  const C = config.imageFeatureDim;
  const d = config.dModel;
  const kept = new Set(keptImageIndices(config.imageGrid, 2));
  const maskedImg = [...Array(9).keys()].find((i) => !kept.has(i))!;
  const keptImg = [...kept][0];
  const perturbImage = (g: number) => {
    const image = ex.image!.slice();
    for (let c = 0; c < C; c++) image[g * C + c] += 3;
    return model.hiddenStates([{ ...ex, image }], [v], { compact: false }).values;
  };
  const perturbText = (i: number) => {
    const text = ex.text.slice();
    text[i] = text[i] === 6 ? 7 : 6;
    return model.hiddenStates([{ ...ex, text }], [v], { compact: false }).values;
  };
  const visibleSlots = [...Array(row.length).keys()].filter((s) => row.keyValid[s]);
  const maxDiff = (a: Float32Array, slots: number[]) =>
    Math.max(...slots.flatMap((s) => [...Array(d).keys()].map((k) => Math.abs(a[s * d + k] - base.values[s * d + k]))));
  assert.equal(maxDiff(perturbImage(maskedImg), visibleSlots), 0, 'masked image token leaks');
  assert.equal(maxDiff(perturbText(0), visibleSlots), 0, 'masked text token leaks');
  const after = visibleSlots.filter((s) => s > row.textSlots[row.textSlots.length - 1]);
  assert.ok(maxDiff(perturbImage(keptImg), after) > 1e-3, 'kept image token must matter');
  assert.ok(maxDiff(perturbText(1), after) > 1e-3, 'kept text token must matter');
  model.dispose();
});

test('gradients match central finite differences', () => {
  const config = tinyConfig({ nLayers: 1 });
  const model = createKeyphraseLM(config, TEMPLATE, 5);
  randomizeVariables(model.namedVariables().values(), 6, 0.4);
  const ex = makeExample(0, config, 5, [7, 8]);
  const examples = [ex, ex];
  const variants = [variant(), variant({ textStride: 2, imageStride: 2 })];
  const weights = [1, 0.7];
  const { grads } = model.weightedGradients(examples, variants, weights, false);
  const vars = model.trainableVariables();
  const objective = (): number => {
    const l = model.losses(examples, variants).losses;
    return l[0] * weights[0] + l[1] * weights[1];
  };
  const eps = 5e-3;
  let checked = 0;
  for (const name of [
    'adapter.fc1.w',
    'lm.tok_emb',
    'lm.pos_emb',
    'lm.blocks.0.attn.q.w',
    'lm.blocks.0.ln1.g',
    'lm.blocks.0.mlp.down.b',
    'lm.head.w',
  ]) {
    const v = model.namedVariables().get(name)!;
    const gi = vars.indexOf(v);
    const g = grads[gi].dataSync();
    // The entry with the largest analytic gradient (a meaningful, well-conditioned check).
    let k = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[k])) k = i;
    const orig = v.dataSync().slice();
    const bump = (delta: number): number => {
      const vals = orig.slice();
      vals[k] += delta;
      v.assign(tf.tensor(vals, v.shape));
      return objective();
    };
    const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
    v.assign(tf.tensor(orig, v.shape));
    assert.ok(Math.abs(g[k]) > 1e-3, `${name}: gradient too small to check`);
    assert.ok(
      Math.abs(numeric - g[k]) < 0.02 * Math.abs(g[k]) + 1e-3,
      `${name}[${k}]: analytic ${g[k]} vs numeric ${numeric}`,
    );
    checked++;
  }
  assert.equal(checked, 7);
  grads.forEach((g) => g.dispose());
  model.dispose();
});

test('LoRA with B = 0 reproduces the base model; only adapter + LoRA train', () => {
  const base = createKeyphraseLM(tinyConfig(), TEMPLATE, 8);
  randomizeVariables(base.namedVariables().values(), 9, 0.4);
  const lora = createKeyphraseLM(tinyConfig({ lora: { rank: 2, alpha: 4, dropout: 0.05 } }), TEMPLATE, 10);
  const report = copyWeightsByName(base, lora);
  assert.equal(report.unexpected.length, 0);
  assert.ok(
    report.missing.length > 0 && report.missing.every((n) => n.includes('.lora_')),
    'only LoRA weights are new',
  );
  const { examples, variants } = rowsOf(tinyConfig());
  assert.deepEqual(
    Array.from(lora.losses(examples, variants).losses),
    Array.from(base.losses(examples, variants).losses),
  );
  const names = new Map([...lora.namedVariables()].map(([n, v]) => [v, n]));
  const trainable = lora.trainableVariables().map((v) => names.get(v)!);
  assert.ok(trainable.every((n) => n.startsWith('adapter.') || n.includes('.lora_')));
  assert.equal(trainable.filter((n) => n.includes('.lora_')).length, 2 * 6 * 2); // q,k,v,o,up,down × A,B × 2 layers
  const counts = countParameters(lora.config);
  assert.equal(
    lora.trainableVariables().reduce((n, v) => n + v.size, 0),
    counts.trainable,
  );
  assert.equal(
    [...lora.namedVariables().values()].reduce((n, v) => n + v.size, 0),
    counts.total,
  );
  base.dispose();
  lora.dispose();
});

test('export / import round-trips every variable by name', async () => {
  const config = tinyConfig();
  const a = createKeyphraseLM(config, TEMPLATE, 11);
  randomizeVariables(a.namedVariables().values(), 12, 0.3);
  const b = createKeyphraseLM(config, TEMPLATE, 13);
  const { specs, data } = await exportWeights(a);
  assert.equal(specs.length, a.namedVariables().size);
  const report = importWeights(b, specs, data);
  assert.equal(report.assigned.length, specs.length);
  assert.deepEqual([report.missing, report.unexpected], [[], []]);
  for (const [name, v] of a.namedVariables())
    assert.deepEqual(Array.from(b.namedVariables().get(name)!.dataSync()), Array.from(v.dataSync()), name);
  const other = createKeyphraseLM(tinyConfig({ dModel: 12 }), TEMPLATE, 1);
  assert.throws(() => importWeights(other, specs, data), /shape/);
  [a, b, other].forEach((m) => m.dispose());
});

test('no tensor leaks across the training API; dropout is deterministic per call sequence', () => {
  const config = tinyConfig({ dropout: 0.2, lora: { rank: 2, alpha: 2, dropout: 0.1 } });
  const { examples, variants } = rowsOf(config);
  const run = () => {
    const m = createKeyphraseLM(config, TEMPLATE, 21);
    const before = tf.memory().numTensors;
    const w = m.weightedGradients(examples, variants, [1, 1, 1, 1, 1, 1], true);
    w.grads.forEach((g) => g.dispose());
    const p = m.perRowGradients(examples, variants, true);
    p.combine([1, 0, 0, 1, 0, 1]).forEach((g) => g.dispose());
    p.dispose();
    m.losses(examples, variants);
    m.generate(examples.slice(0, 2), 'multimodal', {
      strategy: 'beam',
      beamSize: 2,
      temperature: 1,
      maxNewTokens: 3,
      seed: 1,
    });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const out = [Array.from(w.result.losses), Array.from(p.gram)];
    m.dispose();
    return out;
  };
  assert.deepEqual(run(), run());
});

test('default config parameter counts', () => {
  const c = countParameters(defaultLmConfig({ vocabSize: 8000 }));
  assert.equal(c.adapter, 1792 * 256 + 256 + 256 * 128 + 128);
  assert.equal(c.total, c.trainable);
  const lora = countParameters(defaultLmConfig({ vocabSize: 8000, lora: { rank: 8, alpha: 16, dropout: 0.05 } }));
  assert.equal(lora.trainable, lora.adapter + lora.lora);
});
