// `aimkp compare` and the workbench's Compare view: per-case comparison of two runs' predictions on the
// same split and mode, with filter, search, sort and paging.
import { normalizePhraseWith, type Stemmer } from '../metrics/stemming';
import { defaultStemmer } from '../metrics/phrase-normalize';
import type { PredictionRecord } from './prediction-file';
import { perItemAimkp } from './score-predictions';
import type { CompareFilter, CompareSort } from '../../shared/vocabulary';

/**
 * Filters (shared/vocabulary.ts): wins = A better, losses = B better, diff = either, ties = equal.
 * Sorts: data = A's order; abs-diff = largest |F1@3 A − F1@3 B| first; a-first / b-first = largest A − B / B − A
 * first; id = by id. Sorts are stable (equal keys keep data order).
 */
export { COMPARE_FILTERS, COMPARE_SORTS, type CompareFilter, type CompareSort } from '../../shared/vocabulary';

/** One case's AimKP per-sample scores, averaged over the run's decoding repeats, fractions. */
export interface CaseScores {
  'f1@1': number;
  'f1@3': number;
  'ap@5': number;
}

export interface CompareCase {
  id: string;
  text: string | null;
  gold: string[];
  /** First repeat's predictions (what the table shows). */
  predA: string[];
  predB: string[];
  /** AimKP per-case F1@3, averaged over each run's repeats, fraction. */
  f1at3A: number;
  f1at3B: number;
  /** A better / B better / tie. */
  outcome: 'A' | 'B' | 'tie';
  /** Per shown prediction: whether it matches a gold keyphrase (after the metrics' stemming and normalisation). */
  hitsA: boolean[];
  hitsB: boolean[];
  scoresA: CaseScores;
  scoresB: CaseScores;
  /** f1at3A − f1at3B. */
  diff: number;
}

export interface CompareSummary {
  /** Items present in both files. */
  common: number;
  aBetter: number;
  bBetter: number;
  ties: number;
  /** Mean per-case F1@3 over the common items, fractions. */
  meanF1at3A: number;
  meanF1at3B: number;
  onlyInA: string[];
  onlyInB: string[];
  /** Items whose gold lists differ between the two files (the files come from different data). */
  goldMismatch: string[];
}

export interface Comparison {
  labelA: string;
  labelB: string;
  summary: CompareSummary;
  /** Cases that pass the filter and search (before paging). */
  total: number;
  /** Index of cases[0] among those. */
  offset: number;
  /** After filtering, searching, sorting and paging. */
  cases: CompareCase[];
}

/** Per-case scores differing by less than this count as a tie (rounding of averaged repeats). */
const TIE_EPS = 1e-9;

export interface CompareOptions {
  labelA: string;
  labelB: string;
  texts?: ReadonlyMap<string, string>;
  filter?: CompareFilter;
  /** Case-insensitive substring of the id, text, gold or either run's predictions. */
  search?: string;
  /** Default: 'data' for filter all / ties, 'abs-diff' otherwise. */
  sort?: CompareSort;
  /** Paging: skip `offset` cases, show at most `limit`. */
  offset?: number;
  limit?: number;
  stem?: Stemmer;
}

/**
 * Joins the two prediction lists by id (A's order), scores each case with the AimKP per-sample F1@3
 * averaged over repeats, and counts wins. `filter` wins/losses/diff keeps only A-better / B-better /
 * differing cases, sorted by the size of the difference (largest first); `limit` caps the rows shown
 * (the summary always covers every common case).
 */
