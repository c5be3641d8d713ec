// The text corpus of the LM pretraining stage (`aimkp pretrain`, docs/training.md "Paper setting"):
// - WordNet 3.0 glosses (Debian package wordnet-base, WordNet 3.0 licence: use, copy, modify, distribute for any
//   purpose), restricted to the synsets that name a word of the fine-tuning data's TRAIN split, so the prior is
//   about the things clip art shows;
// - the fine-tuning data set's TRAIN split only: every post text as a document and every keyphrase list as a
//   separate document (tags joined by <sep>, as answers are written). Text and tags are never paired in one
//   document, so the LM learns the language and the answer format, not the text → keyphrase mapping.
// Valid and test items are never read into the corpus.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DictEntry } from './dictd-corpus';
import { CoreError } from '../core-error';
import type { ManifestItem } from '../data/manifest-types';
import { splitWords } from '../text/tokenizer';

/** One corpus document: plain text, or a keyphrase list written like an answer. */
export type CorpusDoc =
  { source: 'wordnet' | 'gcide' | 'train-text'; text: string } | { source: 'train-tags'; tags: string[] };

export const WORDNET_DEFAULT_DIR = '/usr/share/wordnet';
const WORDNET_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'];

export interface WordnetSynset {
  /** Lemmas with `_` → space and adjective markers such as `(a)` removed. */
  lemmas: string[];
  gloss: string;
}

/** Parses one `data.*` line (WordNet's wndb(5) format); null for licence-header lines. */
export function parseWordnetDataLine(line: string, where: string): WordnetSynset | null {
  if (line.startsWith('  ') || line.trim() === '') return null;
  const bar = line.indexOf(' | ');
  const fields = (bar < 0 ? line : line.slice(0, bar)).trim().split(/\s+/);
  const count = parseInt(fields[3] ?? '', 16);
  if (!Number.isInteger(count) || count < 1 || fields.length < 4 + 2 * count)
    throw new CoreError('BAD_INPUT', `${where}: field "w_cnt": not a WordNet data line`);
  const lemmas: string[] = [];
  for (let i = 0; i < count; i++)
    lemmas.push(
      fields[4 + 2 * i]
        .replace(/\(\w+\)$/, '')
        .replace(/_/g, ' ')
        .toLowerCase(),
    );
  return { lemmas, gloss: bar < 0 ? '' : line.slice(bar + 3).trim() };
}

/** Reads every synset with a gloss from a WordNet dict folder (data.noun, data.verb, data.adj, data.adv). */
export function readWordnet(dir: string): WordnetSynset[] {
  const out: WordnetSynset[] = [];
  for (const name of WORDNET_FILES) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CoreError(
        'NOT_FOUND',
        `${file}: cannot read (${(err as Error).message}); install Debian's wordnet-base or pass --wordnet DIR`,
      );
    }
    text.split('\n').forEach((line, i) => {
      const s = parseWordnetDataLine(line, `${file}: line ${i + 1}`);
      if (s !== null && s.gloss !== '') out.push(s);
    });
  }
  return out;
}

export interface CorpusOptions {
  /** Upper bound on WordNet documents (the most relevant first: more train-vocabulary lemmas); null = all. */
  maxWordnetDocs: number | null;
  /** Also every synset none of whose lemmas is a train word (after the matching ones); default false. */
  wordnetAll?: boolean;
  /**
   * Dictionary entries (GCIDE, models/train/dictd-corpus.ts): those whose headword is made of train words first,
   * then the rest, in dictionary order within each part; empty = none.
   */
  dictEntries?: readonly DictEntry[];
  /** Upper bound on dictionary documents; null = all. */
  maxDictDocs?: number | null;
}

/**
 * The corpus for a fine-tuning data set: `trainItems` MUST be the train split only (the caller filters; this
 * function re-checks). WordNet synsets are kept when one of their lemmas (a whole lemma, or each word of a
 * multi-word lemma) is a word of the train texts or keyphrases.
 */
export function buildCorpus(
  trainItems: readonly ManifestItem[],
  synsets: readonly WordnetSynset[],
  options: CorpusOptions,
): CorpusDoc[] {
  const bad = trainItems.find((i) => i.split !== 'train');
  if (bad)
    throw new CoreError(
      'BAD_INPUT',
      `pretraining corpus: item ${bad.id} is in the ${bad.split} split; only train items may enter the corpus`,
    );
  const vocab = new Set<string>();
  for (const item of trainItems) {
    for (const w of splitWords(item.text)) vocab.add(w);
    for (const k of item.keyphrases) for (const w of splitWords(k)) vocab.add(w);
  }
  const scored: { doc: CorpusDoc; hits: number; order: number }[] = [];
  synsets.forEach((s, order) => {
    const hits = s.lemmas.filter((l) => splitWords(l).every((w) => vocab.has(w))).length;
    if (hits === 0 && options.wordnetAll !== true) return;
    scored.push({ doc: { source: 'wordnet', text: `${s.lemmas.join(', ')}: ${s.gloss}` }, hits, order });
  });
  scored.sort((a, b) => b.hits - a.hits || a.order - b.order);
  const wordnet = (options.maxWordnetDocs === null ? scored : scored.slice(0, options.maxWordnetDocs))
    .sort((a, b) => a.order - b.order)
    .map((s) => s.doc);
  const isTrainWord = (h: string) => {
    const ws = splitWords(h);
    return ws.length > 0 && ws.every((w) => vocab.has(w));
  };
  const entries = options.dictEntries ?? [];
  const dict = [...entries.filter((e) => isTrainWord(e.headword)), ...entries.filter((e) => !isTrainWord(e.headword))]
    .slice(0, options.maxDictDocs ?? undefined)
    .map((e): CorpusDoc => ({ source: 'gcide', text: `${e.headword}: ${e.text}` }));
  const own: CorpusDoc[] = [];
  for (const item of trainItems) {
    if (item.text.trim() !== '') own.push({ source: 'train-text', text: item.text });
    if (item.keyphrases.length > 0) own.push({ source: 'train-tags', tags: item.keyphrases });
  }
  return [...wordnet, ...dict, ...own];
}

/** Every string of the corpus (tokenizer input). */
export function corpusTexts(docs: readonly CorpusDoc[]): string[] {
  return docs.flatMap((d) => ('text' in d ? [d.text] : d.tags));
}

/** Parses corpus.jsonl (one CorpusDoc per line). */
export function parseCorpus(text: string, where: string): CorpusDoc[] {
  const docs: CorpusDoc[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let d: unknown;
    try {
      d = JSON.parse(line);
    } catch (err) {
      throw new CoreError('BAD_INPUT', `${where}: line ${i + 1}: invalid JSON (${(err as Error).message})`);
    }
    const o = d as Partial<{ source: string; text: unknown; tags: unknown }>;
    if ((o.source === 'wordnet' || o.source === 'gcide' || o.source === 'train-text') && typeof o.text === 'string')
      docs.push({ source: o.source, text: o.text });
    else if (o.source === 'train-tags' && Array.isArray(o.tags) && o.tags.every((t) => typeof t === 'string'))
      docs.push({ source: 'train-tags', tags: o.tags as string[] });
    else
      throw new CoreError(
        'BAD_INPUT',
        `${where}: line ${i + 1}: field "source": expected wordnet/gcide/train-text with "text" or train-tags with "tags"`,
      );
  });
  return docs;
}
