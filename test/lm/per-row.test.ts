import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncodedExample, LmConfig, RowVariant } from '../../models/lm/contract';
import { planPasses } from '../../models/lm/call-plan';
import { createKeyphraseLM, type LayoutChoice } from '../../models/lm/keyphrase-lm';
import { buildRowLayout } from '../../models/lm/layout';
import { seededRandom } from '../../models/lm/masking';
import { makeExample, maxRelErr, randomizeVariables, TEMPLATE, tinyConfig, useCpu, variant } from './fixtures';

before(useCpu);

function batch(config: LmConfig) {
  const a = makeExample(0, config, 5, [7, 8]);
  const b = makeExample(1, config, 9, [9]);
  const c = makeExample(2, config, 4, [10, 11, 12], false);
  return {
    examples: [a, a, a, b, b, b, c, c],
    variants: [
      variant(),
      variant({ textStride: 2 }),
      variant({ imageStride: 2 }),
      variant(),
      variant({ kind: 'pool', textStride: 4, imageStride: 2 }),
      variant({ kind: 'random', textStride: 2, imageStride: 2, seed: 5 }),
      variant({ mode: 'text' }),
      variant({ textStride: 8 }),
    ],
  };
}

/** Every pass boundary the planner can draw: with no per-pass cost each distinct row shape gets its own pass. */
const SPLIT: LayoutChoice = { passOverheadFlops: 0 };

function passCount(config: LmConfig, examples: EncodedExample[], variants: RowVariant[], choice: LayoutChoice): number {
  const rows = examples.map((e, i) => buildRowLayout(e, variants[i], TEMPLATE, config, { compact: true }));
  return planPasses(config, rows, { passOverheadFlops: choice.passOverheadFlops }).length;
}

for (const [label, partial, choice] of [
  ['full fine-tuning', {}, {}],
  ['LoRA', { lora: { rank: 3, alpha: 6, dropout: 0.05 } }, {}],
  ['full fine-tuning, rows split into passes by length', {}, SPLIT],
  ['LoRA, rows split into passes by length', { lora: { rank: 3, alpha: 6, dropout: 0.05 } }, SPLIT],
  ['wide image features, rows split into passes by length', { imageFeatureDim: 64, adapterHidden: 32 }, SPLIT],
] as const) {
  test(`fast per-row Gram and combine equal brute force (${label})`, () => {
    const config = tinyConfig(partial);
    const model = createKeyphraseLM(config, TEMPLATE, 4);
    // Random values everywhere (LoRA B included) so every parameter has a non-trivial per-row gradient.
    randomizeVariables(model.namedVariables().values(), 5, 0.4);
    const { examples, variants } = batch(config);
    const passes = passCount(config, examples, variants, choice);
    if (choice === SPLIT) assert.ok(passes >= 4, `${passes} passes`);
    else assert.equal(passes, 1);
    const fast = model.perRowGradientsWith(examples, variants, false, undefined, choice);
    const brute = model.perRowGradientsBruteForce(examples, variants, false);
    assert.ok(maxRelErr(fast.losses, brute.losses) < 1e-5);
    assert.deepEqual(Array.from(fast.answerTokens), Array.from(brute.answerTokens));
    assert.ok(maxRelErr(fast.gram, brute.gram) < 1e-4, `gram rel err ${maxRelErr(fast.gram, brute.gram)}`);
    // The Gram is not degenerate: rows differ (cosines strictly inside (-1, 1) off the diagonal).
    const R = examples.length;
    const cos = fast.gram[1] / Math.sqrt(fast.gram[0] * fast.gram[R + 1]);
    assert.ok(Math.abs(cos) < 0.9999 && Math.abs(cos) > 1e-4, `cos ${cos}`);
    const w = [1, 0.5, 0, -1, 2, 0.25, 1, 3];
    const cf = fast.combine(w);
    const cb = brute.combine(w);
    assert.equal(cf.length, model.trainableVariables().length);
    // Relative to each variable's scale, floored at 1e-3 of the global scale: attention key biases have an exactly
    // zero gradient (softmax is shift-invariant), so both sides are rounding noise there.
    const globalScale = Math.max(...cb.map((g) => Math.max(...Array.from(g.dataSync(), Math.abs))));
    const err = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
      let diff = 0;
      let scale = 1e-3 * globalScale;
      for (let k = 0; k < a.length; k++) {
        diff = Math.max(diff, Math.abs(a[k] - b[k]));
        scale = Math.max(scale, Math.abs(b[k]));
      }
      return diff / scale;
    };
    cf.forEach((g, i) => {
      assert.deepEqual(g.shape, model.trainableVariables()[i].shape);
      assert.ok(err(g.dataSync(), cb[i].dataSync()) < 1e-4, `combine variable ${i}`);
    });
    // weightedGradients is the same weighted sum from one backward of Σ w_r L_r (per pass).
    const wg = model.weightedGradientsWith(examples, variants, w, false, choice);
    wg.grads.forEach((g, i) => assert.ok(err(g.dataSync(), cb[i].dataSync()) < 1e-4, `weighted variable ${i}`));
    [...cf, ...cb, ...wg.grads].forEach((g) => g.dispose());
    fast.dispose();
    brute.dispose();
    assert.throws(() => fast.combine(w), /dispose/);
    model.dispose();
  });
}

