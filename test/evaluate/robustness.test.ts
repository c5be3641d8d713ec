// Robustness-suite perturbations on feature / token arrays, and the condition list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncodedExample } from '../../models/lm/contract';
import { createRng } from '../../models/evaluate/rng';
import {
  addGaussianNoise,
  featureStd,
  gridStridePositions,
  keepPositionsForRatio,
  keptCount,
  keepTextTokens,
  randomPositions,
  shiftDerangement,
  spreadPositions,
  textStridePositions,
  zeroImageTokens,
} from '../../models/evaluate/perturb';
import {
  buildConditions,
  runSuite,
  swapImages,
  swapTexts,
  robustnessMarkdown,
  robustnessCompareMarkdown,
  type ConditionResult,
  type RobustnessReport,
} from '../../models/evaluate/robustness';

const G = 7;
const C = 3;

/** Item i: every feature value of token t is 1000·i + t + 1 (never 0), text ids 100·i + position. */
function examples(n: number, textLen = 10): EncodedExample[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    id: `e${i}`,
    image: Float32Array.from({ length: G * G * C }, (_, v) => 1000 * i + Math.floor(v / C) + 1),
    text: Int32Array.from({ length: textLen }, (_, p) => 100 * i + p),
    answer: new Int32Array(0),
  }));
}

test('mask ratio 0.5 on a 7×7 grid keeps 49 − ⌊24.5⌋ = 25 tokens (random and spread), others zeroed', () => {
  assert.equal(keptCount(49, 0.5), 25);
  assert.equal(keptCount(49, 0), 49);
  assert.equal(keptCount(49, 0.9), 5); // 49 − 44
  assert.equal(keptCount(10, 0.3), 7); // not 8: 0.3·10 floors to 3
  assert.equal(keptCount(3, 1), 1); // at least one token
  assert.equal(keptCount(0, 0.5), 0);
  for (const pattern of ['random', 'spread'] as const) {
    const keep = keepPositionsForRatio(49, 0.5, pattern, createRng(3));
    assert.equal(keep.length, 25);
    assert.equal(new Set(keep).size, 25);
    assert.ok(keep.every((p, i) => p >= 0 && p < 49 && (i === 0 || p > keep[i - 1])));
    const [e] = examples(1);
    const masked = zeroImageTokens(e.image!, 49, keep);
    let kept = 0;
    for (let t = 0; t < 49; t++) {
      const tok = Array.from(masked.subarray(t * C, (t + 1) * C));
      if (keep.includes(t)) {
        assert.deepEqual(tok, [t + 1, t + 1, t + 1]);
        kept++;
      } else assert.deepEqual(tok, [0, 0, 0]);
    }
    assert.equal(kept, 25);
  }
});

test('spread positions reproduce the stride rule when k = n/s; random positions are seeded', () => {
  assert.deepEqual(spreadPositions(12, 4), [2, 5, 8, 11]);
  assert.deepEqual(textStridePositions(12, 3), [2, 5, 8, 11]);
  assert.deepEqual(spreadPositions(49, 1), [48]);
  assert.deepEqual(randomPositions(20, 5, createRng(9)), randomPositions(20, 5, createRng(9)));
  assert.notDeepEqual(randomPositions(20, 5, createRng(9)), randomPositions(20, 5, createRng(10)));
});

test('training-style strides: text s−1, 2s−1, …; image bottom-right of each s×s block', () => {
  assert.deepEqual(textStridePositions(7, 2), [1, 3, 5]);
  assert.deepEqual(textStridePositions(3, 8), [2]);
  assert.deepEqual(textStridePositions(0, 2), []);
  assert.deepEqual(gridStridePositions(7, 2), [8, 10, 12, 22, 24, 26, 36, 38, 40]); // ⌊7/2⌋² = 9
  assert.deepEqual(gridStridePositions(7, 4), [24]);
  assert.deepEqual(gridStridePositions(7, 8), [48]);
  assert.deepEqual(Array.from(keepTextTokens(Int32Array.from([5, 6, 7, 8]), [1, 3])), [6, 8]);
});

test('swapped image / text always comes from another item', () => {
  for (let n = 2; n <= 9; n++) {
    const d = shiftDerangement(n, createRng(n));
    assert.ok(d.every((j, i) => j !== i));
    assert.equal(new Set(d).size, n); // a permutation: every image used once
  }
  const ex = examples(5);
  ex[2] = { ...ex[2], image: null }; // no image: left alone, never a donor
  const swapped = swapImages(ex, createRng(1));
  assert.equal(swapped[2].image, null);
  for (const i of [0, 1, 3, 4]) {
    const donor = Math.floor((swapped[i].image![0] - 1) / 1000);
    assert.notEqual(donor, i);
    assert.notEqual(donor, 2);
    assert.deepEqual(swapped[i].text, ex[i].text); // text untouched
  }
  const texts = swapTexts(ex, createRng(2));
  texts.forEach((e, i) => assert.notEqual(Math.floor(e.text[0] / 100), i));
});

test('noise σ = 0 leaves features unchanged; σ = 1 adds unit-variance noise; featureStd', () => {
  const [e] = examples(1);
  assert.deepEqual(addGaussianNoise(e.image!, 0, createRng(1)), e.image);
  const zeros = new Float32Array(200_000);
  const noisy = addGaussianNoise(zeros, 2, createRng(5));
  assert.ok(Math.abs(featureStd([noisy]) - 2) < 0.02);
  assert.ok(zeros.every((v) => v === 0)); // input not modified
  assert.equal(featureStd([Float32Array.from([1, 3]), Float32Array.from([1, 3])]), 1);
});

