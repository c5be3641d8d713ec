// The project's one data-set format: a folder with `manifest.jsonl` (one item per line) and the images beside it.

import type { Split } from '../../shared/vocabulary';

export { SPLITS, type Split } from '../../shared/vocabulary';

/** One line of manifest.jsonl. */
export interface ManifestItem {
  /** Unique within the data set. */
  id: string;
  split: Split;
  /** The post text (may be empty for image-only items). */
  text: string;
  /** Image path relative to the data-set folder, or null when the item has no image. */
  image: string | null;
  /** Gold keyphrases in the data set's order; never empty. */
  keyphrases: string[];
  /** Optional extras kept by importers (CMKP: image attributes and OCR text). */
  attributes?: string;
  ocr?: string;
  /** Where the item came from (file + line, or source file), for provenance. */
  source?: string;
}

/** Optional `dataset.json` beside the manifest: what the set is and where it came from. */
export interface DatasetInfo {
  name: string;
  description: string;
  /** How to rebuild it (the command). */
  builtWith?: string;
  license?: string;
  createdAt?: string;
}
