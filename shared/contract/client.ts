// Client side of the contract: a typed ApiClient over any Transport (Electron preload bridge, WebSocket,
// in-process). Runs in the renderer, so: no Node imports.
import { ERROR_CODES, type ApiErrorShape } from './common';
import type { EventBatch, ServiceEvent, SubscribeRequest } from './events';
import { SERVICE, type CommandName, type CommandRequest, type CommandResponse } from './service';

/** A failed call, as the client sees it: the server's ApiErrorShape as an Error. */
export class ApiError extends Error implements ApiErrorShape {
  readonly code: string;
  readonly details?: ApiErrorShape['details'];
  constructor(shape: ApiErrorShape) {
    super(shape.message);
    this.name = 'ApiError';
    this.code = shape.code;
    if (shape.details !== undefined) this.details = shape.details;
  }
  toJSON(): ApiErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/**
 * The transport-neutral channel (VS Code's IChannel): untyped on purpose; createClient adds the types.
 * `call` rejects with ApiError. `listen` takes its argument as a function, evaluated on every (re)subscribe,
 * so a reconnecting transport can resume a stream from the last seq seen.
 */
export interface Transport {
  call(command: string, arg: unknown, signal?: AbortSignal): Promise<unknown>;
  listen(
    event: string,
    arg: () => unknown,
    onData: (data: unknown) => void,
    onError?: (error: ApiError) => void,
  ): () => void;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Subscription {
  /** Stops delivery (idempotent). */
  close(): void;
  /** Last seq delivered, per stream. */
  lastSeq(): ReadonlyMap<string, number>;
}

export interface ApiClient {
  call<C extends CommandName>(command: C, req: CommandRequest<C>, opts?: CallOptions): Promise<CommandResponse<C>>;
  /**
   * Event batches of one stream (events with seq > sinceSeq; 0 = whole history) or of every stream ('*', live).
   * After a reconnect the subscription resumes from the last seq it delivered, so nothing is missed or repeated.
   */
  subscribe(
    runId: string,
    sinceSeq: number | undefined,
    onBatch: (batch: EventBatch) => void,
    onError?: (error: ApiError) => void,
  ): Subscription;
}

export interface ClientOptions {
  /** Check every response against its schema (tests; costs time on large answers). */
  validateResponses?: boolean;
}

export function createClient(transport: Transport, opts: ClientOptions = {}): ApiClient {
  return {
    async call(command, req, callOpts) {
      const data = await transport.call(command, req, callOpts?.signal);
      if (opts.validateResponses) {
        const checked = SERVICE.commands[command].response.safeParse(data);
        if (!checked.success) {
          throw new ApiError({
            code: ERROR_CODES.internal,
            message: `${command}: unexpected response: ${checked.error.issues
              .slice(0, 5)
              .map((i) => `${i.path.join('.')}: ${i.message}`)
              .join('; ')}`,
          });
        }
      }
      return data as CommandResponse<typeof command>;
    },

    subscribe(runId, sinceSeq, onBatch, onError) {
      const last = new Map<string, number>();
      if (runId !== '*' && sinceSeq !== undefined) last.set(runId, sinceSeq);
      let closed = false;
      const arg = (): SubscribeRequest => {
        if (runId !== '*') return last.has(runId) ? { runId, sinceSeq: last.get(runId) } : { runId };
        return last.size > 0 ? { runId: '*', sinceSeqByRun: Object.fromEntries(last) } : { runId: '*' };
      };
      const stop = transport.listen(
        'events.subscribe',
        arg,
        (data) => {
          if (closed) return;
          const batch = data as EventBatch;
          // A replay after a reconnect may overlap what was delivered; deliver each seq once, in order.
          const fresh: ServiceEvent[] = [];
          for (const e of batch.events) {
            const seen = last.get(e.runId);
            if (seen !== undefined && e.seq <= seen) continue;
            last.set(e.runId, e.seq);
            fresh.push(e);
          }
          if (fresh.length > 0 || batch.events.length === 0) onBatch({ events: fresh, replay: batch.replay });
        },
        onError,
      );
      return {
        close() {
          if (closed) return;
          closed = true;
          stop();
        },
        lastSeq: () => last,
      };
    },
  };
}

/** A bidirectional text channel: the preload bridge, a WebSocket, a test pipe. */
export interface TextPort {
  send(text: string): void;
  onMessage(listener: (text: string) => void): () => void;
  /** Reconnecting ports report 'open' after each (re)connect and 'closed' on loss; ports that never drop omit it. */
  onStatus?(listener: (status: 'open' | 'closed') => void): () => void;
  /** Whether send() reaches the other side now (default: always). */
  isOpen?(): boolean;
}

interface PendingCall {
  command: string;
  text: string;
  sent: boolean;
  resolve(v: unknown): void;
  reject(e: ApiError): void;
  cleanup(): void;
}

interface ActiveListen {
  event: string;
  arg: () => unknown;
  onData(data: unknown): void;
  onError?(error: ApiError): void;
}

/**
 * Transport over a TextPort speaking protocol.ts. Calls made while the port is down wait for it; a call in
 * flight when the connection drops fails with `disconnected` (it may or may not have run); listens are
 * re-sent on every reconnect with a fresh argument.
 */
export function createPortTransport(port: TextPort): Transport {
  let nextId = 1;
  let open = port.isOpen ? port.isOpen() : true;
  const calls = new Map<number, PendingCall>();
  const listens = new Map<number, ActiveListen>();

  const sendListen = (id: number, l: ActiveListen) =>
    port.send(JSON.stringify({ t: 'listen', id, event: l.event, arg: l.arg() }));

  port.onMessage((text) => {
    let msg: { t?: unknown; id?: unknown; data?: unknown; error?: ApiErrorShape };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const id = typeof msg.id === 'number' ? msg.id : -1;
    if (msg.t === 'ok' || (msg.t === 'err' && calls.has(id))) {
      const c = calls.get(id);
      if (!c) return;
      calls.delete(id);
      c.cleanup();
      if (msg.t === 'ok') c.resolve(msg.data);
      else c.reject(new ApiError(msg.error ?? { code: ERROR_CODES.internal, message: 'error without details' }));
    } else if (msg.t === 'event') {
      listens.get(id)?.onData(msg.data);
    } else if (msg.t === 'err') {
      const l = listens.get(id);
      if (!l) return;
      listens.delete(id);
      l.onError?.(new ApiError(msg.error ?? { code: ERROR_CODES.internal, message: 'error without details' }));
    }
  });

  // First words of this client on every connection: the other side drops what an earlier page left there.
  const reset = () => port.send(JSON.stringify({ t: 'reset' }));
  if (open) reset();

  port.onStatus?.((status) => {
    if (status === 'closed') {
      open = false;
      for (const [id, c] of calls) {
        if (!c.sent) continue;
        calls.delete(id);
        c.cleanup();
        c.reject(
          new ApiError({
            code: ERROR_CODES.disconnected,
            message: `${c.command}: connection lost before the answer came`,
          }),
        );
      }
      return;
    }
    open = true;
    reset();
    for (const c of calls.values()) {
      if (c.sent) continue;
      c.sent = true;
      port.send(c.text);
    }
    for (const [id, l] of listens) sendListen(id, l);
  });

  return {
    call(command, arg, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted)
          return reject(new ApiError({ code: ERROR_CODES.cancelled, message: `${command}: cancelled` }));
        const id = nextId++;
        let text: string;
        try {
          text = JSON.stringify({ t: 'call', id, command, arg: arg === undefined ? {} : arg });
        } catch (e) {
          return reject(
            new ApiError({
              code: ERROR_CODES.badRequest,
              message: `${command}: request is not JSON: ${(e as Error).message}`,
            }),
          );
        }
        const onAbort = () => {
          const c = calls.get(id);
          if (!c) return;
          calls.delete(id);
          if (c.sent) port.send(JSON.stringify({ t: 'cancel', id }));
          reject(new ApiError({ code: ERROR_CODES.cancelled, message: `${command}: cancelled` }));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const pending: PendingCall = {
          command,
          text,
          sent: false,
          resolve,
          reject,
          cleanup: () => signal?.removeEventListener('abort', onAbort),
        };
        calls.set(id, pending);
        if (open) {
          pending.sent = true;
          port.send(text);
        }
      });
    },

    listen(event, arg, onData, onError) {
      const id = nextId++;
      const l: ActiveListen = { event, arg, onData, onError };
      listens.set(id, l);
      if (open) sendListen(id, l);
      return () => {
        if (!listens.delete(id)) return;
        if (open) port.send(JSON.stringify({ t: 'unlisten', id }));
      };
    },
  };
}
