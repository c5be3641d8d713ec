import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aimkpSample, computeAimkpScores, normalizePhrase, scoreAimkp } from '../../models/metrics';

const identity = (w: string) => w;
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('gold {a}, pred [a, b]: MAP@5 = 0.75 (cumulative-overlap AP), F1@K with P = matches / K', () => {
  const s = computeAimkpScores([['a']], [['a', 'b']], { stem: identity });
  close(s.map[5], 0.75);
  close(s.map[1], 1);
  close(s.f1[1], 1);
  close(s.f1[3], 0.5); // P = 1/3, R = 1
  close(s.f1[5], 1 / 3); // P = 1/5, R = 1
  close(s.precision[5], 0.2);
});

test('an empty output is one empty prediction: all scores 0, never NaN', () => {
  const s = computeAimkpScores([['a', 'b']], [[]], { stem: identity });
  for (const k of [1, 3, 5]) {
    assert.equal(s.f1[k], 0);
    assert.equal(s.map[k], 0);
  }
  // An empty phrase never matches a real keyphrase either.
  const e = computeAimkpScores([['a']], [['']], { stem: identity });
  assert.equal(e.map[5], 0);
});

test('no de-duplication before the top-K cut', () => {
  const one = aimkpSample(['a', 'b'], ['a', 'a', 'b'], [1, 2, 3]);
  assert.equal(one.matches[2], 1); // pred[:2] = [a, a]
  close(one.precision[2], 0.5);
  assert.equal(one.matches[3], 2);
  close(one.f1[3], 0.8); // P = 2/3, R = 1
  close(one.ap[3], (1 / 1 + 1 / 2 + 2 / 3) / 3);
  // A repeated hit is counted once in the matches.
  const rep = aimkpSample(['a'], ['a', 'a', 'a'], [3]);
  assert.equal(rep.matches[3], 1);
  close(rep.precision[3], 1 / 3);
  close(rep.ap[3], (1 + 1 / 2 + 1 / 3) / 3);
});

test('fewer than K predictions: P still divides by K, MAP by min(len(pred), K)', () => {
  const s = aimkpSample(['a', 'b', 'c'], ['a', 'x'], [5]);
  close(s.precision[5], 0.2);
  close(s.recall[5], 1 / 3);
  close(s.f1[5], 0.25);
  close(s.ap[5], (1 + 1 / 2) / 2);
});

test('recall divides by len(gold), scores are the mean over samples', () => {
  const s = computeAimkpScores([['a', 'b'], ['c']], [['a'], ['x', 'c']], { stem: identity, ks: [1, 2] });
  // sample 1: K=1 P=1 R=1/2 F1=2/3; sample 2: K=1 P=0 → 0.  K=2: s1 P=1/2 R=1/2 F1=1/2; s2 P=1/2 R=1 F1=2/3.
  close(s.f1[1], (2 / 3 + 0) / 2);
  close(s.f1[2], (1 / 2 + 2 / 3) / 2);
  close(s.recall[1], 0.25);
  // MAP@2: s1 n=1 → 1; s2 n=2 → (0 + 1/2) / 2.
  close(s.map[2], (1 + 0.25) / 2);
  assert.equal(s.n, 2);
  assert.equal(s.perSample.length, 2);
});

test('stemming equivalence with the NLTK Porter stemmer: "Running Shoes" matches "run shoe"', () => {
  assert.equal(normalizePhrase('Running  Shoes '), 'run shoe');
  assert.equal(normalizePhrase('aging'), 'age'); // an NLTK-mode stem (the 1980 algorithm gives "ag")
  const s = scoreAimkp([['run shoe', 'summer vibes']], [['running shoes', 'summer vibe']]);
  close(s.f1[1], 2 / 3); // P = 1, R = 1/2
  assert.equal(s.perSample[0].matches[5], 2);
  // Without stemming they would not match.
  const raw = computeAimkpScores([['run shoe']], [['running shoes']], { stem: identity });
  assert.equal(raw.f1[1], 0);
});

test('mismatched sample counts and bad ks are errors', () => {
  assert.throws(() => computeAimkpScores([['a']], [], { stem: identity }), /1 gold samples but 0 predictions/);
  assert.throws(() => computeAimkpScores([['a']], [['a']], { stem: identity, ks: [0] }), /bad ks/);
});
