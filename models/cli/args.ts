import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CoreError } from '../core-error';
import { MAX_WORKERS } from '../parallel/worker-count';
import { BACKEND_CHOICES, isBackendRequest, type BackendRequest } from '../tf/backend';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Negative numbers are values: `--epochs -1` becomes `--epochs=-1` for string options, so the flag's own
 * check can say "--epochs must be ≥ 1" instead of parseArgs' "argument is ambiguous".
 */
export function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** parseArgs with strict checking; its errors become one-line BAD_INPUT CoreErrors that name the command. */
export function parseCommandArgs<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals });
  } catch (err) {
    // parseArgs' messages span lines and suggest syntax; the first sentence is what the user needs.
    const first = (err as Error).message
      .split('\n')[0]
      .replace(/\. To specify .*$/, '')
      .replace(/\. This command does not take positional arguments$/, ' (this command takes no positional arguments)');
    throw new CoreError('BAD_INPUT', `aimkp ${command}: ${first} (see "aimkp ${command} --help")`, {
      hint: `aimkp ${command} --help`,
    });
  }
}

/** Reads a required string flag or fails with a message naming it. */
export function requireFlag(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '')
    throw new CoreError('BAD_INPUT', `aimkp ${command}: missing required flag --${flag}`);
  return value;
}

/** Parses an integer flag, failing with the flag's name when it is not one. */
export function intFlag(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new CoreError('BAD_INPUT', `aimkp ${command}: --${flag} must be an integer, got "${value}"`);
  return n;
}

/**
 * --max-steps N: the global step to stop after (resumably). 0 would stop before the first step and write a
 * checkpoint of an untrained model, so it is refused with the flag named, like any value below 1.
 */
export function maxStepsFlag(command: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = intFlag(command, value, 'max-steps', 0);
  if (n < 1)
    throw new CoreError(
      'BAD_INPUT',
      `aimkp ${command}: --max-steps must be ≥ 1 (the global step to stop after), got ${n}`,
      { field: 'max-steps' },
    );
  return n;
}

/** Parses a number flag, failing with the flag's name when it is not one. */
export function numberFlag(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw new CoreError('BAD_INPUT', `aimkp ${command}: --${flag} must be a number, got "${value}"`);
  return n;
}

/** Parses --backend, failing with the choices when it is not one of them. */
export function backendFlag(command: string, value: string | undefined): BackendRequest | undefined {
  if (value === undefined) return undefined;
  if (!isBackendRequest(value))
    throw new CoreError(
      'BAD_INPUT',
      `aimkp ${command}: --backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${value}"`,
    );
  return value;
}

/** "a, b or c": a vocabulary list (shared/vocabulary.ts) as a flag's error message names it. */
export function orList(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** Help lines of --workers (train, pretrain, align, eval, predict, robustness), the text starting at `column`. */
export function workersFlagHelp(column: number): string {
  const pad = ' '.repeat(column);
  return [
    '  --workers K'.padEnd(column) + 'data-parallel threads: this one + K-1 workers (default: the cores, or env',
    pad + 'AIMKP_WORKERS); 1 = one thread, as before',
  ].join('\n');
}

/** Parses --workers K (an integer from 1 to MAX_WORKERS); undefined = the default (AIMKP_WORKERS, else the cores). */
export function workersFlag(command: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw new CoreError(
      'BAD_INPUT',
      `aimkp ${command}: --workers must be an integer from 1 to ${MAX_WORKERS}, got "${value}"`,
    );
  return n;
}
