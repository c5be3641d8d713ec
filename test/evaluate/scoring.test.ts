// Predictions files and the averaging of scores over decoding repeats, on hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPredictionFile, writePredictionFile, type PredictionRecord } from '../../models/evaluate/prediction-file';
import { scoreRepeats, perItemAimkp } from '../../models/evaluate/score-predictions';
import { decodeOptionsFor, PAPER_TEST_DECODE } from '../../models/evaluate/decode-settings';
import { decodeSettingsFromFlags } from '../../models/cli/decode-flags';
import { CoreError } from '../../models/core-error';
import { tempDir } from '../fixtures/temp-dirs';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

// Words of ≤ 2 letters are left alone by the Porter stemmer, so matches are exact here.
const records: PredictionRecord[] = [
  {
    id: 'i1',
    gold: ['aa', 'bb'],
    predictions: [
      ['aa', 'cc', 'dd'],
      ['cc', 'aa'],
    ],
  },
  { id: 'i2', gold: ['xx'], predictions: [['xx'], []] },
];

test('scores are computed per repeat, then averaged over repeats (AimKP convention)', () => {
  const s = scoreRepeats(records);
  assert.equal(s.n, 2);
  assert.equal(s.repeats, 2);
  // repeat 1: F1@1 item1 = 2·1·½/(1½) = 2/3, item2 = 1 → 5/6; repeat 2: both 0.
  close(s.aimkpPerRepeat[0]['f1@1'], 5 / 6);
  close(s.aimkpPerRepeat[1]['f1@1'], 0);
  close(s.aimkp['f1@1'], 5 / 12);
  // F1@3: repeat 1 = (0.4 + 0.5)/2, repeat 2 = (0.4 + 0)/2.
  close(s.aimkpPerRepeat[0]['f1@3'], 0.45);
  close(s.aimkpPerRepeat[1]['f1@3'], 0.2);
  close(s.aimkp['f1@3'], 0.325);
  // MAP@5: repeat 1 item1 = (1 + ½ + ⅓)/3, item2 = 1; repeat 2 item1 = (0 + ½)/2, item2 (empty output) = 0.
  close(s.aimkpPerRepeat[0]['map@5'], ((1 + 1 / 2 + 1 / 3) / 3 + 1) / 2);
  close(s.aimkpPerRepeat[1]['map@5'], 0.125);
  close(s.aimkp['map@5'], (((1 + 1 / 2 + 1 / 3) / 3 + 1) / 2 + 0.125) / 2);
});

test('CMKP convention per repeat: macro F1 = harmonic mean of averaged P and R', () => {
  const s = scoreRepeats(records);
  // repeat 1 @1: P = (1 + 1)/2 = 1, R = (½ + 1)/2 = ¾ → F1 = 2·¾/(1¾) = 6/7. repeat 2: nothing right → 0.
  close(s.cmkpPerRepeat[0]['f1@1'], 6 / 7);
  close(s.cmkpPerRepeat[1]['f1@1'], 0);
  close(s.cmkp['f1@1'], 3 / 7);
});

test('per-item F1@3 is averaged over repeats', () => {
  close(perItemAimkp(records[0]).f1[3], 0.4);
  close(perItemAimkp(records[1]).f1[3], 0.25); // (0.5 + 0)/2
});

test('predictions JSONL round-trips; bad lines, duplicates and wrong repeat counts are reported and skipped', () => {
  const dir = tempDir('aimkp-pred-');
  const file = join(dir, 'p.jsonl');
  writePredictionFile(file, records);
  assert.deepEqual(readPredictionFile(file).records, records);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  writeFileSync(
    file,
    [
      lines[0],
      '{not json',
      JSON.stringify({ id: 'i3', gold: 'aa', predictions: [[]] }),
      JSON.stringify({ id: 'i4', gold: ['aa'], predictions: [['aa']] }),
      lines[0],
      '',
      JSON.stringify({ id: 'i5', gold: ['aa'], predictions: [] }),
      lines[1],
    ].join('\n'),
  );
  const f = readPredictionFile(file);
  assert.deepEqual(
    f.records.map((r) => r.id),
    ['i1', 'i2'],
  );
  assert.equal(f.repeats, 2);
  assert.deepEqual(
    f.issues.map((i) => [i.line, i.field ?? null]),
    [
      [2, null],
      [3, 'gold'],
      [4, 'predictions'], // 1 repeat, expected 2
      [5, 'id'], // duplicate
      [7, 'predictions'], // empty
    ],
  );
  assert.throws(() => readPredictionFile(join(dir, 'nope.jsonl')), CoreError);
});

test('decode flags: paper defaults, per-repeat seeds, validation', () => {
  const d = decodeSettingsFromFlags('predict', {});
  assert.deepEqual(d, PAPER_TEST_DECODE);
  assert.deepEqual(decodeOptionsFor(d, 2), {
    strategy: 'beam-sample',
    beamSize: 5,
    temperature: 0.5,
    maxNewTokens: 40,
    seed: 3,
  });
  const g = decodeSettingsFromFlags('predict', { decode: 'greedy' });
  assert.equal(g.repeats, 1);
  assert.equal(g.beamSize, 1);
  assert.equal(decodeSettingsFromFlags('predict', { decode: 'beam', beam: '3' }).beamSize, 3);
  assert.throws(() => decodeSettingsFromFlags('predict', { decode: 'nucleus' }), /--decode must be one of/);
  assert.throws(() => decodeSettingsFromFlags('predict', { repeats: '0' }), /--repeats/);
  assert.throws(() => decodeSettingsFromFlags('predict', { temperature: 'hot' }), /--temperature must be a number/);
});
