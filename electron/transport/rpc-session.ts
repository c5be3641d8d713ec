// One client connection, on the main side, for any transport: reads untrusted JSON text, enforces the size
// cap and the per-connection limits, validates the message (protocol.ts) and its argument (dispatch), runs
// the handler with a cancellation signal, and writes the answer. Nothing a client sends can throw out of
// receive(): every problem becomes an error message to that client, and the session keeps serving.
import { ERROR_CODES, LIMITS, type ApiErrorShape } from '../../shared/contract/common';
import { dispatchCall, openSubscription, toApiError, validationError } from '../../shared/contract/dispatch';
import type { CallContext, ServiceBackend } from '../../shared/contract/handlers';
import { ClientMessage, PROTOCOL_VERSION, type ServerMessage } from '../../shared/contract/protocol';

export interface RpcSessionOptions {
  backend: ServiceBackend;
  /** Writes one ServerMessage (JSON text) to this client. */
  send(text: string): void;
  transport: CallContext['transport'];
  clientId: string;
  maxMessageBytes?: number;
  maxInFlightCalls?: number;
  maxSubscriptions?: number;
  /** Check handler responses against the schemas (tests). */
  validateResponses?: boolean;
  /** Told about every refused message (for the log); never throws into the session. */
  onRefused?(error: ApiErrorShape): void;
}

export interface RpcSession {
  /** One message from the client, as received (anything: the carrier does not vouch for it). */
  receive(raw: unknown): void;
  /** Sends the greeting (protocol version and size cap). */
  hello(): void;
  /** Cancels every call and ends every subscription of this client. */
  close(): void;
  readonly stats: { received: number; refused: number; inFlight: number; subscriptions: number };
}

