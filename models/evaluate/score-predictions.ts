// Scores a predictions file per decoding repeat, in both metric conventions, and averages over repeats.
import { computeAimkpScores, type AimkpSampleScores } from '../metrics/aimkp-metrics';
import { computeCmkpScores } from '../metrics/cmkp-metrics';
import { defaultStemmer } from '../metrics/phrase-normalize';
import type { Stemmer } from '../metrics/stemming';
import type { PredictionRecord } from './prediction-file';

/** The headline scores, fractions in [0, 1]. Keys as in RUN/metrics/*.json. */
export interface HeadlineScores {
  'f1@1': number;
  'f1@3': number;
  'f1@5': number;
  'map@5': number;
}

export const HEADLINE_KEYS: readonly (keyof HeadlineScores)[] = ['f1@1', 'f1@3', 'f1@5', 'map@5'];

export interface RepeatScores {
  /** Number of items scored. */
  n: number;
  repeats: number;
  /** AimKP convention, mean over repeats of each repeat's sample mean. */
  aimkp: HeadlineScores;
  aimkpPerRepeat: HeadlineScores[];
  /** CMKP convention (macro F1 = harmonic mean of averaged P and R; MAP), mean over repeats. */
  cmkp: HeadlineScores;
  cmkpPerRepeat: HeadlineScores[];
}

const KS = [1, 3, 5];

function meanScores(list: readonly HeadlineScores[]): HeadlineScores {
  const out: HeadlineScores = { 'f1@1': 0, 'f1@3': 0, 'f1@5': 0, 'map@5': 0 };
  if (list.length === 0) return out;
  for (const key of HEADLINE_KEYS) out[key] = list.reduce((acc, s) => acc + s[key], 0) / list.length;
  return out;
}

/** Repeat r of every record (records must share the repeat count). */
function repeatPredictions(records: readonly PredictionRecord[], r: number): string[][] {
  return records.map((rec) => rec.predictions[r]);
}

/** AimKP scores of one list of predictions. */
export function aimkpHeadline(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  stem: Stemmer = defaultStemmer,
): HeadlineScores {
  const s = computeAimkpScores(gold, pred, { stem, ks: KS });
  return { 'f1@1': s.f1[1], 'f1@3': s.f1[3], 'f1@5': s.f1[5], 'map@5': s.map[5] };
}

/** CMKP scores of one list of predictions (convention of the CMKP authors' script). */
export function cmkpHeadline(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  stem: Stemmer = defaultStemmer,
): HeadlineScores {
  const s = computeCmkpScores(gold, pred, { stem, ks: KS });
  return { 'f1@1': s.all.at[1].f1, 'f1@3': s.all.at[3].f1, 'f1@5': s.all.at[5].f1, 'map@5': s.all.at[5].map };
}

/**
 * Scores every repeat separately (as a separate evaluation run of the whole split) and averages the
 * per-repeat scores: the paper's "repeated 3 times and averaged".
 */
export function scoreRepeats(records: readonly PredictionRecord[], stem: Stemmer = defaultStemmer): RepeatScores {
  const repeats = records.length === 0 ? 0 : records[0].predictions.length;
  for (const rec of records) {
    if (rec.predictions.length !== repeats)
      throw new Error(`scoreRepeats: item "${rec.id}" has ${rec.predictions.length} repeats, expected ${repeats}`);
  }
  const gold = records.map((r) => r.gold);
  const aimkpPerRepeat: HeadlineScores[] = [];
  const cmkpPerRepeat: HeadlineScores[] = [];
  for (let r = 0; r < repeats; r++) {
    const pred = repeatPredictions(records, r);
    aimkpPerRepeat.push(aimkpHeadline(gold, pred, stem));
    cmkpPerRepeat.push(cmkpHeadline(gold, pred, stem));
  }
  return {
    n: records.length,
    repeats,
    aimkp: meanScores(aimkpPerRepeat),
    aimkpPerRepeat,
    cmkp: meanScores(cmkpPerRepeat),
    cmkpPerRepeat,
  };
}

/** Per-item AimKP sample scores averaged over repeats (for per-case comparisons). */
export function perItemAimkp(
  record: PredictionRecord,
  stem: Stemmer = defaultStemmer,
): { f1: Record<number, number>; ap: Record<number, number> } {
  const per: AimkpSampleScores[] = record.predictions.map(
    (p) => computeAimkpScores([record.gold], [p], { stem, ks: KS }).perSample[0],
  );
  const f1: Record<number, number> = {};
  const ap: Record<number, number> = {};
  for (const k of KS) {
    f1[k] = per.reduce((a, s) => a + s.f1[k], 0) / per.length;
    ap[k] = per.reduce((a, s) => a + s.ap[k], 0) / per.length;
  }
  return { f1, ap };
}
