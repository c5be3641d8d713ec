// The default stemmer of the metrics: NLTK's Porter stemmer (default mode), memoised.
import { porterStem } from '../text/porter-stemmer';
import { cachedStemmer, normalizePhraseWith, type Stemmer } from './stemming';

/** NLTK PorterStemmer().stem in its default mode, with a memo table. */
export const defaultStemmer: Stemmer = cachedStemmer(porterStem);

/** Lower-cases, splits on whitespace and stems every word: "Running Shoes" → "run shoe". */
export function normalizePhrase(phrase: string): string {
  return normalizePhraseWith(phrase, defaultStemmer);
}
