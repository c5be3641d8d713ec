import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CoreError } from '../core-error';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking, turning its TypeErrors into a CoreError that names the command. */
export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new CoreError('BAD_INPUT', `aimkp ${command}: ${(err as Error).message}\nRun "aimkp ${command} --help" for usage.`);
  }
}

/** Reads a required string flag or fails with a message naming it. */
export function requireFlag(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CoreError('BAD_INPUT', `aimkp ${command}: missing required flag --${flag}`);
  return value;
}

/** Parses an integer flag, failing with the flag's name when it is not one. */
export function intFlag(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CoreError('BAD_INPUT', `aimkp ${command}: --${flag} must be an integer, got "${value}"`);
  return n;
}

/** Parses a number flag, failing with the flag's name when it is not one. */
export function numberFlag(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CoreError('BAD_INPUT', `aimkp ${command}: --${flag} must be a number, got "${value}"`);
  return n;
}
