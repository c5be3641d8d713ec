// Public API of the keyphrase metrics: both conventions with NLTK Porter stemming bound in.
import { computeAimkpScores, type AimkpScores } from './aimkp-metrics';
import { computeCmkpScores, type CmkpScores } from './cmkp-metrics';
import { defaultStemmer } from './phrase-normalize';
import type { Stemmer } from './stemming';

export { normalizePhrase, defaultStemmer } from './phrase-normalize';
export { cachedStemmer, normalizePhraseWith, type Stemmer } from './stemming';
export { computeAimkpScores, aimkpSample, DEFAULT_KS, type AimkpScores, type AimkpSampleScores } from './aimkp-metrics';
export {
  computeCmkpScores,
  cmkpSample,
  isPresent,
  type CmkpScores,
  type CmkpTagScores,
  type CmkpScoresAtK,
  type CmkpSampleScores,
  type CmkpSampleResult,
  type CmkpTag,
} from './cmkp-metrics';
export {
  readGold,
  readPredictions,
  defaultSeparator,
  type GoldFile,
  type GoldSample,
  type PredictionFile,
} from './prediction-files';
export {
  scoresToJson,
  formatScoresTable,
  formatCmkpResultText,
  formatCmkpResultCsv,
  type Scores,
} from './report-format';

export { CONVENTIONS, type Convention } from '../../shared/vocabulary';

/** AimKP-convention scores (the paper's F1@K and MAP@K) of raw phrase lists; gold[i] ↔ pred[i]. */
export function scoreAimkp(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  ks?: readonly number[],
  stem: Stemmer = defaultStemmer,
): AimkpScores {
  return computeAimkpScores(gold, pred, { stem, ks });
}

/** CMKP-convention scores; give the source texts to get the present/absent split. */
export function scoreCmkp(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: { sources?: readonly string[]; ks?: readonly number[]; stem?: Stemmer } = {},
): CmkpScores {
  return computeCmkpScores(gold, pred, {
    stem: options.stem ?? defaultStemmer,
    ks: options.ks,
    sources: options.sources,
  });
}
