// More English for the base LM (issue 19): a dictd dictionary (GCIDE's format) read from a fixture built here —
// base64 offsets, gzip body, metadata and alias lines — tidied into prose, and merged into the pretraining corpus
// after WordNet with train-vocabulary headwords first; plus the large base preset's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countParameters } from '../../models/lm/config';
import { dictdNumber, readDictd, tidyGcideBody } from '../../models/train/dictd-corpus';
import { mergeOverride, validateConfig } from '../../models/train/config-resolve';
import { buildCorpus, parseCorpus } from '../../models/train/pretrain-corpus';
import { pretrainDefaults, PRETRAIN_SIZES } from '../../models/train/pretrain';
import type { TrainConfig } from '../../models/run/train-config';
import type { ManifestItem } from '../../models/data/manifest-types';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const enc = (n: number) => {
  let s = '';
  do {
    s = B64[n % 64] + s;
    n = Math.floor(n / 64);
  } while (n > 0);
  return s;
};

/** A dictd dictionary "gcide" in `dir` with GCIDE-style entries; returns nothing (the test reads it back). */
function writeFixture(dir: string): void {
  const entries: [string[], string][] = [
    [['00-database-info'], 'This file was converted from the original database.\n'],
    [
      ['Frog'],
      'Frog \\Frog\\, n. [OE. frogge, AS. frogga.]\n   1. (Zo["o]l.) An amphibian of the order {Anura}; it leaps.\n   [1913 Webster]\n\n   Syn: toad, anuran\n        [WordNet 1.5]\n',
    ],
    [['Pond', 'Ponds'], 'Pond \\Pond\\, n.\n   A body of still water, smaller than a {lake}.\n   [1913 Webster]\n'],
    [['Zymurgy'], 'Zymurgy \\Zy"mur*gy\\, n.\n   The <i>art</i> of fermentation.\n'],
  ];
  let body = '';
  let index = '';
  for (const [heads, text] of entries) {
    const off = Buffer.byteLength(body);
    const len = Buffer.byteLength(text);
    for (const h of heads) index += `${h}\t${enc(off)}\t${enc(len)}\n`;
    body += text;
  }
  writeFileSync(join(dir, 'gcide.index'), index);
  writeFileSync(join(dir, 'gcide.dict.dz'), gzipSync(Buffer.from(body)));
}

test('dictd numbers: base64 digits, most significant first', () => {
  assert.equal(dictdNumber('A', 'x'), 0);
  assert.equal(dictdNumber('B', 'x'), 1);
  assert.equal(dictdNumber('BA', 'x'), 64);
  assert.equal(dictdNumber('Bd', 'x'), 64 + 29);
  assert.equal(dictdNumber('BDt', 'x'), 64 * 64 + 3 * 64 + 45);
  assert.throws(
    () => dictdNumber('a-b', 'gcide.index: line 3'),
    /gcide.index: line 3: "a-b" is not a dictd base64 number/,
  );
});

test('GCIDE fixture: entries read by offset, metadata and aliases skipped, markup tidied into prose', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-dictd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFixture(dir);
  const entries = readDictd(dir, 'gcide');
  assert.deepEqual(entries, [
    { headword: 'Frog', text: '1. (Zool.) An amphibian of the order Anura; it leaps.' },
    { headword: 'Pond', text: 'A body of still water, smaller than a lake.' },
    { headword: 'Zymurgy', text: 'The art of fermentation.' },
  ]);
  assert.equal(tidyGcideBody('X \\X\\\n   See {shook}.\n'), 'See shook.');
  assert.throws(() => readDictd(join(dir, 'nope')), /no dictd dictionary "gcide".*dict-gcide/);
  writeFileSync(join(dir, 'gcide.index'), 'Frog\tA\n');
  assert.throws(() => readDictd(dir), /gcide.index: line 1: expected "headword<TAB>offset<TAB>length"/);
  writeFileSync(join(dir, 'gcide.index'), 'Frog\tA\t/////\n');
  assert.throws(() => readDictd(dir), /gcide.index: line 1: entry ends at byte \d+, past the dictionary's/);
});

test('corpus: GCIDE documents after WordNet, train-word headwords first, capped; corpus.jsonl round trip', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-dictd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFixture(dir);
  const items: ManifestItem[] = [{ id: 'a', split: 'train', text: 'green pond', image: null, keyphrases: ['pond'] }];
  const synsets = [
    { lemmas: ['pond'], gloss: 'a small lake' },
    { lemmas: ['cello'], gloss: 'a bowed instrument' },
  ];
  const dictEntries = readDictd(dir);
  const docs = buildCorpus(items, synsets, { maxWordnetDocs: null, dictEntries });
  assert.deepEqual(
    docs.map((d) => ('text' in d ? `${d.source}|${d.text}` : `${d.source}|${d.tags.join(';')}`)),
    [
      'wordnet|pond: a small lake',
      'gcide|Pond: A body of still water, smaller than a lake.', // "pond" is a train word: first
      'gcide|Frog: 1. (Zool.) An amphibian of the order Anura; it leaps.',
      'gcide|Zymurgy: The art of fermentation.',
      'train-text|green pond',
      'train-tags|pond',
    ],
  );
  const capped = buildCorpus(items, synsets, { maxWordnetDocs: null, wordnetAll: true, dictEntries, maxDictDocs: 1 });
  assert.deepEqual(
    capped.filter((d) => d.source !== 'train-text' && d.source !== 'train-tags').map((d) => d.source),
    ['wordnet', 'wordnet', 'gcide'],
  );
  const jsonl = docs.map((d) => JSON.stringify(d)).join('\n');
  assert.deepEqual(parseCorpus(jsonl, 'corpus.jsonl'), docs);
  // Without the option nothing changes (runs pretrained before GCIDE keep their corpus).
  assert.equal(buildCorpus(items, synsets, { maxWordnetDocs: null }).filter((d) => d.source === 'gcide').length, 0);
});

test('the large base preset: a valid config, d 256 × 4 layers, 16k vocabulary, positions for the 16×16 grid', () => {
  const config = validateConfig(
    mergeOverride(
      pretrainDefaults() as unknown as Record<string, unknown>,
      PRETRAIN_SIZES.large,
      'size',
    ) as unknown as TrainConfig,
    'large',
  );
  assert.equal(config.encoder, 'mobilenet-v2-s16@256');
  assert.equal(config.maxVocab, 16000);
  const lm = { ...config.model, vocabSize: 16000, maxPositions: 350, imageFeatureDim: 136, imageGrid: 16 };
  const small = {
    ...pretrainDefaults().model,
    vocabSize: 8000,
    maxPositions: 135,
    imageFeatureDim: 1792,
    imageGrid: 7,
  };
  const large = countParameters(lm).total;
  // 16000·256·2 (embeddings + head) + 4 blocks of 789,760 + positions + adapter: ≈ 11.5 M, 4× the small base (2.8 M with its Conv_1 adapter).
  assert.ok(large > 11e6 && large < 12e6, `${large}`);
  assert.ok(large > 4 * countParameters(small).total, `${countParameters(small).total}`);
});
