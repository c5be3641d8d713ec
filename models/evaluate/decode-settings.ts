// Decoding settings of the evaluation commands and the paper's test setting.
import type { DecodeOptions } from '../lm/contract';
import { CoreError } from '../core-error';
import { intFlag, numberFlag } from '../cli/args';
import { DECODE_STRATEGIES, isDecodeStrategy, type DecodeStrategy } from './run-paths';

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
export const PAPER_TEST_DECODE: DecodeSettings = { strategy: 'beam-sample', beamSize: 5, temperature: 0.5, maxNewTokens: 40, repeats: 3, seed: 1 };

/** Per-epoch validation / robustness decoding: greedy, one pass (deterministic, so repeating is pointless). */
export const GREEDY_DECODE: DecodeSettings = { strategy: 'greedy', beamSize: 1, temperature: 1, maxNewTokens: 40, repeats: 1, seed: 1 };

/**
 * Defaults per strategy: beam-sample = the paper's setting; beam = beam 5 once (deterministic);
 * greedy = one pass.
 */
export function defaultDecode(strategy: DecodeStrategy): DecodeSettings {
  if (strategy === 'beam-sample') return { ...PAPER_TEST_DECODE };
  if (strategy === 'beam') return { ...PAPER_TEST_DECODE, strategy: 'beam', temperature: 1, repeats: 1 };
  return { ...GREEDY_DECODE };
}

/** The flags every decoding command accepts (parseArgs option specs). */
export const DECODE_FLAG_OPTIONS = {
  decode: { type: 'string' },
  beam: { type: 'string' },
  temperature: { type: 'string' },
  repeats: { type: 'string' },
  'max-new': { type: 'string' },
  seed: { type: 'string' },
} as const;

export const DECODE_FLAG_HELP = `Decoding:
  --decode greedy|beam|beam-sample   default beam-sample (the paper's test setting)
  --beam N             beam width (default 5; ignored by greedy)
  --temperature T      softmax temperature of beam-sample (default 0.5)
  --repeats N          decode N times with seeds seed..seed+N-1 and average the scores
                       (default 3 for beam-sample, 1 otherwise: greedy and beam are deterministic)
  --max-new N          at most N new tokens per item (default 40)
  --seed N             base seed of the sampling (default 1)`;

export interface DecodeFlagValues {
  decode?: string;
  beam?: string;
  temperature?: string;
  repeats?: string;
  'max-new'?: string;
  seed?: string;
}

/** Resolves the decoding flags of `command` on top of the strategy's defaults, validating ranges. */
export function decodeSettingsFromFlags(command: string, v: DecodeFlagValues, fallback: DecodeStrategy = 'beam-sample'): DecodeSettings {
  const name = v.decode ?? fallback;
  if (!isDecodeStrategy(name)) throw new CoreError('BAD_INPUT', `aimkp ${command}: --decode must be one of ${DECODE_STRATEGIES.join(', ')}, got "${name}"`);
  const d = defaultDecode(name);
  const s: DecodeSettings = {
    strategy: name,
    beamSize: name === 'greedy' ? 1 : intFlag(command, v.beam, 'beam', d.beamSize),
    temperature: numberFlag(command, v.temperature, 'temperature', d.temperature),
    repeats: intFlag(command, v.repeats, 'repeats', d.repeats),
    maxNewTokens: intFlag(command, v['max-new'], 'max-new', d.maxNewTokens),
    seed: intFlag(command, v.seed, 'seed', d.seed),
  };
  if (s.beamSize < 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --beam must be >= 1`);
  if (!(s.temperature > 0)) throw new CoreError('BAD_INPUT', `aimkp ${command}: --temperature must be > 0`);
  if (s.repeats < 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --repeats must be >= 1`);
  if (s.maxNewTokens < 1) throw new CoreError('BAD_INPUT', `aimkp ${command}: --max-new must be >= 1`);
  return s;
}

/** The LM's options for repeat `repeat` (0-based): each repeat gets its own seed. */
export function decodeOptionsFor(s: DecodeSettings, repeat: number): DecodeOptions {
  return { strategy: s.strategy, beamSize: s.beamSize, temperature: s.temperature, maxNewTokens: s.maxNewTokens, seed: s.seed + repeat };
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
