// Decoding settings as an API caller gives them: a strategy and any overrides, validated on top of the
// strategy's defaults (the CLI's flags go through decodeSettingsFromFlags, with the same rules).
import { CoreError } from '../core-error';
import { defaultDecode, type DecodeSettings } from './decode-settings';
import { DECODE_STRATEGIES, isDecodeStrategy } from './run-paths';

export type DecodeRequest = Partial<DecodeSettings>;

/** The strategy's defaults (beam-sample = the paper's test setting) with `request` on top; BAD_INPUT names a bad field. */
export function resolveDecode(
  request: DecodeRequest = {},
  fallback: DecodeSettings['strategy'] = 'beam-sample',
): DecodeSettings {
  const strategy = request.strategy ?? fallback;
  if (!isDecodeStrategy(strategy))
    throw new CoreError(
      'BAD_INPUT',
      `decode.strategy must be one of ${DECODE_STRATEGIES.join(', ')}, got "${String(strategy)}"`,
      { field: 'decode.strategy' },
    );
  const d = defaultDecode(strategy);
  const s: DecodeSettings = {
    strategy,
    beamSize: strategy === 'greedy' ? 1 : (request.beamSize ?? d.beamSize),
    temperature: request.temperature ?? d.temperature,
    maxNewTokens: request.maxNewTokens ?? d.maxNewTokens,
    repeats: request.repeats ?? d.repeats,
    seed: request.seed ?? d.seed,
  };
  const bad = (field: keyof DecodeSettings, rule: string) =>
    new CoreError('BAD_INPUT', `decode.${field} ${rule}, got ${JSON.stringify(s[field])}`, {
      field: `decode.${field}`,
    });
  if (!Number.isInteger(s.beamSize) || s.beamSize < 1) throw bad('beamSize', 'must be an integer >= 1');
  if (!(typeof s.temperature === 'number' && s.temperature > 0 && Number.isFinite(s.temperature)))
    throw bad('temperature', 'must be a number > 0');
  if (!Number.isInteger(s.repeats) || s.repeats < 1) throw bad('repeats', 'must be an integer >= 1');
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1) throw bad('maxNewTokens', 'must be an integer >= 1');
  if (!Number.isInteger(s.seed)) throw bad('seed', 'must be an integer');
  return s;
}
