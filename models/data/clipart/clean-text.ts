// Builds an item's text from its title and description, removing the export scripts' boilerplate.
// Rules are documented in docs/clipart-kp.md and tested in test/data/clipart.test.ts.

import { MEANINGLESS_TAGS, normalizeTag, stripEmails } from './clean-keyphrases';

/**
 * Titles that name a collection or upload batch, not the picture (found by counting repeated titles).
 * Such a title is replaced by one made from the file name (see {@link titleFromFileName}).
 */
const COLLECTION_TITLES: readonly RegExp[] = [
  /^part of the .* collection\b/i,
  /\bsvg (?:gradient collection|theme|road signs)\b/i,
  /\bicon(?:s|set)?\b.*\b(?:collection|theme|set)\b|\biconset\b|-theme$|\bicons$/i,
  /^various cliparts?$/i,
  /^r\d+ s[iu]bmission$/i,
  /^aiga[_ ]symbol[_ ]signs$/i,
  /^map symbols$/i,
  /^gramastar$/i,
  /^untitled\b/i,
];

/** `Clipart by Nicu Buculei - jigsaw_red_10` → `jigsaw_red_10` (the prefix is a credit, not a title). */
const CREDIT_PREFIX = /^clip\s*art\s+by\s+[^-–]+[-–]\s*/i;

/** Words that are credits or format labels when they appear in a title ("Homes Clipart"). */
const TITLE_NOISE_WORDS = /\b(?:clip\s*arts?|svg|png|public domain)\b/gi;

/** Collapses white space, turns `_` into spaces and drops e-mails, `HASH(0x…)` junk, URLs and markup. */
export function tidyText(raw: string): string {
  return stripEmails(raw)
    .replace(/hash\s*\(\s*0x[0-9a-f]*\s*\)?/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ')
    .replace(/\(\s*\)|\[\s*\]/g, ' ') // brackets emptied by the removals above
    .replace(/_/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;:.\-–]+|[\s,;:\-–]+$/g, '')
    .trim();
}

/** True when the title names a collection / batch rather than the picture. */
export function isCollectionTitle(title: string): boolean {
  return COLLECTION_TITLES.some((re) => re.test(title.trim()));
}

/**
 * Cleans a `dc:title`: e-mails, credits, `_` and format words removed. Collection titles and titles that are only
 * an e-mail or a number give ''.
 */
export function cleanTitle(raw: string): string {
  if (isCollectionTitle(raw)) return '';
  const t = tidyText(raw.replace(CREDIT_PREFIX, '').replace(TITLE_NOISE_WORDS, ' '));
  return /[\p{L}]/u.test(t) ? t : '';
}

/** Descriptions that are licence notes, converter notes or contact lines, not a description of the picture. */
const BOILERPLATE_DESCRIPTIONS: readonly RegExp[] = [
  /public domain/i,
  /^eps converted from\b/i,
  /^created with inkscape\b/i,
  /^data from\b/i,
  /^contact\b/i,
  /^part of .* collection$/i,
];

/**
 * Cleans a `dc:description`. Returns '' for boilerplate and for descriptions that only repeat (part of) the title
 * (compared letters-and-digits only, case-insensitive). Long descriptions are cut at a sentence end near 300
 * characters: the text is meant to look like a short post.
 */
export function cleanDescription(raw: string, title: string): string {
  if (BOILERPLATE_DESCRIPTIONS.some((re) => re.test(raw.trim()))) return '';
  let d = tidyText(raw);
  if (!/[\p{L}]/u.test(d)) return '';
  const key = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  if (key(title).includes(key(d))) return ''; // "Hamburger (B and W)" / "Hamburger"
  if (d.length > 300) {
    const cut = d.slice(0, 300);
    const end = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('! '), cut.lastIndexOf('? '));
    d = end > 80 ? cut.slice(0, end + 1) : `${cut.replace(/\s+\S*$/, '')}…`;
  }
  return d;
}

/**
 * A title made from the file name, for items whose `dc:title` is a collection title:
 * `aiga_coat_check_.svg` → `aiga coat check`. Pieces that are numbers, version / size suffixes, or (prefixes of)
 * the creator's name or initials (file names carry truncated author names: `_jean_vi_`, `_architet_01`, `_bwh`)
 * are dropped.
 */
export function titleFromFileName(fileName: string, ownNames: readonly string[]): string {
  const base = fileName.replace(/\.svg$/i, '');
  const nameParts = ownNames.flatMap((n) => normalizeTag(n).split(/[\s.-]+/)).filter((p) => p.length >= 2);
  // initials too: `_bwh` is Bryce W. Harrington
  const initials = ownNames.map((n) => normalizeTag(n).split(/[\s.-]+/).filter(Boolean).map((w) => w[0]).join('')).filter((i) => i.length >= 2);
  const pieces = base.split(/[_\-\s.]+/).map((p) => p.toLowerCase()).filter(Boolean);
  const kept = pieces.filter((p, i) => {
    if (/^\d+[a-z]?$/.test(p) || /^v\d/.test(p) || p === 'md' || p.length < 2 || MEANINGLESS_TAGS.has(p)) return false;
    // a creator-name fragment, but never the first word (the first word is what the file is about)
    return i === 0 || !(nameParts.some((n) => n.startsWith(p)) || initials.includes(p));
  });
  // nothing left but the creator's name: no title
  return kept.length === 1 && pieces.length > 1 && nameParts.some((n) => n.startsWith(kept[0])) ? '' : kept.join(' ');
}

/** A title shared by this many files or more names a batch (e.g. "Clipart by Nicu Buculei - nosmoke" on 14 files,
 *  one of them an anchor), not the picture: such items get their title from the file name instead. */
export const BATCH_TITLE_MIN_FILES = 5;

/** The item's text: `title. description`, or whichever of the two is non-empty. */
export function buildText(title: string, description: string): string {
  if (!title) return description;
  if (!description) return title;
  return `${title.replace(/[.!?]+$/, '')}. ${description}`;
}
