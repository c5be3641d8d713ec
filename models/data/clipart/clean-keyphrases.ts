// Turns openclipart `dc:subject` entries into clean keyphrases. Every rule below is documented in
// docs/clipart-kp.md and tested in test/data/clipart.test.ts; the lists come from counting the 8,121 source files.

/**
 * Tags that say nothing about the picture: format / licence / site words, the package's folder names
 * used as tags, icon-theme bookkeeping and generator words. Compared after normalization.
 */
export const MEANINGLESS_TAGS: ReadonlySet<string> = new Set([
  // site, format and licence words
  'clip art', 'clipart', 'cliparts', 'clip-art', 'image', 'images', 'picture', 'media', 'png', 'svg', 'eps', 'vector',
  'public domain', 'publicdomain', 'openclipart', 'open clip art', 'open clip art library', 'externalsource',
  'remix', 'inkscape', 'drawing', 'illustration', 'graphic', 'graphics', 'art',
  // openclipart folder / upload-batch names used as tags
  'unsorted', 'special', 'signs and symbols', 'misc', 'miscellaneous', 'other', 'various', 'stuff', 'new',
  'r16', 'untitled', 'none', 'test',
  // icon-theme and generator bookkeeping
  'icon', 'icons', 'theme', 'lemon theme icon', 'appicon', 'mimetypes', 'mime-types', 'mime types',
  'magick', 'gramastar', 'simple', 'miscellany',
]);

/**
 * `HASH(0x8589dd0)` is a Perl stringified reference left by the export script; its truncated twins are a bare
 * `hash` tag (1,924 files) and a bare address `0x8f48a28` (flag files).
 */
export function isHashJunk(tag: string): boolean {
  const t = tag.trim();
  return /hash\s*\(\s*0x/i.test(t) || /^hash$/i.test(t) || /^\(?0x[0-9a-f]+\)?$/i.test(t);
}

// An address, with the "contact:" / "email:" label in front of it when there is one.
const EMAIL = /(?:\b(?:contact|e-?mail|mail)\s*:?\s*)?[^\s@,;()<>[\]]+@[^\s@,;()<>[\]]+\.[a-z]{2,}/gi;

/** Removes e-mail addresses (and `name AT host DOT org` spellings) from a text. */
export function stripEmails(text: string): string {
  return text.replace(EMAIL, ' ').replace(/\b\w+at\w+dot(?:org|com|net|de|fr|it)\b/gi, ' ');
}

/**
 * Normalizes one tag: `_` → space, lower case, collapse white space, trim punctuation at both ends.
 * Returns '' for tags that are empty after that.
 */
export function normalizeTag(raw: string): string {
  return raw
    .replace(/_/g, ' ')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
    .trim();
}

/** A name normalized for comparison with tags (`Jean-Victor Balin` → `jean-victor balin`; bracketed e-mails dropped). */
export function normalizeName(raw: string): string {
  return normalizeTag(stripEmails(raw).replace(/[[(][^\])]*[\])]/g, ' '));
}

/**
 * Splits one `rdf:li` on commas, semicolons and slashes (authors' explicit list separators, and folder paths such
 * as `signs_and_symbols/weather`); spaces are handled later. URLs are kept whole so they can be dropped.
 */
export function splitOnSeparators(li: string): string[] {
  return URL_RE.test(li) ? [li] : li.split(/[,;/]/);
}

const URL_RE = /\b(?:https?:\/\/|www\.)/i;

/** Function words that are never keyphrases on their own (they appear when a space-separated list is split). */
const STOPWORDS: ReadonlySet<string> = new Set(['a', 'an', 'and', 'the', 'of', 'for', 'with', 'in', 'on', 'to', 'de', 'la', 'le', 'et']);

/**
 * Decides whether a multi-word entry is really a space-separated list. `words` are the entry's space-separated
 * pieces, already normalized (an underscore joins words inside one piece, so `signs_and_symbols` stays one piece).
 * Evidence from the data: of the multi-word entries (author names aside), two-word ones are mostly real phrases
 * ("czech republic", "santa claus", "car rental") while longer ones are mostly keyword lists
 * ("space astronomy planet jupiter", "traffic signal man stop go sign pedestrian"). So: 4+ pieces are always
 * split; 2–3 pieces are split only when every piece is itself used as a one-word tag elsewhere in the source
 * ("moon space", "paper symbol"), otherwise the entry is kept as one phrase ("rent a car", "usti nad labem").
 */
