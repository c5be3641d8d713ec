// Rows the benchmark trains and decodes on: the bundled data set's real token lengths when it is there,
// otherwise synthetic rows of the same shape. Image features are synthetic either way (timing does not
// depend on their values, and encoding thousands of images would dominate the benchmark).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EncodedExample, PromptTemplate } from '../lm/contract';
import { loadDataset } from '../data/load-dataset';
import { buildTokenizer, SPECIALS } from '../text/tokenizer';
import { createRng } from '../evaluate/rng';

export interface BenchRows {
  source: string;
  vocabSize: number;
  template: PromptTemplate;
  /** Training rows (with answers). */
  examples: EncodedExample[];
  meanTextTokens: number;
  meanAnswerTokens: number;
}

export interface BenchRowOptions {
  dataDir: string | null;
  count: number;
  grid: number;
  channels: number;
  maxTextTokens: number;
  maxAnswerTokens: number;
  /** Synthetic rows: vocabulary, text and answer lengths. */
  synthetic: { vocabSize: number; textTokens: number; answerTokens: number };
  seed: number;
}

/** The prompt words around the image and text spans (as the paper's LLaVA prompt, lower-cased). */
const PREFIX = 'user :';
const INSTRUCTION = 'what phrases should be used to tag the media ? assistant :';

function syntheticFeatures(n: number, seed: number): Float32Array {
  // ReLU6-like non-negative activations, as MobileNetV2's last feature map.
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => Math.min(6, Math.max(0, rng.gaussian())));
}

export async function benchRows(o: BenchRowOptions): Promise<BenchRows> {
  const featureSize = o.grid * o.grid * o.channels;
  if (o.dataDir !== null && existsSync(join(o.dataDir, 'manifest.jsonl'))) {
    const ds = await loadDataset(o.dataDir, { checkImages: false, splits: ['train'] });
    const items = ds.items.slice(0, Math.max(o.count, 1));
    if (items.length > 0) {
      const tok = buildTokenizer(
        ds.items.flatMap((it) => [it.text, ...it.keyphrases]),
        { maxVocab: 8000, extra: [PREFIX, INSTRUCTION] },
      );
      const examples = items.map((it, i): EncodedExample => {
        const ans = tok.encodeKeyphrases(it.keyphrases);
        const answer =
          ans.length > o.maxAnswerTokens
            ? Int32Array.from([...ans.slice(0, o.maxAnswerTokens - 1), SPECIALS.eos])
            : ans;
        return {
          index: i,
          id: it.id,
          image: syntheticFeatures(featureSize, o.seed + i),
          text: tok.encode(it.text).slice(0, o.maxTextTokens),
          answer,
        };
      });
      return finish(
        `${o.dataDir} train split (first ${examples.length} items; synthetic image features)`,
        tok.vocabSize,
        { prefix: tok.encode(PREFIX), instruction: tok.encode(INSTRUCTION), eos: SPECIALS.eos, pad: SPECIALS.pad },
        examples,
      );
    }
  }
  const s = o.synthetic;
  const rng = createRng(o.seed);
  const word = () => 5 + rng.int(s.vocabSize - 5);
  const examples = Array.from({ length: o.count }, (_, i): EncodedExample => ({
    index: i,
    id: `synthetic-${i}`,
    image: syntheticFeatures(featureSize, o.seed + i),
    text: Int32Array.from({ length: s.textTokens }, word),
    answer: Int32Array.from({ length: s.answerTokens }, (_, k) => (k === s.answerTokens - 1 ? SPECIALS.eos : word())),
  }));
  const template: PromptTemplate = {
    prefix: Int32Array.from([SPECIALS.bos, 5, 6]),
    instruction: Int32Array.from({ length: 12 }, (_, k) => 7 + k),
    eos: SPECIALS.eos,
    pad: SPECIALS.pad,
  };
  return finish(
    `synthetic rows (${s.textTokens} text tokens, ${s.answerTokens} answer tokens, vocabulary ${s.vocabSize})`,
    s.vocabSize,
    template,
    examples,
  );
}

function finish(source: string, vocabSize: number, template: PromptTemplate, examples: EncodedExample[]): BenchRows {
  const mean = (f: (e: EncodedExample) => number) =>
    examples.reduce((a, e) => a + f(e), 0) / Math.max(1, examples.length);
  return {
    source,
    vocabSize,
    template,
    examples,
    meanTextTokens: mean((e) => e.text.length),
    meanAnswerTokens: mean((e) => e.answer.length),
  };
}