test('LoRA at initialisation: B = 0 gives zero A-gradients but non-zero B-gradients', () => {
  const config = tinyConfig({ lora: { rank: 2, alpha: 4, dropout: 0 } });
  const model = createKeyphraseLM(config, TEMPLATE, 6);
  const { examples, variants } = batch(config);
  const p = model.perRowGradients(examples.slice(0, 3), variants.slice(0, 3), false);
  const grads = p.combine([1, 1, 1]);
  const names = new Map([...model.namedVariables()].map(([n, v]) => [v, n]));
  model.trainableVariables().forEach((v, i) => {
    const n = names.get(v)!;
    const norm = Math.max(...Array.from(grads[i].dataSync(), Math.abs));
    if (n.endsWith('.lora_a')) assert.equal(norm, 0, n);
    if (n.endsWith('.lora_b') || n.startsWith('adapter.')) assert.ok(norm > 0, n);
  });
  grads.forEach((g) => g.dispose());
  p.dispose();
  model.dispose();
});

for (const [label, partial, choice] of [
  ['full fine-tuning', {}, {}],
  ['LoRA', { lora: { rank: 3, alpha: 6, dropout: 0 } }, {}],
  // Wide image features make the adapter's first layer take the ghost (x·xᵀ ⊙ δ·δᵀ) form per group.
  ['wide image features', { imageFeatureDim: 64, adapterHidden: 32 }, {}],
  ['full fine-tuning, rows split into passes by length', {}, SPLIT],
  ['LoRA, rows split into passes by length', { lora: { rank: 3, alpha: 6, dropout: 0 } }, SPLIT],
  ['wide image features, rows split into passes by length', { imageFeatureDim: 64, adapterHidden: 32 }, SPLIT],
] as const) {
  test(`pairs-only Gram: the diagonal and the requested pairs equal brute force, other blocks are skipped (${label})`, () => {
    const config = tinyConfig(partial);
    const model = createKeyphraseLM(config, TEMPLATE, 7);
    randomizeVariables(model.namedVariables().values(), 8, 0.4);
    const { examples, variants } = batch(config);
    const R = examples.length;
    // AimKP's pattern: each sample's original row paired with its masked rows; rows 6 and 7 stand alone.
    const pairs: [number, number][] = [
      [0, 1],
      [0, 2],
      [3, 4],
      [5, 3],
    ];
    const listed = new Set(pairs.flatMap(([r, s]) => [r * R + s, s * R + r]));
    const rows = examples.map((e, i) => buildRowLayout(e, variants[i], TEMPLATE, config, { compact: true }));
    const plan = choice === SPLIT ? planPasses(config, rows, { passOverheadFlops: 0 }) : [rows.map((_, i) => i)];
    const passOf = new Map(plan.flatMap((p, k) => p.map((r) => [r, k] as const)));
    const part = model.perRowGradientsWith(examples, variants, false, pairs, choice);
    const full = model.perRowGradientsWith(examples, variants, false, undefined, choice);
    const brute = model.perRowGradientsBruteForce(examples, variants, false);
    const groups = [[0, 1, 2], [3, 4, 5], [6], [7]];
    const groupOf = (r: number): number => groups.findIndex((g) => g.includes(r));
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < R; s++) {
        const k = r * R + s;
        if (groupOf(r) !== groupOf(s)) {
          assert.equal(part.gram[k], 0, `(${r},${s}) outside the pairs' groups`);
          continue;
        }
        const scale = Math.sqrt(brute.gram[r * R + r] * brute.gram[s * R + s]);
        // Across passes only the listed pairs are computed: an unlisted cross-pass entry is not a dot product.
        if (passOf.get(r) !== passOf.get(s) && !listed.has(k)) continue;
        assert.ok(
          Math.abs(part.gram[k] - brute.gram[k]) <= 1e-4 * scale,
          `(${r},${s}): ${part.gram[k]} vs brute ${brute.gram[k]}`,
        );
        assert.ok(
          Math.abs(part.gram[k] - full.gram[k]) <= 1e-5 * scale,
          `(${r},${s}): ${part.gram[k]} vs full ${full.gram[k]}`,
        );
      }
    }
    assert.deepEqual(Array.from(part.losses), Array.from(full.losses));
    const w = [1, 0.5, 0, -1, 2, 0.25, 1, 3];
    const cp = part.combine(w);
    const cf = full.combine(w);
    // Pairs-only and full runs may pick different per-site forms (materialised vs ghost), so combine() may take
    // different (equivalent) formulas: equal up to float rounding.
    cp.forEach((g, i) =>
      assert.ok(
        maxRelErr(g.dataSync(), cf[i].dataSync()) < 1e-5,
        `combine variable ${i}: ${maxRelErr(g.dataSync(), cf[i].dataSync())}`,
      ),
    );
    if (choice === SPLIT) {
      // Every listed pair and diagonal entry was checked above; make sure some of them did cross a pass boundary.
      assert.ok(
        pairs.some(([r, s]) => passOf.get(r) !== passOf.get(s)),
        'no pair crosses passes',
      );
    }
    [...cp, ...cf].forEach((g) => g.dispose());
    assert.throws(() => model.perRowGradients(examples, variants, false, [[0, R]]), /outside/);
    [part, full, brute].forEach((p) => p.dispose());
    model.dispose();
  });
}

