// From a data-set folder to the model's inputs: the prompt template, the tokenizer (built from the train
// split), image features through the feature cache, and EncodedExamples with the run's length limits.
// The evaluation tools use encodeItems() too, so training and inference cut texts and answers identically.
import { createHash } from 'node:crypto';
import type { EncodedExample, PromptTemplate } from '../lm/contract';
import type { ManifestItem } from '../data/manifest-types';
import type { Tokenizer } from '../text/tokenizer-types';
import { buildTokenizer } from '../text/tokenizer';
import type { TrainConfig } from '../run/train-config';

/** LLaVA-1.5's prompt, word-tokenized: `USER: <image>{text}\nWhat phrases should be used to tag the media? ASSISTANT: {answer}`. */
export const PROMPT_PREFIX = 'USER:';
export const PROMPT_INSTRUCTION = 'What phrases should be used to tag the media? ASSISTANT:';

export function promptTemplate(tokenizer: Tokenizer): PromptTemplate {
  return {
    prefix: tokenizer.encode(PROMPT_PREFIX),
    instruction: tokenizer.encode(PROMPT_INSTRUCTION),
    eos: tokenizer.specials.eos,
    pad: tokenizer.specials.pad,
  };
}

/** Vocabulary from the train split's posts and keyphrases, plus the template words. */
export function buildRunTokenizer(
  train: readonly ManifestItem[],
  config: Pick<TrainConfig, 'minWordCount' | 'maxVocab'>,
): Tokenizer {
  const texts: string[] = [];
  for (const item of train) texts.push(item.text, ...item.keyphrases);
  return buildTokenizer(texts, {
    minCount: config.minWordCount,
    maxVocab: config.maxVocab ?? undefined,
    extra: [PROMPT_PREFIX, PROMPT_INSTRUCTION],
  });
}

/** Answer ids `kp1 <sep> kp2 … <eos>` of at most `max` ids: whole keyphrases while they fit, else the first one cut. */
export function encodeAnswer(tokenizer: Tokenizer, keyphrases: string[], max: number): Int32Array {
  for (let k = keyphrases.length; k >= 1; k--) {
    const ids = tokenizer.encodeKeyphrases(keyphrases.slice(0, k));
    if (ids.length <= max) return ids;
  }
  const first = tokenizer.encodeKeyphrases(keyphrases.slice(0, 1));
  const cut = new Int32Array(max);
  cut.set(first.subarray(0, max - 1));
  cut[max - 1] = tokenizer.specials.eos;
  return cut;
}

export type Limits = Pick<TrainConfig, 'maxTextTokens' | 'maxAnswerTokens'>;

/** Items → EncodedExamples with dense indices 0..n-1 (the stride maps' keys). Missing features → no image. */
export function encodeItems(
  items: readonly ManifestItem[],
  tokenizer: Tokenizer,
  features: ReadonlyMap<string, Float32Array | null>,
  limits: Limits,
): EncodedExample[] {
  return items.map((item, index) => ({
    index,
    id: item.id,
    image: item.image === null ? null : (features.get(item.id) ?? null),
    text: tokenizer.encode(item.text).slice(0, limits.maxTextTokens),
    answer: encodeAnswer(tokenizer, item.keyphrases, limits.maxAnswerTokens),
  }));
}

/** Longest row: prefix + G² image tokens + text + instruction + answer. */
export function maxPositionsFor(template: PromptTemplate, grid: number, limits: Limits): number {
  return (
    template.prefix.length + grid * grid + limits.maxTextTokens + template.instruction.length + limits.maxAnswerTokens
  );
}

/** A short hash of the ordered train ids: resuming on a different train split is refused. */
export function fingerprint(items: readonly ManifestItem[]): string {
  const h = createHash('sha1');
  for (const item of items) h.update(item.id).update('\n');
  return h.digest('hex').slice(0, 16);
}
