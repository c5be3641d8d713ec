// The AimKP paper's metric convention (SPEC §2): per-sample F1@K with P = matches / K, and a
// cumulative-overlap MAP@K; no de-duplication before the top-K cut; averaged over samples.
import { normalizePhraseWith, type Stemmer } from './stemming';

export const DEFAULT_KS: readonly number[] = [1, 3, 5];

/** One sample's scores, keyed by K. */
export interface AimkpSampleScores {
  /** |set(gold) ∩ set(pred[:K])| */
  matches: Record<number, number>;
  precision: Record<number, number>;
  recall: Record<number, number>;
  f1: Record<number, number>;
  ap: Record<number, number>;
}

export interface AimkpScores {
  convention: 'aimkp';
  /** Number of samples averaged over. */
  n: number;
  ks: number[];
  /** Sample means, keyed by K, as fractions in [0, 1]. */
  precision: Record<number, number>;
  recall: Record<number, number>;
  f1: Record<number, number>;
  map: Record<number, number>;
  perSample: AimkpSampleScores[];
}

export interface AimkpOptions {
  stem: Stemmer;
  ks?: readonly number[];
}

/** Scores one sample given already-normalized phrases. */
export function aimkpSample(
  goldNorm: readonly string[],
  predNorm: readonly string[],
  ks: readonly number[],
): AimkpSampleScores {
  const goldSet = new Set(goldNorm);
  // An empty output counts as one empty prediction (it then has n = 1 for MAP).
  const pred = predNorm.length === 0 ? [''] : predNorm;
  // hitsAt[i] = |set(gold) ∩ set(pred[:i])| for i = 0..max K.
  const maxK = Math.max(...ks);
  const hitsAt = [0];
  const seen = new Set<string>();
  for (let i = 0; i < Math.min(pred.length, maxK); i++) {
    const p = pred[i];
    const isNew = goldSet.has(p) && !seen.has(p);
    seen.add(p);
    hitsAt.push(hitsAt[i] + (isNew ? 1 : 0));
  }
  const out: AimkpSampleScores = { matches: {}, precision: {}, recall: {}, f1: {}, ap: {} };
  for (const k of ks) {
    const m = hitsAt[Math.min(k, hitsAt.length - 1)];
    const p = m / k;
    const r = goldNorm.length > 0 ? m / goldNorm.length : 0;
    out.matches[k] = m;
    out.precision[k] = p;
    out.recall[k] = r;
    out.f1[k] = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    const n = Math.min(pred.length, k);
    let sum = 0;
    for (let i = 1; i <= n; i++) sum += hitsAt[i] / i;
    out.ap[k] = sum / n;
  }
  return out;
}

/**
 * Scores predictions against gold keyphrases in the AimKP convention. gold[i] and pred[i] are the raw
 * phrases of sample i (pred in ranked order); both are normalized with `stem` here.
 */
export function computeAimkpScores(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: AimkpOptions,
): AimkpScores {
  if (gold.length !== pred.length)
    throw new Error(`computeAimkpScores: ${gold.length} gold samples but ${pred.length} predictions`);
  const ks = [...(options.ks ?? DEFAULT_KS)];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1))
    throw new Error(`computeAimkpScores: bad ks ${ks.join(',')}`);
  const norm = (p: string) => normalizePhraseWith(p, options.stem);
  const perSample = gold.map((g, i) => aimkpSample(g.map(norm), pred[i].map(norm), ks));
  const mean = (pick: (s: AimkpSampleScores) => Record<number, number>) => {
    const out: Record<number, number> = {};
    for (const k of ks)
      out[k] = perSample.length === 0 ? 0 : perSample.reduce((acc, s) => acc + pick(s)[k], 0) / perSample.length;
    return out;
  };
  return {
    convention: 'aimkp',
    n: perSample.length,
    ks,
    precision: mean((s) => s.precision),
    recall: mean((s) => s.recall),
    f1: mean((s) => s.f1),
    map: mean((s) => s.ap),
    perSample,
  };
}