export function splitSpaceList(words: readonly string[], singleWordTags: ReadonlySet<string>): string[] {
  if (words.length <= 1) return [...words];
  if (words.length >= 4 || words.every((w) => singleWordTags.has(w))) return words.filter((w) => !STOPWORDS.has(w));
  return [words.join(' ')];
}

export interface KeyphraseContext {
  /** Normalized names of this item's creator / publisher / rights holders. */
  ownNames: readonly string[];
  /** Creator names seen anywhere in the source, from {@link nameSet} (an author's name is a tag on other authors' files too). */
  allNames: ReadonlySet<string>;
  /** One-word tags seen anywhere in the source (evidence for splitting space-separated lists). */
  singleWordTags: ReadonlySet<string>;
}

/** Why a tag was dropped; counted by the builder for the report. */
export type TagDropReason = 'empty' | 'hash' | 'email' | 'url' | 'author' | 'meaningless' | 'number' | 'duplicate';

const compact = (s: string): string => s.replace(/[\s.-]/g, '');

/** The set for {@link KeyphraseContext.allNames}: each normalized name, also written without spaces / dots / dashes. */
export function nameSet(rawNames: Iterable<string>): Set<string> {
  const set = new Set<string>();
  for (const raw of rawNames) {
    const n = normalizeName(raw);
    if (n) set.add(n).add(compact(n));
  }
  return set;
}

function isAuthorTag(tag: string, ctx: KeyphraseContext): boolean {
  if (ctx.allNames.has(tag) || ctx.allNames.has(compact(tag))) return true;
  for (const name of ctx.ownNames) {
    if (!name) continue;
    if (tag === name) return true;
    // A tag that is one part of the item's own creator name ("rollandin", "francesco").
    const parts = name.split(/[\s-]+/).filter((p) => p.length >= 3);
    if (parts.includes(tag)) return true;
    // Names written without spaces ("nicubuculei") or with them swapped.
    if (compact(tag) === compact(name)) return true;
  }
  return false;
}

/**
 * Cleans an item's raw subject entries into keyphrases (order kept, duplicates removed).
 * `dropped` collects the reason of every removed tag, for statistics.
 */
export function cleanKeyphrases(
  subjects: readonly string[],
  ctx: KeyphraseContext,
  dropped?: (reason: TagDropReason, raw: string) => void,
): string[] {
  const out: string[] = [];
  const drop = (reason: TagDropReason, raw: string): void => dropped?.(reason, raw);
  for (const li of subjects) {
    if (isHashJunk(li)) {
      drop('hash', li);
      continue;
    }
    for (const part of splitOnSeparators(li)) {
      if (isHashJunk(part)) {
        drop('hash', part);
        continue;
      }
      if (part.includes('@') || stripEmails(part) !== part) {
        drop('email', part);
        continue;
      }
      if (URL_RE.test(part)) {
        drop('url', part);
        continue;
      }
      const norm = normalizeTag(part);
      if (!norm) {
        drop('empty', part);
        continue;
      }
      if (MEANINGLESS_TAGS.has(norm)) {
        drop('meaningless', part);
        continue;
      }
      if (isAuthorTag(norm, ctx)) {
        drop('author', part);
        continue;
      }
      // Split on the author's spaces only: underscores join the words of one piece.
      const pieces = part.trim().split(/\s+/).map(normalizeTag).filter(Boolean);
      for (const t of splitSpaceList(pieces, ctx.singleWordTags)) {
        if (isHashJunk(t)) drop('hash', t);
        else if (MEANINGLESS_TAGS.has(t)) drop('meaningless', t);
        else if (/^[\p{N}\s.]+$/u.test(t) || t.length < 2) drop('number', t);
        else if (isAuthorTag(t, ctx)) drop('author', t);
        else if (out.includes(t)) drop('duplicate', t);
        else out.push(t);
      }
    }
  }
  return out;
}

/** One-word normalized tags of a corpus (input to {@link splitSpaceList}). */
export function collectSingleWordTags(allSubjects: Iterable<readonly string[]>): Set<string> {
  const set = new Set<string>();
  for (const subjects of allSubjects) {
    for (const li of subjects) {
      for (const part of splitOnSeparators(li)) {
        const pieces = part.trim().split(/\s+/);
        if (pieces.length !== 1) continue;
        const t = normalizeTag(pieces[0]);
        if (t && !isHashJunk(t)) set.add(t);
      }
    }
  }
  return set;
}
