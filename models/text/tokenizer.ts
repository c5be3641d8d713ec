/** Word-level tokenizer (implements models/text/tokenizer-types.ts); words are split by shared/words.ts. */
import { CoreError } from '../core-error';
import type { Tokenizer, TokenizerJson, TokenizerSpecials } from './tokenizer-types';
import { splitWords } from '../../shared/words';

export { splitWords };

export const SPECIAL_TOKENS = ['<pad>', '<unk>', '<bos>', '<eos>', '<sep>'] as const;
export const SPECIALS: TokenizerSpecials = { pad: 0, unk: 1, bos: 2, eos: 3, sep: 4 };

export interface BuildTokenizerOptions {
  /** Words seen fewer times than this in `texts` are left out (→ <unk>). Default 1. */
  minCount?: number;
  /** Upper bound on the vocabulary size, specials and `extra` words included. Default: no bound. */
  maxVocab?: number;
  /** Texts whose words are always in the vocabulary (the prompt template words), whatever their count. */
  extra?: string[];
}

class WordTokenizer implements Tokenizer {
  readonly specials: TokenizerSpecials = { ...SPECIALS };
  private readonly index = new Map<string, number>();

  constructor(private readonly vocab: readonly string[]) {
    vocab.forEach((word, id) => this.index.set(word, id));
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  encode(text: string): Int32Array {
    return Int32Array.from(splitWords(text), (w) => this.wordId(w));
  }

  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (const id of Array.from(ids)) {
      if (id === SPECIALS.pad || id === SPECIALS.bos || id === SPECIALS.eos) continue;
      words.push(id === SPECIALS.sep ? ',' : (this.vocab[id] ?? SPECIAL_TOKENS[SPECIALS.unk]));
    }
    return words.join(' ').replace(/ ,/g, ',');
  }

  encodeKeyphrases(keyphrases: string[]): Int32Array {
    const ids: number[] = [];
    for (const phrase of keyphrases) {
      const words = this.encode(phrase);
      if (words.length === 0) continue;
      if (ids.length > 0) ids.push(SPECIALS.sep);
      ids.push(...words);
    }
    ids.push(SPECIALS.eos);
    return Int32Array.from(ids);
  }

  decodeKeyphrases(ids: ArrayLike<number>): string[] {
    const phrases: string[] = [];
    let words: string[] = [];
    const flush = (): void => {
      if (words.length > 0) phrases.push(words.join(' '));
      words = [];
    };
    for (const id of Array.from(ids)) {
      if (id === SPECIALS.eos) break;
      if (id === SPECIALS.sep) flush();
      else if (id !== SPECIALS.pad && id !== SPECIALS.bos) words.push(this.vocab[id] ?? SPECIAL_TOKENS[SPECIALS.unk]);
    }
    flush();
    return phrases;
  }

  toJSON(): TokenizerJson {
    return { kind: 'word-v1', lowercase: true, vocab: [...this.vocab] };
  }

  /** Id of one already-split word; text can never produce a special id other than <unk>. */
  private wordId(word: string): number {
    const id = this.index.get(word);
    return id === undefined || id < SPECIAL_TOKENS.length ? SPECIALS.unk : id;
  }
}

/**
 * Builds the vocabulary: the specials, then words ordered by count (desc) then alphabetically.
 * Pass the training posts and their keyphrases in `texts`, and the prompt template in `extra`.
 */
export function buildTokenizer(texts: string[], options: BuildTokenizerOptions = {}): Tokenizer {
  const minCount = options.minCount ?? 1;
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of splitWords(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const specials = new Set<string>(SPECIAL_TOKENS);
  const forced = new Set<string>();
  for (const text of options.extra ?? [])
    for (const word of splitWords(text)) if (!specials.has(word)) forced.add(word);

  const byFrequency = (a: string, b: string): number =>
    (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  const candidates = [...counts.keys()].filter((w) => !specials.has(w) && !forced.has(w) && counts.get(w)! >= minCount);
  candidates.sort(byFrequency);
  const room =
    options.maxVocab === undefined
      ? candidates.length
      : Math.max(0, options.maxVocab - SPECIAL_TOKENS.length - forced.size);
  const words = [...forced, ...candidates.slice(0, room)].sort(byFrequency);
  return new WordTokenizer([...SPECIAL_TOKENS, ...words]);
}

/** Restores a tokenizer saved with `toJSON()`; `where` names the file for error messages. */
export function tokenizerFromJson(json: unknown, where = 'tokenizer'): Tokenizer {
  const obj = json as Partial<TokenizerJson> | null;
  if (!obj || typeof obj !== 'object') throw new CoreError('BAD_INPUT', `${where}: expected a tokenizer object`);
  if (obj.kind !== 'word-v1')
    throw new CoreError('BAD_INPUT', `${where}: field "kind": expected "word-v1", got ${JSON.stringify(obj.kind)}`);
  if (!Array.isArray(obj.vocab) || !obj.vocab.every((w) => typeof w === 'string')) {
    throw new CoreError('BAD_INPUT', `${where}: field "vocab": expected an array of strings`);
  }
  SPECIAL_TOKENS.forEach((token, i) => {
    if (obj.vocab![i] !== token) {
      throw new CoreError(
        'BAD_INPUT',
        `${where}: field "vocab[${i}]": expected ${token}, got ${JSON.stringify(obj.vocab![i])}`,
      );
    }
  });
  if (new Set(obj.vocab).size !== obj.vocab.length)
    throw new CoreError('BAD_INPUT', `${where}: field "vocab": duplicate words`);
  return new WordTokenizer(obj.vocab);
}
