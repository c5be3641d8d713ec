// The decoding flags of `aimkp predict`, `eval --run` and `compare` (flag specs, help text, parsing).
import { CoreError } from '../core-error';
import { defaultDecode, type DecodeSettings } from '../evaluate/decode-settings';
import { DECODE_STRATEGIES, isDecodeStrategy, type DecodeStrategy } from '../evaluate/run-paths';
import { intFlag, numberFlag } from './args';

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
export function decodeSettingsFromFlags(
  command: string,
  v: DecodeFlagValues,
  fallback: DecodeStrategy = 'beam-sample',
): DecodeSettings {
  const name = v.decode ?? fallback;
  if (!isDecodeStrategy(name))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp ${command}: --decode must be one of ${DECODE_STRATEGIES.join(', ')}, got "${name}"`,
    );
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
