// Word splitting and stemming shared by both conventions. Kept free of the Porter import so that the
// scoring code can be driven by any stemmer (tests, and the trainer's cached one).

/** Maps one lower-cased word to its stem. */
export type Stemmer = (word: string) => string;

/** Wraps a stemmer with a memo table: the same few thousand words recur across every sample. */
export function cachedStemmer(stem: Stemmer): Stemmer {
  const cache = new Map<string, string>();
  return (word: string) => {
    let s = cache.get(word);
    if (s === undefined) {
      // NLTK returns words of length <= 2 unchanged; the empty word must never reach a stemmer.
      s = word === '' ? '' : stem(word);
      cache.set(word, s);
    }
    return s;
  };
}

/** Lower-cases and stems each word (CMKP's `stem_word_list`: strip, lower, stem). */
export function stemWords(words: readonly string[], stem: Stemmer): string[] {
  return words.map((w) => stem(w.trim().toLowerCase()));
}

/**
 * Words of a phrase as the CMKP script splits them: trim, then split on single spaces. Punctuation and
 * hyphens stay inside words ("covid-19" is one word); two spaces in a row yield an empty word, as in Python.
 */
export function cmkpPhraseWords(phrase: string): string[] {
  return phrase.trim().split(' ');
}

/** Words of a source text: runs of whitespace (Python's `str.split()` with no argument). */
export function sourceWords(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : t.split(/\s+/);
}

/**
 * A phrase's normal form for the AimKP convention: lower-cased, split on whitespace runs, each word
 * stemmed, joined with one space. Equal normal forms = matching keyphrases.
 */
export function normalizePhraseWith(phrase: string, stem: Stemmer): string {
  return stemWords(sourceWords(phrase), stem).join(' ');
}
