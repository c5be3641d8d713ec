// The paper's Table 3 (size, text length, keyphrase counts and lengths, vocabulary) for any data set.
import { porterStem } from '../text/porter-stemmer';
import type { LoadSummary } from './load-dataset';
import { SPLITS, type ManifestItem, type Split } from './manifest-types';

export interface SplitStats {
  size: number;
  /** Mean whitespace tokens per text. */
  meanTextTokens: number;
  meanKeyphrases: number;
  /** Mean words (whitespace tokens) per keyphrase, over all keyphrases. */
  meanKeyphraseWords: number;
  /** Distinct keyphrases (lower-cased, whitespace-normalised). */
  vocabulary: number;
  /** Share of all keyphrases present in their item's text (stemmed contiguous match). */
  presentShare: number;
  withImage: number;
  /** Items of this split the loader skipped. */
  skipped: number;
}

export type DatasetStats = Record<Split | 'all', SplitStats>;

/** Lower-cased words with punctuation stripped from their ends, for presence matching. */
export function matchWords(s: string, stem: (w: string) => string = porterStem): string[] {
  return s
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w.length > 0)
    .map(stem);
}

/** True when the keyphrase's (stemmed) words occur as a contiguous run in the text's (stemmed) words. */
export function isPresent(keyphrase: string[], text: string[]): boolean {
  if (keyphrase.length === 0 || keyphrase.length > text.length) return false;
  outer: for (let i = 0; i + keyphrase.length <= text.length; i++) {
    for (let k = 0; k < keyphrase.length; k++) if (text[i + k] !== keyphrase[k]) continue outer;
    return true;
  }
  return false;
}

const tokens = (s: string) => s.split(/\s+/).filter((w) => w.length > 0);

function statsOf(items: readonly ManifestItem[], skipped: number, stem: (w: string) => string): SplitStats {
  let textTokens = 0;
  let kps = 0;
  let kpWords = 0;
  let present = 0;
  let withImage = 0;
  const vocab = new Set<string>();
  for (const it of items) {
    textTokens += tokens(it.text).length;
    if (it.image !== null) withImage++;
    const textWords = matchWords(it.text, stem);
    for (const kp of it.keyphrases) {
      kps++;
      kpWords += tokens(kp).length;
      vocab.add(tokens(kp.toLowerCase()).join(' '));
      if (isPresent(matchWords(kp, stem), textWords)) present++;
    }
  }
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    size: items.length,
    meanTextTokens: div(textTokens, items.length),
    meanKeyphrases: div(kps, items.length),
    meanKeyphraseWords: div(kpWords, kps),
    vocabulary: vocab.size,
    presentShare: div(present, kps),
    withImage,
    skipped,
  };
}

/** Per-split and overall statistics; `summary` (from loadDataset) supplies the skipped counts. */
export function datasetStats(items: readonly ManifestItem[], summary?: LoadSummary, stem: (w: string) => string = porterStem): DatasetStats {
  const cache = new Map<string, string>();
  const cachedStem = (w: string) => {
    let s = cache.get(w);
    if (s === undefined) cache.set(w, (s = stem(w)));
    return s;
  };
  const out = {} as DatasetStats;
  for (const split of SPLITS) {
    out[split] = statsOf(items.filter((it) => it.split === split), summary?.bySplit[split].skipped ?? 0, cachedStem);
  }
  out.all = statsOf(items, summary?.skipped ?? 0, cachedStem);
  return out;
}

/** A fixed-width text table, one row per split (splits with no items and no skips are left out). */
export function formatStatsTable(stats: DatasetStats): string {
  const head = ['split', 'size', 'text len', '#kp', 'kp len', 'kp vocab', 'present %', 'with image', 'skipped'];
  const rows = ([...SPLITS, 'all'] as const)
    .filter((s) => s === 'all' || stats[s].size > 0 || stats[s].skipped > 0)
    .map((s) => {
      const st = stats[s];
      return [s, String(st.size), st.meanTextTokens.toFixed(2), st.meanKeyphrases.toFixed(2), st.meanKeyphraseWords.toFixed(2), String(st.vocabulary), (100 * st.presentShare).toFixed(1), String(st.withImage), String(st.skipped)];
    });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}
