import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StrideOptions } from '../../models/run/train-config';
import { StrideState } from '../../models/train/stride-state';
import { Rng, hashSeed } from '../../models/train/rng';

const PROGRESSIVE: StrideOptions = { rule: 'progressive', fixedStride: 2, warmup: true };

/** The strides a sample sees over `epochs` visits, given the filter's answer at each visit. */
function visits(options: StrideOptions, accepts: boolean[]): { strides: number[]; frozen: boolean[] } {
  const s = new StrideState(1, options);
  const strides: number[] = [];
  const frozen: boolean[] = [];
  for (const a of accepts) {
    strides.push(s.get('text', 0));
    s.update('text', 0, a);
    frozen.push(s.isFrozen('text', 0));
  }
  return { strides, frozen };
}

test('always accepted: 4 epochs see strides 1, 2, 4, 8 (and 16 next)', () => {
  const s = new StrideState(3, PROGRESSIVE);
  const seen: number[][] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    seen.push([0, 1, 2].map((i) => s.get('image', i)));
    for (let i = 0; i < 3; i++) s.update('image', i, true);
  }
  assert.deepEqual(seen, [
    [1, 1, 1],
    [2, 2, 2],
    [4, 4, 4],
    [8, 8, 8],
  ]);
  assert.equal(s.get('image', 0), 16, 'no upper bound: the mask functions apply the last-token rule');
  assert.equal(s.frozenCount('image'), 0);
  // The text map is independent of the image map.
  assert.deepEqual(Array.from(s.text), [1, 1, 1]);
});

test('warm-up visit ignores the filter answer (1 → 2, no check, no freeze)', () => {
  const r = visits(PROGRESSIVE, [false, true]);
  assert.deepEqual(r.strides, [1, 2]);
  assert.deepEqual(r.frozen, [false, false]);
});

test('rejected at s=2 stays 2 and is frozen; acceptance afterwards does not move it', () => {
  const r = visits(PROGRESSIVE, [true, false, true, true, true]);
  assert.deepEqual(r.strides, [1, 2, 2, 2, 2]);
  assert.deepEqual(r.frozen, [false, true, true, true, true]);
});

test('rejected at s=8 halves to 4 and freezes; rejected again stays 4', () => {
  const r = visits(PROGRESSIVE, [true, true, true, false, false, true]);
  assert.deepEqual(r.strides, [1, 2, 4, 8, 4, 4]);
  assert.equal(r.frozen[2], false);
  assert.equal(r.frozen[3], true);
});

test('no warm-up starts at 2 and checks from the first visit', () => {
  const r = visits({ ...PROGRESSIVE, warmup: false }, [true, true, false, true]);
  assert.deepEqual(r.strides, [2, 4, 8, 4]);
  assert.deepEqual(r.frozen, [false, false, true, true]);
});

test('linear rule: 1, 2, 3, 4, then −1 and frozen on reject', () => {
  const r = visits({ rule: 'linear', fixedStride: 2, warmup: true }, [true, true, true, false, true]);
  assert.deepEqual(r.strides, [1, 2, 3, 4, 3]);
  assert.deepEqual(r.frozen, [false, false, false, true, true]);
});

test('fixed rule: warm-up 1, then always s (rejections neither move nor freeze it)', () => {
  const r = visits({ rule: 'fixed', fixedStride: 4, warmup: true }, [true, false, true, false]);
  assert.deepEqual(r.strides, [1, 4, 4, 4]);
  assert.deepEqual(r.frozen, [false, false, false, false]);
  assert.deepEqual(visits({ rule: 'fixed', fixedStride: 2, warmup: false }, [true, true]).strides, [2, 2]);
});

test('histogram, frozen count and JSON round trip', () => {
  const s = new StrideState(4, PROGRESSIVE);
  for (let i = 0; i < 4; i++) s.update('text', i, true); // all → 2
  s.update('text', 0, true); // 4
  s.update('text', 1, false); // 2 frozen
  assert.deepEqual(s.histogram('text'), { '2': 3, '4': 1 });
  assert.equal(s.frozenCount('text'), 1);
  const back = StrideState.fromJSON(JSON.parse(JSON.stringify(s.toJSON())), PROGRESSIVE);
  assert.deepEqual(back.toJSON(), s.toJSON());
  back.update('text', 1, true);
  assert.equal(back.get('text', 1), 2, 'frozen flag survives the round trip');
  assert.throws(() => StrideState.fromJSON({ ...s.toJSON(), strideImage: [1] }, PROGRESSIVE), /strideImage/);
});

test('xoshiro128** matches the reference output for state [1, 2, 3, 4]', () => {
  const rng = Rng.fromState([1, 2, 3, 4]);
  const out = Array.from({ length: 6 }, () => rng.nextU32());
  assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('RNG state round trip continues the same stream; permutations are permutations', () => {
  const a = Rng.fromSeed(42);
  a.permutation(10);
  const saved = a.state();
  const p1 = a.permutation(50);
  const b = Rng.fromState(saved);
  assert.deepEqual(b.permutation(50), p1);
  assert.deepEqual(
    [...p1].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.notDeepEqual(Rng.fromSeed(1).permutation(20), Rng.fromSeed(2).permutation(20));
  assert.equal(hashSeed(1, 2, 3), hashSeed(1, 2, 3));
  assert.notEqual(hashSeed(1, 2, 3), hashSeed(1, 3, 2));
});
