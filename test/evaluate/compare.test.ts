// `aimkp compare` over small hand-made prediction files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRecords } from '../../models/evaluate/compare';
import { comparisonMarkdown } from '../../models/cli/compare-table';
import type { PredictionRecord } from '../../models/evaluate/prediction-file';
import { compareCommand } from '../../models/cli/commands/compare';
import { tempDir } from '../fixtures/temp-dirs';

const A: PredictionRecord[] = [
  { id: 'c1', gold: ['aa', 'bb'], predictions: [['aa', 'bb']] }, // F1@3 = 2·⅔·1/(⅔+1) = 0.8
  { id: 'c2', gold: ['cc'], predictions: [['dd']] }, // 0
  { id: 'c3', gold: ['ee'], predictions: [['ee']] }, // 0.5
  { id: 'c4', gold: ['ff'], predictions: [['ff']] }, // 0.5
  { id: 'onlyA', gold: ['gg'], predictions: [['gg']] },
];
const B: PredictionRecord[] = [
  { id: 'c2', gold: ['cc'], predictions: [['cc']] }, // 0.5
  { id: 'c1', gold: ['aa', 'bb'], predictions: [['aa']] }, // P=⅓ R=½ → 0.4
  { id: 'c3', gold: ['ee'], predictions: [['ee', 'zz']] }, // 0.5 (P uses K=3 always)
  { id: 'c4', gold: ['ff'], predictions: [['qq']] }, // 0
  { id: 'onlyB', gold: ['hh'], predictions: [['hh']] },
];

test('per-case F1@3, win/loss/tie counts and the id join', () => {
  const c = compareRecords(A, B, { labelA: 'A', labelB: 'B' });
  assert.deepEqual(
    c.cases.map((k) => k.id),
    ['c1', 'c2', 'c3', 'c4'],
  ); // A's order
  assert.ok(Math.abs(c.cases[0].f1at3A - 0.8) < 1e-12);
  assert.ok(Math.abs(c.cases[0].f1at3B - 0.4) < 1e-12);
  assert.deepEqual(
    c.cases.map((k) => k.outcome),
    ['A', 'B', 'tie', 'A'],
  );
  assert.equal(c.summary.aBetter, 2);
  assert.equal(c.summary.bBetter, 1);
  assert.equal(c.summary.ties, 1);
  assert.ok(Math.abs(c.summary.meanF1at3A - 1.8 / 4) < 1e-12);
  assert.ok(Math.abs(c.summary.meanF1at3B - 1.4 / 4) < 1e-12);
  assert.deepEqual(c.summary.onlyInA, ['onlyA']);
  assert.deepEqual(c.summary.onlyInB, ['onlyB']);
});

test('--only filters and sorts by the size of the difference; --limit caps rows, not the summary', () => {
  const wins = compareRecords(A, B, { labelA: 'A', labelB: 'B', filter: 'wins' });
  assert.deepEqual(
    wins.cases.map((k) => k.id),
    ['c4', 'c1'],
  ); // |0.5| before |0.4|
  assert.deepEqual(
    compareRecords(A, B, { labelA: 'A', labelB: 'B', filter: 'losses' }).cases.map((k) => k.id),
    ['c2'],
  );
  const diff = compareRecords(A, B, { labelA: 'A', labelB: 'B', filter: 'diff', limit: 2 });
  assert.deepEqual(
    diff.cases.map((k) => k.id),
    ['c2', 'c4'],
  ); // 0.5, 0.5 (data order), then 0.4 cut
  assert.equal(diff.summary.common, 4);
});

test('repeats are averaged per case', () => {
  const a: PredictionRecord[] = [{ id: 'x', gold: ['aa'], predictions: [['aa'], ['bb']] }]; // (0.5 + 0)/2
  const b: PredictionRecord[] = [{ id: 'x', gold: ['aa'], predictions: [['bb'], ['bb']] }];
  const c = compareRecords(a, b, { labelA: 'a', labelB: 'b' });
  assert.equal(c.cases[0].f1at3A, 0.25);
  assert.equal(c.cases[0].outcome, 'A');
});

test('the CLI reads two run folders (Markdown and --json), with texts from the data set', async () => {
  const root = tempDir('aimkp-compare-');
  const write = (run: string, recs: PredictionRecord[]) => {
    mkdirSync(join(root, run, 'predictions'), { recursive: true });
    writeFileSync(join(root, run, 'config.json'), JSON.stringify({ preset: run, seed: 1 }));
    writeFileSync(
      join(root, run, 'predictions', 'test.multimodal.greedy.jsonl'),
      recs.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
  };
  write('runA', A);
  write('runB', B);
  const data = join(root, 'data');
  mkdirSync(data);
  const item = (id: string, text: string) =>
    JSON.stringify({ id, split: 'test', text, image: null, keyphrases: ['aa'] });
  writeFileSync(
    join(data, 'manifest.jsonl'),
    [item('c1', 'first | post ' + 'long '.repeat(30)), item('c2', 'second post')].join('\n') + '\n',
  );

  const out: string[] = [];
  const orig = console.log;
  console.log = (s: string) => out.push(s);
  try {
    assert.equal(
      await compareCommand([join(root, 'runA'), join(root, 'runB'), '--data', data, '--decode', 'greedy']),
      0,
    );
    assert.equal(await compareCommand([join(root, 'runA'), join(root, 'runB'), '--only', 'losses', '--json']), 0);
  } finally {
    console.log = orig;
  }
  const md = out[0];
  assert.match(md, /\| c1 \| first \\\| post long/);
  assert.match(md, /…/); // truncated text
  assert.match(md, /\| c2 \| second post \| cc \| dd \| cc \| 0\.0 \| 50\.0 \|/);
  assert.match(md, /A better 2, B better 1, tie 1/);
  const json = JSON.parse(out[1]);
  assert.deepEqual(
    json.cases.map((k: { id: string }) => k.id),
    ['c2'],
  );
  assert.equal(json.summary.bBetter, 1);
});

test('markdown escapes pipes in predictions', () => {
  const c = compareRecords(
    [{ id: 'p', gold: ['a|b'], predictions: [['a|b']] }],
    [{ id: 'p', gold: ['a|b'], predictions: [[]] }],
    { labelA: 'A', labelB: 'B' },
  );
  assert.match(comparisonMarkdown(c), /\| p \| {2}\| a\\\|b \| a\\\|b \| {2}\|/);
});
