/**
 * NLTK's irregular-forms pool (PorterStemmer in NLTK_EXTENSIONS mode): words whose stem is fixed instead of computed.
 * Keyed by the surface form; the value is the stem NLTK returns for it.
 */
const STEM_TO_FORMS: Readonly<Record<string, readonly string[]>> = {
  sky: ['sky', 'skies'],
  die: ['dying'],
  lie: ['lying'],
  tie: ['tying'],
  news: ['news'],
  inning: ['innings', 'inning'],
  outing: ['outings', 'outing'],
  canning: ['cannings', 'canning'],
  howe: ['howe'],
  proceed: ['proceed'],
  exceed: ['exceed'],
  succeed: ['succeed'],
};

export const PORTER_IRREGULAR_FORMS: ReadonlyMap<string, string> = new Map(
  Object.entries(STEM_TO_FORMS).flatMap(([stem, forms]) => forms.map((form): [string, string] => [form, stem])),
);
