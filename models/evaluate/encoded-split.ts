import type { EncodedExample } from '../lm/contract';

/** A data-set split as the LM sees it, with its gold keyphrases. */
export interface EncodedSplit {
  examples: EncodedExample[];
  /** Gold keyphrases, aligned with `examples`. */
  gold: string[][];
  texts: string[];
  /** Items left out (bad manifest lines, images that failed to encode). */
  skipped: number;
}
