import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { datasetStats, formatStatsTable, isPresent, matchWords } from '../../models/data/dataset-stats';
import { loadDataset } from '../../models/data/load-dataset';
import { tempDir } from '../fixtures/temp-dirs';

async function handMadeSet(): Promise<string> {
  const dir = tempDir('aimkp-stats-');
  await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .png()
    .toFile(join(dir, 'a.png'));
  const lines = [
    {
      id: '1',
      split: 'train',
      text: 'New running shoes arrived today!',
      image: 'a.png',
      keyphrases: ['running shoe', 'Sale'],
    },
    {
      id: '2',
      split: 'train',
      text: 'big  sale at the harbour',
      image: null,
      keyphrases: ['sale', 'red harbour', 'running shoe'],
    },
    { id: '3', split: 'test', text: 'harbour at night', image: null, keyphrases: ['night harbour'] },
    { id: '4', split: 'test', text: 'skipped', image: null, keyphrases: [' '] },
  ];
  await writeFile(join(dir, 'manifest.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return dir;
}

test('stats on a hand-made set match hand-computed numbers', async () => {
  const ds = await loadDataset(await handMadeSet());
  const st = datasetStats(ds.items, ds.summary);
  // train: texts 5 + 5 tokens; 5 keyphrases of 2,1,1,2,2 words; vocab {running shoe, sale, red harbour};
  // present: "running shoe" in item 1 (stems run shoe), "sale" in item 2 → 2 of 5.
  assert.deepEqual(st.train, {
    size: 2,
    meanTextTokens: 5,
    meanKeyphrases: 2.5,
    meanKeyphraseWords: 1.6,
    vocabulary: 3,
    presentShare: 0.4,
    withImage: 1,
    skipped: 0,
  });
  // test: "night harbour" is not present ("harbour at night" has the words, not the sequence); item 4 skipped.
  assert.deepEqual(st.test, {
    size: 1,
    meanTextTokens: 3,
    meanKeyphrases: 1,
    meanKeyphraseWords: 2,
    vocabulary: 1,
    presentShare: 0,
    withImage: 0,
    skipped: 1,
  });
  assert.deepEqual(st.valid, {
    size: 0,
    meanTextTokens: 0,
    meanKeyphrases: 0,
    meanKeyphraseWords: 0,
    vocabulary: 0,
    presentShare: 0,
    withImage: 0,
    skipped: 0,
  });
  assert.equal(st.all.size, 3);
  assert.equal(st.all.meanTextTokens, 13 / 3);
  assert.equal(st.all.meanKeyphrases, 2);
  assert.equal(st.all.meanKeyphraseWords, 10 / 6);
  assert.equal(st.all.vocabulary, 4);
  assert.equal(st.all.presentShare, 2 / 6);
  assert.equal(st.all.skipped, 1);

  const table = formatStatsTable(st).split('\n');
  assert.equal(table.length, 4, 'header, train, test, all (empty valid left out)');
  assert.match(table[1], /^train\s+2\s+5\.00\s+2\.50\s+1\.60\s+3\s+40\.0\s+1\s+0$/);
});

test('presence is a contiguous match of stemmed, punctuation-stripped words', () => {
  const text = matchWords('Loving the (New) York skyline, really!');
  assert.ok(isPresent(matchWords('new york'), text));
  assert.ok(isPresent(matchWords('love'), text), 'loving and love share the stem');
  assert.ok(!isPresent(matchWords('york new'), text));
  assert.ok(!isPresent(matchWords('new skyline'), text));
  assert.ok(!isPresent([], text));
});
