// The CMKP convention (SPEC §2), as computed by the CMKP authors' evaluation script: stemmed, de-duplicated
// predictions; macro F1@k = harmonic mean of the sample-averaged P@k and R@k; AP@k, NDCG@k and α-NDCG@k;
// the same scores restricted to keyphrases present in / absent from the source text.
import { cmkpPhraseWords, sourceWords, stemWords, type Stemmer } from './stemming';
import { DEFAULT_KS } from './aimkp-metrics';

export type CmkpTag = 'all' | 'present' | 'absent';
export const CMKP_TAGS: readonly CmkpTag[] = ['all', 'present', 'absent'];

/** Words the script treats as an invalid prediction when they occur in it. */
const INVALID_WORDS = new Set(['<unk>', ',', '.']);
/** α of α-NDCG (the script's default). */
const ALPHA = 0.5;

/** One sample's scores for one tag, keyed by k. */
export interface CmkpSampleScores {
  numPredictions: number;
  numTargets: number;
  matches: Record<number, number>;
  /** min(k, #predictions): the precision denominator. */
  predictionsAtK: Record<number, number>;
  precision: Record<number, number>;
  recall: Record<number, number>;
  f1: Record<number, number>;
  ap: Record<number, number>;
  ndcg: Record<number, number>;
  alphaNdcg: Record<number, number>;
}

/** Aggregates at one k. */
export interface CmkpScoresAtK {
  /** Macro: sample means of P and R, and their harmonic mean (the reported F1). */
  precision: number;
  recall: number;
  f1: number;
  /** Micro: totals over samples. */
  microPrecision: number;
  microRecall: number;
  microF1: number;
  matches: number;
  predictions: number;
  targets: number;
  map: number;
  ndcg: number;
  alphaNdcg: number;
}

export interface CmkpTagScores {
  /** Samples that were scored for this tag (present/absent: those with at least one such target). */
  samples: number;
  /** Kept predictions (after de-duplication and filtering) of this tag, over all samples. */
  filteredPredictions: number;
  /** Unique targets of this tag, over all samples. */
  uniqueTargets: number;
  at: Record<number, CmkpScoresAtK>;
}

export interface CmkpSampleResult {
  all: CmkpSampleScores;
  /** Absent when the sample has no present (resp. absent) target, or no source text was given. */
  present?: CmkpSampleScores;
  absent?: CmkpSampleScores;
}

export interface CmkpScores {
  convention: 'cmkp';
  n: number;
  ks: number[];
  /** Predictions after removing duplicates (before the validity filter), over all samples. */
  uniquePredictions: number;
  /**
   * The script's "Max. unique targets per src" statistic, reproduced for byte-identical reports. Despite its
   * name it is a running sum of (#raw predictions - #duplicate targets) that is only raised to a sample's
   * unique-target count when that is larger; it carries no meaning.
   */
  scriptMaxUniqueTargets: number;
  all: CmkpTagScores;
  /** Null when no source texts were given (present/absent cannot be decided). */
  present: CmkpTagScores | null;
  absent: CmkpTagScores | null;
  perSample: CmkpSampleResult[];
}

export interface CmkpOptions {
  stem: Stemmer;
  ks?: readonly number[];
  /** Source text of each sample, for the present/absent split. */
  sources?: readonly string[];
}

type Words = string[];

/** Keeps the first occurrence of each phrase. The script keys phrases by words joined with '_'. */
function dedupMask(phrases: readonly Words[]): boolean[] {
  const seen = new Set<string>();
  return phrases.map((w) => {
    const key = w.join('_');
    const unique = !seen.has(key);
    seen.add(key);
    return unique;
  });
}