test('the condition list: names, prompt modes and what each condition changes', async () => {
  const ex = examples(4);
  const conds = buildConditions(ex, {
    ratios: [0, 0.5],
    strides: [2],
    sigmas: [0, 1],
    pattern: 'random',
    seed: 1,
    grid: G,
  });
  assert.deepEqual(
    conds.map((c) => `${c.name}:${c.mode}`),
    [
      'clean:multimodal',
      'image-mask@0.5:multimodal',
      'image-stride@2:multimodal',
      'text-mask@0.5:multimodal',
      'text-stride@2:multimodal',
      'text-only:text',
      'image-only:image',
      'image-swap:multimodal',
      'text-swap:multimodal',
      'image-noise@0:multimodal',
      'image-noise@1:multimodal',
    ],
  );
  const by = new Map(conds.map((c) => [c.name, c.build()]));
  assert.deepEqual(by.get('clean'), ex);
  assert.ok(by.get('text-mask@0.5')!.every((e) => e.text.length === 5));
  assert.ok(by.get('image-mask@0.5')!.every((e) => countNonZeroTokens(e.image!) === 25));
  assert.ok(by.get('image-stride@2')!.every((e) => countNonZeroTokens(e.image!) === 9));
  assert.deepEqual(by.get('image-noise@0'), ex);
  // Building twice gives the same draws (seeded per condition).
  assert.deepEqual(conds[1].build(), by.get('image-mask@0.5'));

  // runSuite scores each condition; a decoder that echoes the kept text ids shows the text mask.
  const gold = ex.map((e) => [String(e.text[9])]);
  const results = await runSuite([conds[0], conds[3]], gold, async (batch) =>
    batch.map((e) => Array.from(e.text).reverse().map(String)),
  );
  assert.equal(results[0].aimkp['f1@1'], 1);
  assert.equal(results[0].n, 4);
  const md = robustnessMarkdown({
    run: 'r',
    split: 'test',
    decode: 'greedy',
    maskPattern: 'random',
    seed: 1,
    n: 4,
    featureStd: 1,
    conditions: results,
    createdAt: '',
  });
  // MAP@5 of one hit at rank 1 among 10 predictions: (1 + ½ + ⅓ + ¼ + ⅕)/5.
  assert.match(md, /\| clean \| multimodal \| 100\.00 \| 50\.00 \| 45\.67 \| — \|/);
});

function countNonZeroTokens(f: Float32Array): number {
  let n = 0;
  for (let t = 0; t < G * G; t++) if (f[t * C] !== 0) n++;
  return n;
}

test('--table: reports side by side, union of conditions, warning when the draws differ', () => {
  const cond = (name: string, f1: number): ConditionResult => ({
    name,
    family: 'clean',
    level: null,
    mode: 'multimodal',
    n: 10,
    aimkp: { 'f1@1': f1, 'f1@3': f1 / 2, 'map@5': f1 },
    seconds: 1,
  });
  const rep = (run: string, seed: number, conditions: ConditionResult[]): RobustnessReport => ({
    run,
    split: 'test',
    decode: 'greedy',
    maskPattern: 'random',
    seed,
    n: 10,
    featureStd: 1,
    conditions,
    createdAt: '',
  });
  const a = rep('A', 1, [cond('clean', 0.5), cond('image-swap', 0.25)]);
  const b = rep('B', 1, [cond('clean', 0.6), cond('text-swap', 0.1)]);
  const md = robustnessCompareMarkdown([a, b], 'f1@3');
  assert.match(md, /\| clean \| 25\.00 \| 30\.00 \|/);
  assert.match(md, /\| image-swap \| 12\.50 \| — \|/);
  assert.match(md, /\| text-swap \| — \| 5\.00 \|/);
  assert.doesNotMatch(md, /Warning/);
  assert.match(robustnessCompareMarkdown([a, rep('C', 2, [])], 'f1@1'), /Warning: the reports differ/);
});

test('suite settings: a field given as undefined keeps its default (issue 16: the app sent { ratios: undefined, … })', async () => {
  const { DEFAULT_SUITE, suiteWithDefaults } = await import('../../models/evaluate/robustness');
  const { runRobustness } = await import('../../models/evaluate/robustness-run');
  const holes = { ratios: undefined, strides: undefined, sigmas: undefined, pattern: undefined, seed: undefined };
  assert.deepEqual(suiteWithDefaults(holes), DEFAULT_SUITE);
  assert.deepEqual(suiteWithDefaults({ strides: [3], seed: 9 }), { ...DEFAULT_SUITE, strides: [3], seed: 9 });
  // The suite is checked before the run is opened: with holes it must pass the check and fail on the folder instead
  // (it used to throw "TypeError: Cannot read properties of undefined (reading 'every')" at checkSuite).
  await assert.rejects(
    runRobustness({ runDir: '/nonexistent-aimkp-run', suite: holes, out: null }),
    (err: Error & { code?: string }) => {
      assert.doesNotMatch(err.message, /TypeError|reading 'every'/);
      assert.equal(err.code, 'NOT_FOUND');
      return true;
    },
  );
});
