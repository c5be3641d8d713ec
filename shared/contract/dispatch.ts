// Server side of the contract: validate a raw (untrusted) command or subscription against SERVICE, call the
// handler, and turn every outcome into plain data — the response, or an ApiErrorShape. Never throws.
import type { z } from 'zod';
import { ERROR_CODES, type ApiErrorShape } from './common';
import type { CallContext, ServiceBackend } from './handlers';
import { SERVICE, isCommandName, isSubscriptionName } from './service';

export type DispatchResult<T = unknown> = { ok: true; data: T } | { ok: false; error: ApiErrorShape };

export interface DispatchOptions {
  /** Also check what the handler answered (tests and development; a handler bug then reads as `internal`). */
  validateResponses?: boolean;
}

/** A thrown value as an ApiErrorShape: a `{code, message}` object (CoreError, ApiError) keeps its code. */
export function toApiError(e: unknown): ApiErrorShape {
  if (typeof e === 'object' && e !== null) {
    const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof code === 'string' && code !== '' && typeof message === 'string') {
      const out: ApiErrorShape = { code: code.slice(0, 100), message: message.slice(0, 10_000) };
      if (details !== undefined && isJsonSafe(details)) out.details = details as ApiErrorShape['details'];
      return out;
    }
    if ((e as { name?: unknown }).name === 'AbortError') return { code: ERROR_CODES.cancelled, message: 'cancelled' };
    if (typeof message === 'string') return { code: ERROR_CODES.internal, message: message.slice(0, 10_000) };
  }
  return { code: ERROR_CODES.internal, message: String(e).slice(0, 10_000) };
}

function isJsonSafe(v: unknown): boolean {
  try {
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
}

/** One readable line per problem, "where: what", and the same as details for a UI to point at fields. */
export function validationError(what: string, error: z.ZodError): ApiErrorShape {
  const issues = error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const text = issues.map((i) => `${i.path === '' ? '(request)' : i.path}: ${i.message}`).join('; ');
  const more = error.issues.length > issues.length ? ` (and ${error.issues.length - issues.length} more)` : '';
  return { code: ERROR_CODES.badRequest, message: `${what}: invalid request: ${text}${more}`, details: { issues } };
}

function unknownCommand(kind: string, name: unknown, known: readonly string[]): ApiErrorShape {
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : typeof name;
  return { code: ERROR_CODES.unknownCommand, message: `unknown ${kind} ${shown}`, details: { known: [...known] } };
}

/** Validates `arg` for `command` and runs its handler. */
export async function dispatchCall(
  backend: ServiceBackend,
  command: unknown,
  arg: unknown,
  ctx: CallContext,
  opts: DispatchOptions = {},
): Promise<DispatchResult> {
  if (!isCommandName(command))
    return { ok: false, error: unknownCommand('command', command, Object.keys(SERVICE.commands)) };
  const spec = SERVICE.commands[command];
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    parsed = spec.request.safeParse(arg);
  } catch (e) {
    // A pathological value (e.g. nesting deep enough to overflow the validator's stack) is a bad request too.
    return {
      ok: false,
      error: { code: ERROR_CODES.badRequest, message: `${command}: invalid request: ${toApiError(e).message}` },
    };
  }
  if (!parsed.success) return { ok: false, error: validationError(command, parsed.error) };
  const handler = backend.handlers[command] as ((req: unknown, ctx: CallContext) => Promise<unknown>) | undefined;
  if (handler === undefined)
    return {
      ok: false,
      error: { code: ERROR_CODES.unknownCommand, message: `command "${command}" is not available in this backend` },
    };
  if (ctx.signal.aborted)
    return { ok: false, error: { code: ERROR_CODES.cancelled, message: `${command}: cancelled` } };
  let data: unknown;
  try {
    data = await handler(parsed.data, ctx);
  } catch (e) {
    if (ctx.signal.aborted)
      return { ok: false, error: { code: ERROR_CODES.cancelled, message: `${command}: cancelled` } };
    return { ok: false, error: toApiError(e) };
  }
  if (opts.validateResponses) {
    const checked = spec.response.safeParse(data);
    if (!checked.success) {
      const v = validationError(command, checked.error);
      return {
        ok: false,
        error: {
          code: ERROR_CODES.internal,
          message: v.message.replace('invalid request', 'handler answered an invalid response'),
          details: v.details,
        },
      };
    }
  }
  return { ok: true, data };
}

/** Validates `arg` for subscription `name` and opens it; the result holds the function that closes it. */
export async function openSubscription(
  backend: ServiceBackend,
  name: unknown,
  arg: unknown,
  emit: (batch: unknown) => void,
  ctx: CallContext,
): Promise<DispatchResult<() => void>> {
  if (!isSubscriptionName(name))
    return { ok: false, error: unknownCommand('event', name, Object.keys(SERVICE.subscriptions)) };
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    parsed = SERVICE.subscriptions[name].request.safeParse(arg);
  } catch (e) {
    return {
      ok: false,
      error: { code: ERROR_CODES.badRequest, message: `${name}: invalid request: ${toApiError(e).message}` },
    };
  }
  if (!parsed.success) return { ok: false, error: validationError(name, parsed.error) };
  const handler = backend.subscriptions[name] as
    ((req: unknown, emit: (b: unknown) => void, ctx: CallContext) => (() => void) | Promise<() => void>) | undefined;
  if (handler === undefined)
    return {
      ok: false,
      error: { code: ERROR_CODES.unknownCommand, message: `event "${name}" is not available in this backend` },
    };
  try {
    const close = await handler(parsed.data, emit, ctx);
    return { ok: true, data: close };
  } catch (e) {
    return { ok: false, error: toApiError(e) };
  }
}