/** A keyphrase is present when its stemmed words occur contiguously in the stemmed source words. */
export function isPresent(sourceStemmed: readonly string[], phrase: readonly string[]): boolean {
  if (phrase.join(' ').trim() === '') return false;
  for (let s = 0; s + phrase.length <= sourceStemmed.length; s++) {
    let ok = true;
    for (let i = 0; i < phrase.length; i++) {
      if (sourceStemmed[s + i] !== phrase[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Value at rank min(k, length) of a cumulative array (the script's `return_indices`). */
function atK(cum: readonly number[], k: number): number {
  return cum[Math.min(k, cum.length) - 1];
}

function cumsum(xs: readonly number[]): number[] {
  const out: number[] = [];
  let acc = 0;
  for (const x of xs) out.push((acc += x));
  return out;
}

/** DCG with gains g_i / log2(i + 1), cumulated over ranks 1..len. */
function dcgCum(gains: readonly number[]): number[] {
  return cumsum(gains.map((g, i) => g / Math.log2(i + 2)));
}

/** α-NDCG gains of an ordering: a target already matched c times contributes (1-α)^c. */
function alphaGains(rel: readonly boolean[][], order: readonly number[]): number[] {
  const cum = new Array<number>(rel.length).fill(0);
  return order.map((j) => {
    let g = 0;
    for (let t = 0; t < rel.length; t++) if (rel[t][j]) g += Math.pow(1 - ALPHA, cum[t]);
    for (let t = 0; t < rel.length; t++) if (rel[t][j]) cum[t] += 1;
    return g;
  });
}

/** Greedy ideal ordering for α-NDCG (first maximum wins ties), of depth min(#preds, depth). */
function alphaIdealOrder(rel: readonly boolean[][], numPred: number, depth: number): number[] {
  const cum = new Array<number>(rel.length).fill(0);
  const chosen: number[] = [];
  const used = new Set<number>();
  for (let rank = 0; rank < Math.min(numPred, depth); rank++) {
    let best = -1;
    let bestGain = -Infinity;
    for (let j = 0; j < numPred; j++) {
      let g = -1000;
      if (!used.has(j)) {
        g = 0;
        for (let t = 0; t < rel.length; t++) if (rel[t][j]) g += Math.pow(1 - ALPHA, cum[t]);
      }
      if (g > bestGain) {
        bestGain = g;
        best = j;
      }
    }
    chosen.push(best);
    used.add(best);
    for (let t = 0; t < rel.length; t++) if (rel[t][best]) cum[t] += 1;
  }
  return chosen;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** All per-sample scores of one tag (the script's `update_score_dict`). */
export function cmkpSample(
  targets: readonly Words[],
  preds: readonly Words[],
  ks: readonly number[],
): CmkpSampleScores {
  const nT = targets.length;
  const nP = preds.length;
  const trgJoined = targets.map((w) => w.join(' '));
  const predJoined = preds.map((w) => w.join(' '));
  const trgSet = new Set(trgJoined);
  const hit = predJoined.map((p) => trgSet.has(p));
  const kMax = Math.max(...ks);
  const out: CmkpSampleScores = {
    numPredictions: nP,
    numTargets: nT,
    matches: {},
    predictionsAtK: {},
    precision: {},
    recall: {},
    f1: {},
    ap: {},
    ndcg: {},
    alphaNdcg: {},
  };
  if (nP === 0) {
    for (const k of ks)
      for (const key of ['matches', 'predictionsAtK', 'precision', 'recall', 'f1', 'ap', 'ndcg', 'alphaNdcg'] as const)
        out[key][k] = 0;
    return out;
  }
  const r = hit.map((h) => (h ? 1 : 0));
  const hitsCum = cumsum(r);
  const top = r.slice(0, kMax);
  // AP@k: sum over hit ranks i <= k of P@i, divided by the number of targets.
  const apCum = cumsum(top.map((h, i) => (hitsCum[i] / (i + 1)) * h));
  const dcg = dcgCum(top);
  // The ideal ranking for NDCG reorders this sample's own predictions (hits first), not the targets.
  const idealDcg = dcgCum([...r].sort((a, b) => b - a).slice(0, kMax));
  // α-NDCG relevance: a prediction is relevant to a target when it is a substring of it (strings, as in the script).
  const rel = trgJoined.map((t) => predJoined.map((p) => t.includes(p)));
  const depth = Math.min(nP, kMax);
  const alphaDcg = dcgCum(
    alphaGains(
      rel,
      Array.from({ length: depth }, (_, j) => j),
    ),
  );
  const alphaIdeal = dcgCum(alphaGains(rel, alphaIdealOrder(rel, nP, kMax)));
  for (const k of ks) {
    const npk = Math.min(k, nP);
    const m = hitsCum[npk - 1];
    const p = m / npk;
    const rc = ratio(m, nT);
    out.matches[k] = m;
    out.predictionsAtK[k] = npk;
    out.precision[k] = p;
    out.recall[k] = rc;
    out.f1[k] = p + rc > 0 ? (2 * p * rc) / (p + rc) : 0;
    out.ap[k] = nT === 0 ? 0 : atK(apCum, k) / nT;
    out.ndcg[k] = ratio(atK(dcg, k), atK(idealDcg, k));
    out.alphaNdcg[k] = ratio(atK(alphaDcg, k), atK(alphaIdeal, k));
  }
  return out;
}

function aggregate(
  samples: readonly CmkpSampleScores[],
  ks: readonly number[],
  filteredPredictions: number,
  uniqueTargets: number,
): CmkpTagScores {
  const at: Record<number, CmkpScoresAtK> = {};
  const n = samples.length;
  // Sequential sums in sample order, like Python's sum(), so that the rounding matches.
  const sum = (f: (s: CmkpSampleScores) => number) => samples.reduce((acc, s) => acc + f(s), 0);
  const mean = (f: (s: CmkpSampleScores) => number) => (n === 0 ? 0 : sum(f) / n);
  const f1 = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);
  for (const k of ks) {
    const matches = sum((s) => s.matches[k]);
    const predictions = sum((s) => s.predictionsAtK[k]);
    const targets = sum((s) => s.numTargets);
    const precision = mean((s) => s.precision[k]);
    const recall = mean((s) => s.recall[k]);
    const microPrecision = ratio(matches, predictions);
    const microRecall = ratio(matches, targets);
    at[k] = {
      precision,
      recall,
      f1: f1(precision, recall),
      microPrecision,
      microRecall,
      microF1: f1(microPrecision, microRecall),
      matches,
      predictions,
      targets,
      map: mean((s) => s.ap[k]),
      ndcg: mean((s) => s.ndcg[k]),
      alphaNdcg: mean((s) => s.alphaNdcg[k]),
    };
  }
  return { samples: n, filteredPredictions, uniqueTargets, at };
}

/**
 * Scores predictions in the CMKP convention. gold[i]: the raw target phrases of sample i; pred[i]: its raw
 * predicted phrases in ranked order (already split on the separator); options.sources[i]: its source text.
 */
export function computeCmkpScores(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: CmkpOptions,
): CmkpScores {
  if (gold.length !== pred.length)
    throw new Error(`computeCmkpScores: ${gold.length} gold samples but ${pred.length} predictions`);
  const { sources, stem } = options;
  if (sources && sources.length !== gold.length)
    throw new Error(`computeCmkpScores: ${gold.length} gold samples but ${sources.length} sources`);
  const ks = [...(options.ks ?? DEFAULT_KS)];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1))
    throw new Error(`computeCmkpScores: bad ks ${ks.join(',')}`);
  const lists: Record<CmkpTag, CmkpSampleScores[]> = { all: [], present: [], absent: [] };
  const counts = { uniquePredictions: 0, scriptMax: 0, all: [0, 0], present: [0, 0], absent: [0, 0] };
  const perSample: CmkpSampleResult[] = [];
  for (let i = 0; i < gold.length; i++) {
    const predWords = pred[i].map((p) => stemWords(cmkpPhraseWords(p), stem));
    const unique = dedupMask(predWords);
    counts.uniquePredictions += unique.filter(Boolean).length;
    // Duplicates and phrases containing <unk>, ',' or '.' are dropped. (An empty phrase is one empty word
    // to the script, so it is kept, and counts as absent.)
    const preds = predWords.filter((w, j) => unique[j] && w.length > 0 && !w.some((x) => INVALID_WORDS.has(x)));
    const trgWords = gold[i].map((t) => stemWords(cmkpPhraseWords(t), stem));
    const trgUnique = dedupMask(trgWords);
    const targets = trgWords.filter((_, j) => trgUnique[j]);
    counts.scriptMax += pred[i].length - (trgWords.length - targets.length);
    if (targets.length > counts.scriptMax) counts.scriptMax = targets.length;
    const result: CmkpSampleResult = { all: cmkpSample(targets, preds, ks) };
    lists.all.push(result.all);
    counts.all[0] += preds.length;
    counts.all[1] += targets.length;
    if (sources) {
      const src = stemWords(sourceWords(sources[i]), stem);
      const split = (phrases: Words[]) => {
        const present: Words[] = [];
        const absent: Words[] = [];
        for (const w of phrases) (isPresent(src, w) ? present : absent).push(w);
        return { present, absent };
      };
      const ps = split(preds);
      const ts = split(targets);
      for (const tag of ['present', 'absent'] as const) {
        counts[tag][0] += ps[tag].length;
        counts[tag][1] += ts[tag].length;
        // A sample is scored for a tag only when it has a target of that tag.
        if (ts[tag].length > 0) {
          result[tag] = cmkpSample(ts[tag], ps[tag], ks);
          lists[tag].push(result[tag]);
        }
      }
    }
    perSample.push(result);
  }
  const agg = (tag: CmkpTag) => aggregate(lists[tag], ks, counts[tag][0], counts[tag][1]);
  return {
    convention: 'cmkp',
    n: gold.length,
    ks,
    uniquePredictions: counts.uniquePredictions,
    scriptMaxUniqueTargets: counts.scriptMax,
    all: agg('all'),
    present: sources ? agg('present') : null,
    absent: sources ? agg('absent') : null,
    perSample,
  };
}
