// Whole-item filters: icon-theme members and generated shapes are dropped before keyphrase cleaning.
// Patterns were found by counting titles / tags over the 8,121 source files (see docs/clipart-kp.md).

import { normalizeTag } from './clean-keyphrases';
import type { SvgMetadata } from './svg-metadata';

export type ItemDropReason = 'icon-theme' | 'generated-shape';

/** Tags that only icon-theme exports carry (Lemon, Flat, Etiquette, Gold, Plastik, Blueberry themes). */
const ICON_THEME_TAGS = new Set(['theme', 'lemon theme icon', 'icons']);
/** Titles of icon-theme exports. */
const ICON_THEME_TITLE = /\bicon (?:collection|theme)\b|\bsvg theme\b|\biconset\b|-icon-theme\b|-theme$|^etiquette icons$/i;

/**
 * Generated geometry: the 1,375 "gramastar" star polygons (tag `magick`), Alan Horkan's 119 gradient swatches,
 * and the numbered `geometry`-tagged arrow variants. All share one title per batch and differ only in
 * parameters, so they would teach nothing about text ↔ keyphrase.
 */
const GENERATED_TAGS = new Set(['magick', 'gradients', 'gradient', 'geometry']);
const GENERATED_TITLE = /^gramastar$|\bgradient collection\b/i;

/** The reason to drop this item as a whole, or null to keep it. */
export function itemDropReason(meta: SvgMetadata): ItemDropReason | null {
  const tags = meta.subjects.map(normalizeTag);
  if (tags.some((t) => ICON_THEME_TAGS.has(t)) || ICON_THEME_TITLE.test(meta.title.trim())) return 'icon-theme';
  if (tags.some((t) => GENERATED_TAGS.has(t)) || GENERATED_TITLE.test(meta.title.trim())) return 'generated-shape';
  return null;
}