/**
 * A trainer-shaped batch: each sample's original row with a text-masked and an image-masked copy (strides drawn
 * at random), random post and answer lengths, some samples without an image; pairs as the AimKP step asks.
 */
function randomAimkpBatch(config: LmConfig, seed: number) {
  const rand = seededRandom(seed);
  const examples: EncodedExample[] = [];
  const variants: RowVariant[] = [];
  const pairs: [number, number][] = [];
  for (let s = 0; s < 6; s++) {
    const answer = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => 6 + Math.floor(rand() * 10));
    const e = makeExample(100 + seed * 10 + s, config, 1 + Math.floor(rand() * 9), answer, s % 4 !== 3);
    const orig = examples.length;
    examples.push(e);
    variants.push(variant());
    const strides = [2, 4, 8];
    examples.push(e);
    variants.push(variant({ textStride: strides[Math.floor(rand() * 3)] }));
    pairs.push([orig, orig + 1]);
    if (e.image !== null) {
      examples.push(e);
      variants.push(variant({ imageStride: strides[Math.floor(rand() * 2)] }));
      pairs.push([orig, orig + 2]);
    }
  }
  return { examples, variants, pairs };
}

for (const [label, partial] of [
  ['full fine-tuning', {}],
  ['LoRA', { lora: { rank: 3, alpha: 6, dropout: 0 } }],
  ['wide image features', { imageFeatureDim: 40, adapterHidden: 12 }],
] as const) {
  test(`lean per-row path on a random AimKP batch: Gram entries and combine equal the per-row reference (${label})`, () => {
    const config = tinyConfig(partial);
    const model = createKeyphraseLM(config, TEMPLATE, 11);
    randomizeVariables(model.namedVariables().values(), 12, 0.4);
    const { examples, variants, pairs } = randomAimkpBatch(config, 3);
    const R = examples.length;
    const fast = model.perRowGradientsWith(examples, variants, false, pairs, SPLIT);
    const brute = model.perRowGradientsBruteForce(examples, variants, false);
    assert.ok(passCount(config, examples, variants, SPLIT) >= 3);
    assert.ok(maxRelErr(fast.losses, brute.losses) < 1e-5);
    // Every entry within a sample (diagonal, original × masked, and text × image) is a true dot product; entries
    // between samples are 0.
    const sampleOf = new Int32Array(R);
    let s = -1;
    examples.forEach((e, r) => (sampleOf[r] = r > 0 && e === examples[r - 1] ? s : ++s));
    for (let r = 0; r < R; r++)
      for (let q = 0; q < R; q++) {
        const k = r * R + q;
        if (sampleOf[r] !== sampleOf[q]) {
          assert.equal(fast.gram[k], 0, `(${r},${q})`);
          continue;
        }
        const scale = Math.sqrt(brute.gram[r * R + r] * brute.gram[q * R + q]);
        assert.ok(
          Math.abs(fast.gram[k] - brute.gram[k]) <= 1e-4 * scale,
          `(${r},${q}): ${fast.gram[k]} vs reference ${brute.gram[k]}`,
        );
      }
    const rand = seededRandom(5);
    const w = Array.from({ length: R }, () => rand() * 2 - 0.5);
    const cf = fast.combine(w);
    const cb = brute.combine(w);
    cf.forEach((g, i) => {
      const err = maxRelErr(g.dataSync(), cb[i].dataSync());
      assert.ok(err < 1e-4, `combine variable ${i}: ${err}`);
    });
    [...cf, ...cb].forEach((g) => g.dispose());
    fast.dispose();
    brute.dispose();
    model.dispose();
  });
}

test('lean per-row path is deterministic: the same call twice gives bit-identical Gram entries and combine', () => {
  const config = tinyConfig({ lora: { rank: 2, alpha: 4, dropout: 0.1 }, dropout: 0.1 });
  const model = createKeyphraseLM(config, TEMPLATE, 13);
  randomizeVariables(model.namedVariables().values(), 14, 0.4);
  const { examples, variants, pairs } = randomAimkpBatch(config, 4);
  const w = examples.map((_, i) => 1 / (i + 1));
  const run = () => {
    model.reseedDropout(99);
    const p = model.perRowGradientsWith(examples, variants, true, pairs, SPLIT);
    const grads = p.combine(w);
    const out = { gram: Array.from(p.gram), grads: grads.map((g) => Array.from(g.dataSync())) };
    grads.forEach((g) => g.dispose());
    p.dispose();
    return out;
  };
  assert.deepEqual(run(), run());
  model.dispose();
});
