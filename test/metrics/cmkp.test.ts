import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  computeCmkpScores,
  formatCmkpResultCsv,
  formatCmkpResultText,
  readGold,
  readPredictions,
  scoreCmkp,
} from '../../models/metrics';

const identity = (w: string) => w;
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('predictions are de-duplicated; P@k divides by min(k, #predictions)', () => {
  const s = computeCmkpScores([['a']], [['a', 'a', 'b']], { stem: identity });
  const one = s.perSample[0].all;
  assert.equal(one.numPredictions, 2);
  close(one.precision[1], 1);
  close(one.precision[3], 1 / 2);
  close(one.recall[3], 1);
  assert.equal(s.all.filteredPredictions, 2);
  assert.equal(s.uniquePredictions, 2);
});

test('targets are de-duplicated before recall', () => {
  const s = computeCmkpScores([['a', 'a', 'b']], [['a']], { stem: identity });
  close(s.perSample[0].all.recall[1], 1 / 2);
  assert.equal(s.all.uniqueTargets, 2);
});

test('predictions containing <unk>, "," or "." are dropped', () => {
  const s = computeCmkpScores([['a b']], [['<unk>', 'x .', 'c , d', 'a b']], { stem: identity });
  assert.equal(s.perSample[0].all.numPredictions, 1);
  close(s.all.at[1].precision, 1);
});

test('an empty phrase is kept like the reference script does (one empty word, counted absent)', () => {
  const s = computeCmkpScores([['a']], [['']], { stem: identity, sources: ['a'] });
  const one = s.perSample[0].all;
  assert.equal(one.numPredictions, 1);
  assert.equal(one.precision[1], 0);
  // '' is a substring of every target, so the script's α-NDCG rewards it.
  assert.equal(one.alphaNdcg[1], 1);
  assert.equal(s.absent?.filteredPredictions, 1);
});

test('reported macro F1@k is the harmonic mean of the averaged P and R, not the mean of F1', () => {
  // s1: P@1 = 1, R@1 = 1.  s2: P@1 = 1, R@1 = 1/4 (F1 = 0.4).  Mean of F1 would be 0.7.
  const s = computeCmkpScores([['a'], ['b', 'c', 'd', 'e']], [['a'], ['b']], { stem: identity });
  close(s.all.at[1].precision, 1);
  close(s.all.at[1].recall, 0.625);
  close(s.all.at[1].f1, (2 * 0.625) / 1.625);
  // Micro: 2 matches / 2 predictions, 2 matches / 5 targets.
  close(s.all.at[1].microRecall, 2 / 5);
});

test("AP@k sums P@i over hit ranks and divides by #targets; NDCG uses the predictions' own ideal order", () => {
  const one = computeCmkpScores([['a', 'b', 'c']], [['a', 'x', 'b']], { stem: identity }).perSample[0].all;
  close(one.ap[1], 1 / 3);
  close(one.ap[3], (1 + 2 / 3) / 3);
  close(one.ndcg[1], 1);
  close(one.ndcg[3], (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)));
  // No predictions: every score is 0.
  const none = computeCmkpScores([['a']], [[]], { stem: identity }).perSample[0].all;
  assert.deepEqual([none.precision[5], none.ap[5], none.ndcg[5], none.alphaNdcg[5]], [0, 0, 0, 0]);
});

test('present/absent split on stemmed source words; samples without such targets are not scored for it', () => {
  const s = scoreCmkp([['run shoe', 'summer'], ['winter']], [['running shoes', 'winter', 'summer'], ['winter']], {
    sources: ['I love Running shoes today', 'snow'],
  });
  assert.equal(s.present?.samples, 1);
  assert.equal(s.absent?.samples, 2);
  const p = s.perSample[0].present;
  assert.ok(p);
  close(p.precision[1], 1);
  close(p.recall[1], 1);
  const a = s.perSample[0].absent;
  assert.ok(a);
  assert.equal(a.numPredictions, 2); // winter, summer
  close(a.precision[1], 0);
  close(a.precision[3], 1 / 2);
  close(a.recall[3], 1);
  assert.equal(s.perSample[1].present, undefined);
  // Without sources there is no split.
  assert.equal(scoreCmkp([['a']], [['a']]).present, null);
});

test("ACCEPTANCE: CMKP authors' scores of best_pred.txt, every number of their result.txt and result.csv", () => {
  const gold = readGold('data/cmkp/test_src.txt');
  const pred = readPredictions('data/cmkp/best_pred.txt', gold.samples);
  assert.equal(pred.separator, ';');
  const s = scoreCmkp(
    gold.samples.map((g) => g.keyphrases),
    pred.predictions,
    { sources: gold.samples.map((g) => g.text) },
  );
  assert.equal(s.all.at[1].f1.toFixed(5), '0.47130');
  assert.equal(s.all.at[3].f1.toFixed(5), '0.33224');
  assert.equal(s.all.at[5].map.toFixed(5), '0.52261');
  assert.equal(s.all.at[5].ndcg.toFixed(5), '0.58257');
  assert.equal(formatCmkpResultCsv(s), readFileSync('data/cmkp/best_pred.result.csv', 'utf8'));
  assert.equal(formatCmkpResultText(s), readFileSync('data/cmkp/best_pred.result.txt', 'utf8'));
});
