import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { porterStem } from '../../models/text/porter-stemmer';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = new URL('../fixtures/nltk-porter-stems.tsv', import.meta.url);

/** word → stem pairs produced by NLTK 3.8 PorterStemmer() (default mode). */
function readFixture(): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [i, line] of readFileSync(FIXTURE, 'utf8').split('\n').entries()) {
    if (line === '') continue;
    const fields = line.split('\t');
    assert.equal(fields.length, 2, `fixture line ${i + 1}: expected word<TAB>stem, got ${JSON.stringify(line)}`);
    pairs.push([fields[0] ?? '', fields[1] ?? '']);
  }
  return pairs;
}

test('matches NLTK 3.8 on all 24,761 fixture words', () => {
  const pairs = readFixture();
  assert.equal(pairs.length, 24761);
  const mismatches = pairs.filter(([word, stem]) => porterStem(word) !== stem);
  const first = mismatches.slice(0, 10).map(([w, s]) => `${w}: expected ${s}, got ${porterStem(w)}`);
  assert.equal(mismatches.length, 0, `${mismatches.length} mismatches, first: ${first.join('; ')}`);
});

// Every expected value below was produced by NLTK 3.8 PorterStemmer().stem(word).
const CASES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  'irregular-forms pool': [
    ['sky', 'sky'],
    ['skies', 'sky'],
    ['dying', 'die'],
    ['lying', 'lie'],
    ['tying', 'tie'],
    ['news', 'news'],
    ['innings', 'inning'],
    ['inning', 'inning'],
    ['outings', 'outing'],
    ['cannings', 'canning'],
    ['howe', 'howe'],
    ['proceed', 'proceed'],
    ['exceed', 'exceed'],
    ['succeed', 'succeed'],
  ],
  'words of length <= 2 are only lower-cased': [
    ['a', 'a'],
    ['is', 'is'],
    ['as', 'as'],
    ['us', 'us'],
    ['IS', 'is'],
    ['', ''],
  ],
  'step 1a (incl. four-letter -ies)': [
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['ties', 'tie'],
    ['dies', 'die'],
    ['caress', 'caress'],
    ['cats', 'cat'],
  ],
  'step 1b (incl. -ied)': [
    ['feed', 'feed'],
    ['agreed', 'agre'],
    ['plastered', 'plaster'],
    ['bled', 'bled'],
    ['motoring', 'motor'],
    ['sing', 'sing'],
    ['conflated', 'conflat'],
    ['troubled', 'troubl'],
    ['sized', 'size'],
    ['hopping', 'hop'],
    ['tanned', 'tan'],
    ['falling', 'fall'],
    ['hissing', 'hiss'],
    ['fizzed', 'fizz'],
    ['failing', 'fail'],
    ['filing', 'file'],
    ['cried', 'cri'],
    ['tied', 'tie'],
    ['aging', 'age'],
  ],
  'step 1c (y → i after a consonant, stem longer than one letter)': [
    ['happy', 'happi'],
    ['cry', 'cri'],
    ['by', 'by'],
    ['say', 'say'],
    ['toy', 'toy'],
  ],
  'step 2 (incl. alli first, bli, fulli, logi)': [
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['rational', 'ration'],
    ['valenci', 'valenc'],
    ['hesitanci', 'hesit'],
    ['digitizer', 'digit'],
    ['conformabli', 'conform'],
    ['radicalli', 'radic'],
    ['generalli', 'gener'],
    ['differentli', 'differ'],
    ['vileli', 'vile'],
    ['analogousli', 'analog'],
    ['vietnamization', 'vietnam'],
    ['predication', 'predic'],
    ['operator', 'oper'],
    ['feudalism', 'feudal'],
    ['decisiveness', 'decis'],
    ['hopefulness', 'hope'],
    ['callousness', 'callous'],
    ['formaliti', 'formal'],
    ['sensitiviti', 'sensit'],
    ['sensibiliti', 'sensibl'],
    ['hopefulli', 'hope'],
    ['geology', 'geolog'],
    ['theology', 'theolog'],
    ['apology', 'apolog'],
    ['always', 'alway'],
  ],
  'step 3': [
    ['triplicate', 'triplic'],
    ['formative', 'form'],
    ['formalize', 'formal'],
    ['electriciti', 'electr'],
    ['electrical', 'electr'],
    ['hopeful', 'hope'],
    ['goodness', 'good'],
  ],
  'step 4': [
    ['revival', 'reviv'],
    ['allowance', 'allow'],
    ['inference', 'infer'],
    ['airliner', 'airlin'],
    ['gyroscopic', 'gyroscop'],
    ['adjustable', 'adjust'],
    ['defensible', 'defens'],
    ['irritant', 'irrit'],
    ['replacement', 'replac'],
    ['adjustment', 'adjust'],
    ['dependent', 'depend'],
    ['adoption', 'adopt'],
    ['homologou', 'homolog'],
    ['communism', 'commun'],
    ['activate', 'activ'],
    ['angulariti', 'angular'],
    ['homologous', 'homolog'],
    ['effective', 'effect'],
    ['bowdlerize', 'bowdler'],
  ],
  'step 5': [
    ['probate', 'probat'],
    ['rate', 'rate'],
    ['cease', 'ceas'],
    ['controll', 'control'],
    ['roll', 'roll'],
  ],
  // NLTK checks the pool with the word as given, so capitalised pool words take the ordinary rules.
  'upper case': [
    ['Skies', 'ski'],
    ['SKY', 'ski'],
    ['Dying', 'dy'],
    ['Running', 'run'],
    ['Ωmega', 'ωmega'],
  ],
  // Python counts code points: an emoji is one (consonant) letter, not two UTF-16 units.
  'astral characters': [
    ['a😀', 'a😀'],
    ['hop😀😀ing', 'hop😀'],
  ],
};

for (const [family, cases] of Object.entries(CASES)) {
  test(`rule family: ${family}`, () => {
    for (const [word, stem] of cases) assert.equal(porterStem(word), stem, `porterStem(${JSON.stringify(word)})`);
  });
}

function runStem(input: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/aimkp.mjs', 'stem', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('CLI: one stem per line, empty lines kept, CRLF and a missing final newline accepted', () => {
  const { status, stdout, stderr } = runStem('always\naging\n\nSkies\r\napology\r\nrunning');
  assert.equal(stderr, '');
  assert.equal(status, 0);
  assert.equal(stdout, 'alway\nage\n\nski\napolog\nrun\n');
  assert.equal(runStem('').stdout, '');
});

test('CLI: the whole fixture through stdin matches NLTK line for line', () => {
  const pairs = readFixture();
  const { status, stdout } = runStem(pairs.map(([w]) => w).join('\n') + '\n');
  assert.equal(status, 0);
  const got = stdout.split('\n');
  assert.equal(got.pop(), '', 'output ends with a newline');
  assert.equal(got.length, pairs.length);
  const bad = pairs.filter(([, stem], i) => got[i] !== stem).length;
  assert.equal(bad, 0, `${bad} CLI lines differ from the fixture`);
});

test('CLI: --help prints usage, unknown flags fail with exit code 2', () => {
  const help = runStem('', ['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: aimkp stem/);
  const bad = runStem('', ['--bogus']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /aimkp stem: .*--bogus/);
});
