/**
 * Porter stemmer that reproduces NLTK 3.8 `PorterStemmer()` in its default mode (NLTK_EXTENSIONS),
 * called as `stem(word)` (which lower-cases first). The metrics stem gold and predicted keyphrases with it, so it
 * must agree with NLTK word for word, including NLTK's departures from the 1980 algorithm:
 *  - an irregular-forms pool (skies→sky, dying→die, news→news, ...), see porter-irregular-forms.ts;
 *  - words of one or two characters are returned (lower-cased) untouched;
 *  - step 1a: a four-letter word ending in "ies" keeps "ie" (dies→die);
 *  - step 1b: "ied" becomes "ie" in four-letter words and "i" otherwise, before the other 1b rules;
 *  - step 1c: y→i only after a consonant, and only when that leaves a stem longer than one letter (cry→cri, say→say);
 *  - the *o (cvc) test also accepts a two-letter vowel+consonant stem;
 *  - step 2: "alli"→"al" is tried first and re-runs step 2; "bli"→"ble" replaces "abli"→"able";
 *    "fulli"→"ful" and "logi"→"log" are added.
 * Lengths count Unicode code points, as Python's len() does.
 */
import { PORTER_IRREGULAR_FORMS } from './porter-irregular-forms';

type Condition = (stem: string) => boolean;
/** [suffix, replacement, condition on the stem left once the suffix is removed]. */
type Rule = readonly [suffix: string, replacement: string, condition: Condition | null];

/** True when word[i] is a consonant in Porter's sense: not a/e/i/o/u, and 'y' only when it follows a vowel or starts the word. */
function isConsonant(word: string, i: number): boolean {
  switch (word[i]) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
      return false;
    case 'y':
      return i === 0 ? true : !isConsonant(word, i - 1);
    default:
      return true;
  }
}

/** Porter's m: the number of vowel-run → consonant-run transitions in [C](VC)^m[V]. */
function measure(stem: string): number {
  let m = 0;
  let previousWasVowel = false;
  for (let i = 0; i < stem.length; i++) {
    const consonant = isConsonant(stem, i);
    if (consonant && previousWasVowel) m++;
    previousWasVowel = !consonant;
  }
  return m;
}

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

const positiveMeasure: Condition = (stem) => measure(stem) > 0;
const measureAboveOne: Condition = (stem) => measure(stem) > 1;

function endsDoubleConsonant(word: string): boolean {
  const n = word.length;
  return n >= 2 && word[n - 1] === word[n - 2] && isConsonant(word, n - 1);
}

/** Porter's *o: consonant-vowel-consonant ending, last not w/x/y; NLTK also accepts a two-letter vowel+consonant word. */
function endsCvc(word: string): boolean {
  const n = word.length;
  if (n >= 3) {
    const last = word[n - 1];
    if (
      isConsonant(word, n - 3) &&
      !isConsonant(word, n - 2) &&
      isConsonant(word, n - 1) &&
      last !== 'w' &&
      last !== 'x' &&
      last !== 'y'
    ) {
      return true;
    }
  }
  return n === 2 && !isConsonant(word, 0) && isConsonant(word, 1);
}

/**
 * Applies the first rule whose suffix the word ends with. As in Porter's description, only the longest matching
 * suffix of a step is considered: when its condition fails the word is left as is and later rules are not tried.
 * The pseudo-suffix '*d' matches a double-consonant ending and removes both letters.
 */
function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d') {
      if (!endsDoubleConsonant(word)) continue;
      const stem = word.slice(0, -2);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const STEP1A_RULES: readonly Rule[] = [
  ['sses', 'ss', null],
  ['ies', 'i', null],
  ['ss', 'ss', null],
  ['s', '', null],
];

function step1a(word: string): string {
  if (word.length === 4 && word.endsWith('ies')) return word.slice(0, -3) + 'ie';
  return applyRules(word, STEP1A_RULES);
}

function step1b(word: string): string {
  if (word.endsWith('ied')) return word.slice(0, -3) + (word.length === 4 ? 'ie' : 'i');
  if (word.endsWith('eed')) {
    const stem = word.slice(0, -3);
    return measure(stem) > 0 ? stem + 'ee' : word;
  }
  let stem: string | null = null;
  for (const suffix of ['ed', 'ing']) {
    if (word.endsWith(suffix)) {
      const candidate = word.slice(0, word.length - suffix.length);
      if (containsVowel(candidate)) {
        stem = candidate;
        break;
      }
    }
  }
  if (stem === null) return word;
  // After removing -ed/-ing: restore an 'e' (conflat(ed)→conflate, hop(ing)→hope) or undouble a consonant.
  const lastLetter = stem[stem.length - 1] ?? '';
  return applyRules(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', lastLetter, () => lastLetter !== 'l' && lastLetter !== 's' && lastLetter !== 'z'],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s)],
  ]);
}

const STEP1C_RULES: readonly Rule[] = [['y', 'i', (stem) => stem.length > 1 && isConsonant(stem, stem.length - 1)]];

function step1c(word: string): string {
  return applyRules(word, STEP1C_RULES);
}

