// `aimkp compare`: per-case comparison of two runs' predictions on the same split and mode.
import type { Stemmer } from '../metrics/stemming';
import { defaultStemmer } from '../metrics/phrase-normalize';
import type { PredictionRecord } from './prediction-file';
import { perItemAimkp } from './score-predictions';

export type CompareFilter = 'all' | 'wins' | 'losses' | 'diff';

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
  /** After filtering, sorting and the limit. */
  cases: CompareCase[];
}

/** Per-case scores differing by less than this count as a tie (rounding of averaged repeats). */
const TIE_EPS = 1e-9;

export interface CompareOptions {
  labelA: string;
  labelB: string;
  texts?: ReadonlyMap<string, string>;
  filter?: CompareFilter;
  limit?: number;
  stem?: Stemmer;
}

/**
 * Joins the two prediction lists by id (A's order), scores each case with the AimKP per-sample F1@3
 * averaged over repeats, and counts wins. `filter` wins/losses/diff keeps only A-better / B-better /
 * differing cases, sorted by the size of the difference (largest first); `limit` caps the rows shown
 * (the summary always covers every common case).
 */
export function compareRecords(a: readonly PredictionRecord[], b: readonly PredictionRecord[], opts: CompareOptions): Comparison {
  const stem = opts.stem ?? defaultStemmer;
  const byIdB = new Map(b.map((r) => [r.id, r]));
  const idsA = new Set(a.map((r) => r.id));
  const all: CompareCase[] = [];
  const goldMismatch: string[] = [];
  for (const ra of a) {
    const rb = byIdB.get(ra.id);
    if (!rb) continue;
    if (JSON.stringify(ra.gold) !== JSON.stringify(rb.gold)) goldMismatch.push(ra.id);
    const fa = perItemAimkp(ra, stem).f1[3];
    const fb = perItemAimkp({ ...rb, gold: ra.gold }, stem).f1[3];
    const outcome = Math.abs(fa - fb) < TIE_EPS ? 'tie' : fa > fb ? 'A' : 'B';
    all.push({ id: ra.id, text: opts.texts?.get(ra.id) ?? null, gold: ra.gold, predA: ra.predictions[0], predB: rb.predictions[0], f1at3A: fa, f1at3B: fb, outcome });
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
  let cases = all;
  if (filter !== 'all') {
    cases = all.filter((c) => (filter === 'wins' ? c.outcome === 'A' : filter === 'losses' ? c.outcome === 'B' : c.outcome !== 'tie'));
    // Stable sort: equal differences keep data order.
    cases = [...cases].sort((x, y) => Math.abs(y.f1at3A - y.f1at3B) - Math.abs(x.f1at3A - x.f1at3B));
  }
  if (opts.limit !== undefined && opts.limit >= 0) cases = cases.slice(0, opts.limit);
  return { labelA: opts.labelA, labelB: opts.labelB, summary, cases };
}

function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

const md = (s: string) => s.replace(/\|/g, '\\|');
const pct = (x: number) => (100 * x).toFixed(1);

export function comparisonMarkdown(c: Comparison, textWidth = 60): string {
  const s = c.summary;
  const lines = [
    `A = ${md(c.labelA)}`,
    `B = ${md(c.labelB)}`,
    '',
    `Per-case F1@3 (AimKP convention, averaged over each run's decoding repeats; predictions shown: first repeat).`,
    '',
    `| id | text | gold | predictions A | predictions B | F1@3 A | F1@3 B |`,
    `|---|---|---|---|---|---:|---:|`,
  ];
  for (const k of c.cases) {
    lines.push(
      `| ${md(k.id)} | ${md(truncate(k.text ?? '', textWidth))} | ${md(k.gold.join('; '))} | ${md(k.predA.join('; '))} | ${md(k.predB.join('; '))} | ${pct(k.f1at3A)} | ${pct(k.f1at3B)} |`,
    );
  }
  lines.push('');
  lines.push(`Summary over ${s.common} common cases: A better ${s.aBetter}, B better ${s.bBetter}, tie ${s.ties}; mean F1@3 A ${pct(s.meanF1at3A)}, B ${pct(s.meanF1at3B)} (AimKP, %).`);
  if (s.onlyInA.length > 0) lines.push(`Only in A (not compared): ${s.onlyInA.length} case(s), e.g. ${s.onlyInA.slice(0, 5).join(', ')}`);
  if (s.onlyInB.length > 0) lines.push(`Only in B (not compared): ${s.onlyInB.length} case(s), e.g. ${s.onlyInB.slice(0, 5).join(', ')}`);
  if (s.goldMismatch.length > 0) lines.push(`Warning: gold differs between A and B for ${s.goldMismatch.length} case(s) (scored against A's gold), e.g. ${s.goldMismatch.slice(0, 5).join(', ')}`);
  return lines.join('\n') + '\n';
}