/** The id of a message too large or too broken to parse, from its first bytes (the client writes t and id first). */
function peekId(text: string): number | null {
  const m = /^\s*\{\s*"t"\s*:\s*"(?:call|listen)"\s*,\s*"id"\s*:\s*(\d{1,15})\b/.exec(text.slice(0, 200));
  return m ? Number(m[1]) : null;
}

/** Deepest nesting a message may have; real requests stay under 10. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `text` nests arrays / objects deeper than `limit` (brackets inside strings do not count). One
 * linear scan, so that a message like [[[[…]]]] is refused before JSON.parse and the validators recurse
 * through it (which would hold the event loop for seconds and end in a stack overflow).
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function utf8Length(s: string): number {
  // Cheap bounds first: UTF-8 bytes lie between length and 3 × length.
  return s.length * 3 <= 1_000_000 ? s.length : Buffer.byteLength(s, 'utf8');
}

export function createRpcSession(opts: RpcSessionOptions): RpcSession {
  const maxBytes = opts.maxMessageBytes ?? LIMITS.maxMessageBytes;
  const maxCalls = opts.maxInFlightCalls ?? LIMITS.maxInFlightCalls;
  const maxSubs = opts.maxSubscriptions ?? LIMITS.maxSubscriptions;
  const calls = new Map<number, AbortController>();
  const subs = new Map<number, { close: (() => void) | null; controller: AbortController }>();
  const stats = { received: 0, refused: 0, inFlight: 0, subscriptions: 0 };
  let closed = false;

  const write = (msg: ServerMessage) => {
    if (closed) return;
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (e) {
      if (!('id' in msg)) return;
      text = JSON.stringify({
        t: 'err',
        id: msg.id,
        error: { code: ERROR_CODES.internal, message: `answer is not JSON: ${toApiError(e).message}` },
      });
    }
    try {
      opts.send(text);
    } catch {
      // The carrier is gone (window closed, socket dropped); its close handler ends the session.
    }
  };

  const refuse = (id: number | null, error: ApiErrorShape) => {
    stats.refused++;
    try {
      opts.onRefused?.(error);
    } catch {
      /* logging must not break serving */
    }
    write(id === null ? { t: 'fatal', error } : { t: 'err', id, error });
  };

  const ctxFor = (controller: AbortController): CallContext => ({
    signal: controller.signal,
    transport: opts.transport,
    clientId: opts.clientId,
  });

  const handleCall = (id: number, command: string, arg: unknown) => {
    if (calls.has(id))
      return refuse(id, { code: ERROR_CODES.badRequest, message: `call id ${id} is already in flight` });
    if (calls.size >= maxCalls)
      return refuse(id, {
        code: ERROR_CODES.busy,
        message: `${command}: too many calls in flight (at most ${maxCalls} per connection)`,
      });
    const controller = new AbortController();
    calls.set(id, controller);
    stats.inFlight = calls.size;
    void dispatchCall(opts.backend, command, arg, ctxFor(controller), {
      validateResponses: opts.validateResponses,
    }).then((r) => {
      if (calls.get(id) !== controller) return;
      calls.delete(id);
      stats.inFlight = calls.size;
      if (r.ok) write({ t: 'ok', id, data: r.data });
      else {
        if (r.error.code === ERROR_CODES.badRequest || r.error.code === ERROR_CODES.unknownCommand) stats.refused++;
        write({ t: 'err', id, error: r.error });
      }
    });
  };

  const handleListen = (id: number, event: string, arg: unknown) => {
    if (subs.has(id)) return refuse(id, { code: ERROR_CODES.badRequest, message: `listen id ${id} is already open` });
    if (subs.size >= maxSubs)
      return refuse(id, {
        code: ERROR_CODES.busy,
        message: `${event}: too many subscriptions (at most ${maxSubs} per connection)`,
      });
    const entry = { close: null as (() => void) | null, controller: new AbortController() };
    subs.set(id, entry);
    stats.subscriptions = subs.size;
    const emit = (batch: unknown) => {
      if (subs.get(id) === entry) write({ t: 'event', id, data: batch });
    };
    void openSubscription(opts.backend, event, arg, emit, ctxFor(entry.controller)).then((r) => {
      if (!r.ok) {
        if (subs.get(id) === entry) {
          subs.delete(id);
          stats.subscriptions = subs.size;
        }
        return refuse(id, r.error);
      }
      if (subs.get(id) === entry) entry.close = r.data;
      else r.data(); // unlistened (or the session closed) while opening
    });
  };

  const endListen = (id: number) => {
    const entry = subs.get(id);
    if (!entry) return;
    subs.delete(id);
    stats.subscriptions = subs.size;
    entry.controller.abort();
    try {
      entry.close?.();
    } catch {
      /* a backend's close failing must not break the session */
    }
  };

  const reset = () => {
    for (const c of calls.values()) c.abort();
    calls.clear();
    stats.inFlight = 0;
    for (const id of [...subs.keys()]) endListen(id);
  };

  return {
    stats,
    hello() {
      write({ t: 'hello', protocol: PROTOCOL_VERSION, maxMessageBytes: maxBytes });
    },
    receive(raw) {
      if (closed) return;
      stats.received++;
      if (typeof raw !== 'string')
        return refuse(null, {
          code: ERROR_CODES.badRequest,
          message: `messages are JSON text; got ${raw === null ? 'null' : typeof raw}`,
        });
      if (raw.length > maxBytes || utf8Length(raw) > maxBytes) {
        return refuse(peekId(raw), {
          code: ERROR_CODES.tooLarge,
          message: `message of ${utf8Length(raw)} bytes is over the limit of ${maxBytes} bytes`,
          details: { limit: maxBytes },
        });
      }
      if (nestsDeeperThan(raw, MAX_JSON_DEPTH)) {
        return refuse(peekId(raw), {
          code: ERROR_CODES.badRequest,
          message: `message is nested deeper than ${MAX_JSON_DEPTH} levels`,
        });
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (e) {
        return refuse(peekId(raw), {
          code: ERROR_CODES.badRequest,
          message: `message is not JSON: ${toApiError(e).message}`,
        });
      }
      let parsed: ReturnType<typeof ClientMessage.safeParse>;
      try {
        parsed = ClientMessage.safeParse(json);
      } catch (e) {
        return refuse(null, {
          code: ERROR_CODES.badRequest,
          message: `message could not be read: ${toApiError(e).message}`,
        });
      }
      if (!parsed.success) {
        const id =
          typeof json === 'object' && json !== null && Number.isSafeInteger((json as { id?: unknown }).id)
            ? (json as { id: number }).id
            : null;
        return refuse(id !== null && id >= 0 ? id : null, validationError('message', parsed.error));
      }
      const msg = parsed.data;
      switch (msg.t) {
        case 'call':
          return handleCall(msg.id, msg.command, msg.arg);
        case 'cancel':
          return calls.get(msg.id)?.abort();
        case 'listen':
          return handleListen(msg.id, msg.event, msg.arg);
        case 'unlisten':
          return endListen(msg.id);
        case 'reset':
          return reset();
      }
    },
    close() {
      if (closed) return;
      reset();
      closed = true;
    },
  };
}