const STEP2_RULES: readonly Rule[] = [
  ['ational', 'ate', positiveMeasure],
  ['tional', 'tion', positiveMeasure],
  ['enci', 'ence', positiveMeasure],
  ['anci', 'ance', positiveMeasure],
  ['izer', 'ize', positiveMeasure],
  ['bli', 'ble', positiveMeasure],
  ['alli', 'al', positiveMeasure],
  ['entli', 'ent', positiveMeasure],
  ['eli', 'e', positiveMeasure],
  ['ousli', 'ous', positiveMeasure],
  ['ization', 'ize', positiveMeasure],
  ['ation', 'ate', positiveMeasure],
  ['ator', 'ate', positiveMeasure],
  ['alism', 'al', positiveMeasure],
  ['iveness', 'ive', positiveMeasure],
  ['fulness', 'ful', positiveMeasure],
  ['ousness', 'ous', positiveMeasure],
  ['aliti', 'al', positiveMeasure],
  ['iviti', 'ive', positiveMeasure],
  ['biliti', 'ble', positiveMeasure],
  ['fulli', 'ful', positiveMeasure],
  // The 'l' of "logi" counts as part of the stem, so short stems (geo-logi, theo-logi) still qualify.
  ['logi', 'log', (stem) => measure(stem + 'l') > 0],
];

function step2(word: string): string {
  // NLTK tries "alli" → "al" before everything else and then runs step 2 again on the result.
  if (word.endsWith('alli')) {
    const stem = word.slice(0, -4);
    if (measure(stem) > 0) return step2(stem + 'al');
  }
  return applyRules(word, STEP2_RULES);
}

const STEP3_RULES: readonly Rule[] = [
  ['icate', 'ic', positiveMeasure],
  ['ative', '', positiveMeasure],
  ['alize', 'al', positiveMeasure],
  ['iciti', 'ic', positiveMeasure],
  ['ical', 'ic', positiveMeasure],
  ['ful', '', positiveMeasure],
  ['ness', '', positiveMeasure],
];

const STEP4_RULES: readonly Rule[] = [
  ['al', '', measureAboveOne],
  ['ance', '', measureAboveOne],
  ['ence', '', measureAboveOne],
  ['er', '', measureAboveOne],
  ['ic', '', measureAboveOne],
  ['able', '', measureAboveOne],
  ['ible', '', measureAboveOne],
  ['ant', '', measureAboveOne],
  ['ement', '', measureAboveOne],
  ['ment', '', measureAboveOne],
  ['ent', '', measureAboveOne],
  ['ion', '', (stem) => measure(stem) > 1 && (stem.endsWith('s') || stem.endsWith('t'))],
  ['ou', '', measureAboveOne],
  ['ism', '', measureAboveOne],
  ['ate', '', measureAboveOne],
  ['iti', '', measureAboveOne],
  ['ous', '', measureAboveOne],
  ['ive', '', measureAboveOne],
  ['ize', '', measureAboveOne],
];

function step5a(word: string): string {
  if (!word.endsWith('e')) return word;
  const stem = word.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : word;
}

function step5b(word: string): string {
  // Condition on the word minus one 'l' (m > 1), i.e. controll → control.
  return word.endsWith('ll') && measure(word.slice(0, -1)) > 1 ? word.slice(0, -1) : word;
}

function stemLowerCase(word: string): string {
  let stem = step1a(word);
  stem = step1b(stem);
  stem = step1c(stem);
  stem = step2(stem);
  stem = applyRules(stem, STEP3_RULES);
  stem = applyRules(stem, STEP4_RULES);
  stem = step5a(stem);
  return step5b(stem);
}

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Number of code points (Python's len), counting a lone surrogate as one. */
function codePointLength(word: string): number {
  const pairs = word.match(SURROGATE_PAIR);
  return word.length - (pairs === null ? 0 : pairs.length);
}

/**
 * Runs the steps on a word that holds astral characters: each distinct one is swapped for a private-use BMP character
 * absent from the word, so every index and length the rules use counts code points as NLTK does; then swapped back.
 */
function stemWithAstralCharacters(word: string): string {
  const toPlaceholder = new Map<string, string>();
  const fromPlaceholder = new Map<string, string>();
  let next = 0xe000;
  const narrowed = word.replace(SURROGATE_PAIR, (pair) => {
    let placeholder = toPlaceholder.get(pair);
    if (placeholder === undefined) {
      while (word.includes(String.fromCharCode(next))) next++;
      placeholder = String.fromCharCode(next++);
      toPlaceholder.set(pair, placeholder);
      fromPlaceholder.set(placeholder, pair);
    }
    return placeholder;
  });
  const stem = stemLowerCase(narrowed);
  let restored = '';
  for (const ch of stem) restored += fromPlaceholder.get(ch) ?? ch;
  return restored;
}

const CACHE_LIMIT = 100_000;
const cache = new Map<string, string>();

/** Stems one word exactly as NLTK 3.8 `PorterStemmer().stem(word)` does (default mode, lower-casing). */
export function porterStem(word: string): string {
  const cached = cache.get(word);
  if (cached !== undefined) return cached;
  const stem = computeStem(word);
  // A bounded memo: stemming whole corpora repeats words a lot, but the input vocabulary is unbounded.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(word, stem);
  return stem;
}

function computeStem(word: string): string {
  const lower = word.toLowerCase();
  // NLTK looks the word up in its pool as given (not lower-cased) but indexes the pool with the lower-cased form.
  if (PORTER_IRREGULAR_FORMS.has(word)) return PORTER_IRREGULAR_FORMS.get(lower) ?? lower;
  // The length test also uses the word as given.
  if (codePointLength(word) <= 2) return lower;
  return lower.length === codePointLength(lower) ? stemLowerCase(lower) : stemWithAstralCharacters(lower);
}