export function compareRecords(
  a: readonly PredictionRecord[],
  b: readonly PredictionRecord[],
  opts: CompareOptions,
): Comparison {
  const stem = opts.stem ?? defaultStemmer;
  const byIdB = new Map(b.map((r) => [r.id, r]));
  const idsA = new Set(a.map((r) => r.id));
  const all: CompareCase[] = [];
  const goldMismatch: string[] = [];
  for (const ra of a) {
    const rb = byIdB.get(ra.id);
    if (!rb) continue;
    if (JSON.stringify(ra.gold) !== JSON.stringify(rb.gold)) goldMismatch.push(ra.id);
    const sa = caseScores(ra, stem);
    const sb = caseScores({ ...rb, gold: ra.gold }, stem);
    const fa = sa['f1@3'];
    const fb = sb['f1@3'];
    const outcome = Math.abs(fa - fb) < TIE_EPS ? 'tie' : fa > fb ? 'A' : 'B';
    const hits = (preds: string[]) => hitsOf(ra.gold, preds, stem);
    all.push({
      id: ra.id,
      text: opts.texts?.get(ra.id) ?? null,
      gold: ra.gold,
      predA: ra.predictions[0],
      predB: rb.predictions[0],
      f1at3A: fa,
      f1at3B: fb,
      outcome,
      hitsA: hits(ra.predictions[0]),
      hitsB: hits(rb.predictions[0]),
      scoresA: sa,
      scoresB: sb,
      diff: fa - fb,
    });
  }
  const n = all.length;
  const summary: CompareSummary = {
    common: n,
    aBetter: all.filter((c) => c.outcome === 'A').length,
    bBetter: all.filter((c) => c.outcome === 'B').length,
    ties: all.filter((c) => c.outcome === 'tie').length,
    meanF1at3A: n === 0 ? 0 : all.reduce((s, c) => s + c.f1at3A, 0) / n,
    meanF1at3B: n === 0 ? 0 : all.reduce((s, c) => s + c.f1at3B, 0) / n,
    onlyInA: a.filter((r) => !byIdB.has(r.id)).map((r) => r.id),
    onlyInB: b.filter((r) => !idsA.has(r.id)).map((r) => r.id),
    goldMismatch,
  };
  const filter = opts.filter ?? 'all';
  const keep: Record<CompareFilter, (c: CompareCase) => boolean> = {
    all: () => true,
    wins: (c) => c.outcome === 'A',
    losses: (c) => c.outcome === 'B',
    diff: (c) => c.outcome !== 'tie',
    ties: (c) => c.outcome === 'tie',
  };
  let cases = all.filter(keep[filter]);
  const search = (opts.search ?? '').trim().toLowerCase();
  if (search !== '')
    cases = cases.filter((c) =>
      [c.id, c.text ?? '', ...c.gold, ...c.predA, ...c.predB].some((s) => s.toLowerCase().includes(search)),
    );
  const sort = opts.sort ?? (filter === 'all' || filter === 'ties' ? 'data' : 'abs-diff');
  const key: Record<Exclude<CompareSort, 'data' | 'id'>, (c: CompareCase) => number> = {
    'abs-diff': (c) => -Math.abs(c.diff),
    'a-first': (c) => -c.diff,
    'b-first': (c) => c.diff,
  };
  // Array.prototype.sort is stable: equal keys keep data order.
  if (sort === 'id') cases = [...cases].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  else if (sort !== 'data') cases = [...cases].sort((x, y) => key[sort](x) - key[sort](y));
  const total = cases.length;
  const offset = Math.max(0, Math.floor(opts.offset ?? 0));
  const end = opts.limit !== undefined && opts.limit >= 0 ? offset + opts.limit : undefined;
  return { labelA: opts.labelA, labelB: opts.labelB, summary, total, offset, cases: cases.slice(offset, end) };
}

/** Which predictions match a gold keyphrase (stemmed, as the AimKP convention matches). */
export function hitsOf(
  gold: readonly string[],
  predictions: readonly string[],
  stem: Stemmer = defaultStemmer,
): boolean[] {
  const goldSet = new Set(gold.map((g) => normalizePhraseWith(g, stem)));
  return predictions.map((p) => goldSet.has(normalizePhraseWith(p, stem)));
}

/** One case's hits and F1@3 (AimKP convention), as a Compare row shows them. */
export function scoreCase(
  gold: readonly string[],
  predictions: readonly string[],
  stem: Stemmer = defaultStemmer,
): { hits: boolean[]; f1at3: number } {
  return {
    hits: hitsOf(gold, predictions, stem),
    f1at3: caseScores({ id: 'case', gold: [...gold], predictions: [[...predictions]] }, stem)['f1@3'],
  };
}

function caseScores(record: PredictionRecord, stem: Stemmer): CaseScores {
  const s = perItemAimkp(record, stem);
  return { 'f1@1': s.f1[1], 'f1@3': s.f1[3], 'ap@5': s.ap[5] };
}
