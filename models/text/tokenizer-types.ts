/** Word-level tokenizer built from training text; saved with the model. */
export interface TokenizerSpecials {
  pad: number;
  unk: number;
  bos: number;
  eos: number;
  /** The ", " between keyphrases in the answer. */
  sep: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly specials: TokenizerSpecials;
  /** Post text or prompt text → ids (no specials added). */
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** `kp1, kp2` answer ids ending with EOS. */
  encodeKeyphrases(keyphrases: string[]): Int32Array;
  /** Answer ids (EOS optional) → keyphrases, split at SEP, empty ones dropped. */
  decodeKeyphrases(ids: ArrayLike<number>): string[];
  toJSON(): TokenizerJson;
}

export interface TokenizerJson {
  kind: 'word-v1';
  lowercase: boolean;
  vocab: string[];
}
