import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTokenizer, splitWords, tokenizerFromJson, SPECIALS } from '../../models/text/tokenizer';
import { CoreError } from '../../models/core-error';

test('splitWords: lower-case words, punctuation, placeholders, #hashtags and @mentions', () => {
  assert.deepEqual(splitWords('Go #NBA fans, @KingJames!'), ['go', 'nba', 'fans', ',', 'kingjames', '!']);
  assert.deepEqual(splitWords('it ’ s <url> at <number> pm'), ['it', '’', 's', '<url>', 'at', '<number>', 'pm']);
  assert.deepEqual(splitWords("don't  # 2019"), ['don', "'", 't', '#', '2019']);
  assert.deepEqual(splitWords('Café Ｆｕｌｌ'), ['café', 'full']);
  assert.deepEqual(splitWords('   '), []);
});

test('specials have fixed ids; vocab ordered by count desc then alphabetically', () => {
  const tok = buildTokenizer(['b a c a', 'c a d', 'b'], { extra: [] });
  assert.deepEqual(tok.specials, { pad: 0, unk: 1, bos: 2, eos: 3, sep: 4 });
  // a×3, b×2, c×2, d×1
  assert.deepEqual(tok.toJSON().vocab, ['<pad>', '<unk>', '<bos>', '<eos>', '<sep>', 'a', 'b', 'c', 'd']);
  assert.equal(tok.vocabSize, 9);
});

test('minCount / maxVocab drop rare words, but extra (prompt) words always stay', () => {
  const texts = ['x x x y y z', 'x y w'];
  const tok = buildTokenizer(texts, { minCount: 2, extra: ['Keyphrases:'] });
  assert.deepEqual(tok.toJSON().vocab.slice(5), ['x', 'y', ':', 'keyphrases']);
  const capped = buildTokenizer(texts, { maxVocab: 7, extra: ['prompt'] });
  // 5 specials + the forced word + the single most frequent word.
  assert.deepEqual(capped.toJSON().vocab.slice(5), ['x', 'prompt']);
  assert.deepEqual(Array.from(capped.encode('z prompt x')), [SPECIALS.unk, 6, 5]);
});

test('encode / decode; text can never produce a special id', () => {
  const tok = buildTokenizer(['the big dog', 'a cat'], {});
  const ids = tok.encode('The BIG zebra <eos>');
  const v = tok.toJSON().vocab;
  assert.deepEqual(Array.from(ids), [v.indexOf('the'), v.indexOf('big'), SPECIALS.unk, SPECIALS.unk]);
  assert.equal(
    tok.decode([SPECIALS.bos, v.indexOf('big'), v.indexOf('dog'), SPECIALS.sep, v.indexOf('cat'), SPECIALS.eos, 0]),
    'big dog, cat',
  );
});

test('encodeKeyphrases = ids(big dog) SEP ids(cat) EOS, and decodeKeyphrases inverts it', () => {
  const tok = buildTokenizer(['big dog', 'cat', 'rangers fc'], {});
  const v = tok.toJSON().vocab;
  const ids = tok.encodeKeyphrases(['big dog', 'cat']);
  assert.deepEqual(Array.from(ids), [v.indexOf('big'), v.indexOf('dog'), SPECIALS.sep, v.indexOf('cat'), SPECIALS.eos]);
  assert.deepEqual(tok.decodeKeyphrases(ids), ['big dog', 'cat']);
  // Without EOS, with a BOS, stops at the first EOS, drops empty phrases between repeated SEPs.
  const cat = v.indexOf('cat');
  assert.deepEqual(tok.decodeKeyphrases([SPECIALS.bos, cat, SPECIALS.sep, SPECIALS.sep, v.indexOf('dog')]), [
    'cat',
    'dog',
  ]);
  assert.deepEqual(tok.decodeKeyphrases([cat, SPECIALS.eos, v.indexOf('dog')]), ['cat']);
  assert.deepEqual(tok.decodeKeyphrases([SPECIALS.eos]), []);
  // Unknown words become <unk>; empty keyphrases are skipped.
  assert.deepEqual(tok.decodeKeyphrases(tok.encodeKeyphrases(['Rangers FC', '', 'big zebra'])), [
    'rangers fc',
    'big <unk>',
  ]);
  assert.deepEqual(Array.from(tok.encodeKeyphrases([])), [SPECIALS.eos]);
});

test('toJSON / tokenizerFromJson round trip and validation', () => {
  const tok = buildTokenizer(['one two two three three three'], { extra: ['<sep> hashtags :'] });
  const json = JSON.parse(JSON.stringify(tok.toJSON()));
  const back = tokenizerFromJson(json, 'run/tokenizer.json');
  assert.deepEqual(back.toJSON(), tok.toJSON());
  assert.deepEqual(Array.from(back.encode('three two one hashtags')), Array.from(tok.encode('three two one hashtags')));
  assert.throws(
    () => tokenizerFromJson({ kind: 'bpe', lowercase: true, vocab: [] }, 'x.json'),
    (e: unknown) => e instanceof CoreError && /x\.json: field "kind"/.test(e.message),
  );
  assert.throws(
    () =>
      tokenizerFromJson(
        { kind: 'word-v1', lowercase: true, vocab: ['<unk>', '<pad>', '<bos>', '<eos>', '<sep>'] },
        'y.json',
      ),
    /y\.json: field "vocab\[0\]": expected <pad>/,
  );
  assert.throws(
    () =>
      tokenizerFromJson({
        kind: 'word-v1',
        lowercase: true,
        vocab: ['<pad>', '<unk>', '<bos>', '<eos>', '<sep>', 'a', 'a'],
      }),
    /duplicate/,
  );
});

test('deterministic: input order does not change the vocabulary', () => {
  const texts = ['pear apple fig', 'fig apple', 'kiwi pear', 'apple'];
  const a = buildTokenizer(texts, {}).toJSON();
  const b = buildTokenizer([...texts].reverse(), {}).toJSON();
  assert.deepEqual(a, b);
  assert.deepEqual(a.vocab.slice(5), ['apple', 'fig', 'pear', 'kiwi']);
});
