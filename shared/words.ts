// How post text is split into words, shared by the tokenizer (models/text/tokenizer.ts) and the UI's masking
// preview, so the preview's tokens are the trainer's tokens. Rules (after NFKC normalisation and lower-casing):
// - `<word>` placeholders such as `<url>` / `<number>` (CMKP's pre-processing) are one token;
// - a word is a run of letters, marks, digits or `_`;
// - `#hashtag` and `@mention` become the bare word (`#NBA` → `nba`): keyphrases are hashtags without the `#`,
//   so the model sees the same token in the post and in the answer; a lone `#` / `@` is punctuation;
// - every other non-space character is a token of its own (punctuation, emoji code points), except U+FFFD:
//   the replacement character stands for bytes that were not UTF-8 (the loader reports them), never a word.

const TOKEN_RE = /<[a-z][a-z0-9_]*>|[#@]?[\p{L}\p{M}\p{N}_]+|[^\s\uFFFD]/gu;

/** Splits text into word / punctuation tokens (lower-cased), per the rules above. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(TOKEN_RE)) {
    const token = match[0];
    out.push(token.length > 1 && (token[0] === '#' || token[0] === '@') ? token.slice(1) : token);
  }
  return out;
}
