// Where the evaluation tools read and write inside a run folder (see docs/evaluation.md, "Run folder").
import { join } from 'node:path';
import { CoreError } from '../core-error';
import {
  DECODE_STRATEGIES,
  EVAL_MODES,
  SPLITS,
  type DecodeStrategy,
  type EvalMode,
  type Split,
} from '../../shared/vocabulary';

export { DECODE_STRATEGIES, EVAL_MODES, type DecodeStrategy };

export function isEvalMode(value: string): value is EvalMode {
  return (EVAL_MODES as readonly string[]).includes(value);
}

export function isDecodeStrategy(value: string): value is DecodeStrategy {
  return (DECODE_STRATEGIES as readonly string[]).includes(value);
}

/** RUN/predictions/<split>.<mode>.<decode>.jsonl */
export function predictionsPath(runDir: string, split: string, mode: EvalMode, decode: DecodeStrategy): string {
  return join(runDir, 'predictions', `${split}.${mode}.${decode}.jsonl`);
}

/** RUN/metrics/<split>.<mode>.<decode>.json */
export function metricsPath(runDir: string, split: string, mode: EvalMode, decode: DecodeStrategy): string {
  return join(runDir, 'metrics', `${split}.${mode}.${decode}.json`);
}

/** RUN/robustness/<split>.json (and .md beside it). */
export function robustnessPath(runDir: string, split: string): string {
  return join(runDir, 'robustness', `${split}.json`);
}

/** An API caller's split (default 'test'), or BAD_INPUT naming the field. */
export function splitOption(value: string | undefined): Split {
  const split = value ?? 'test';
  if (!(SPLITS as readonly string[]).includes(split))
    throw new CoreError('BAD_INPUT', `split must be one of ${SPLITS.join(', ')}, got "${split}"`, { field: 'split' });
  return split as Split;
}

/** An API caller's checkpoint choice (default 'best'), or BAD_INPUT. */
export function whichOption(value: string | undefined): 'best' | 'last' {
  const which = value ?? 'best';
  if (which !== 'best' && which !== 'last')
    throw new CoreError('BAD_INPUT', `which must be best or last, got "${which}"`, { field: 'which' });
  return which;
}
