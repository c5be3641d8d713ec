// Decoding settings of the evaluation commands and the paper's test setting.
import type { DecodeOptions } from '../lm/contract';
import type { DecodeStrategy } from './run-paths';

export interface DecodeSettings {
  strategy: DecodeStrategy;
  beamSize: number;
  temperature: number;
  maxNewTokens: number;
  /** Decoding runs this many times (different seeds); scores are averaged over repeats. */
  repeats: number;
  /** Base seed; repeat r uses seed + r. */
  seed: number;
}

/** The paper's test decoding: beam 5 with sampling, temperature 0.5, 40 new tokens, 3 repeats averaged. */
export const PAPER_TEST_DECODE: DecodeSettings = {
  strategy: 'beam-sample',
  beamSize: 5,
  temperature: 0.5,
  maxNewTokens: 40,
  repeats: 3,
  seed: 1,
};

/** Per-epoch validation / robustness decoding: greedy, one pass (deterministic, so repeating is pointless). */
export const GREEDY_DECODE: DecodeSettings = {
  strategy: 'greedy',
  beamSize: 1,
  temperature: 1,
  maxNewTokens: 40,
  repeats: 1,
  seed: 1,
};

/**
 * Defaults per strategy: beam-sample = the paper's setting; beam = beam 5 once (deterministic);
 * greedy = one pass.
 */
export function defaultDecode(strategy: DecodeStrategy): DecodeSettings {
  if (strategy === 'beam-sample') return { ...PAPER_TEST_DECODE };
  if (strategy === 'beam') return { ...PAPER_TEST_DECODE, strategy: 'beam', temperature: 1, repeats: 1 };
  return { ...GREEDY_DECODE };
}

/** The LM's options for repeat `repeat` (0-based): each repeat gets its own seed. */
export function decodeOptionsFor(s: DecodeSettings, repeat: number): DecodeOptions {
  return {
    strategy: s.strategy,
    beamSize: s.beamSize,
    temperature: s.temperature,
    maxNewTokens: s.maxNewTokens,
    seed: s.seed + repeat,
  };
}

/** "beam-sample (beam 5, T=0.5, 40 new tokens, 3 repeats averaged)" */
export function describeDecode(s: DecodeSettings): string {
  const parts: string[] = [];
  if (s.strategy !== 'greedy') parts.push(`beam ${s.beamSize}`);
  if (s.strategy === 'beam-sample') parts.push(`T=${s.temperature}`);
  parts.push(`${s.maxNewTokens} new tokens`);
  parts.push(s.repeats > 1 ? `${s.repeats} repeats averaged` : '1 pass');
  return `${s.strategy} (${parts.join(', ')})`;
}
