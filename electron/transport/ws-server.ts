// WebSocket transport (package `ws`) on a node:http server: the upgrade is checked (path, token, Origin)
// before a socket exists; each connection gets one RpcSession speaking the same protocol as Electron IPC.
import type { IncomingMessage, Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { LIMITS, type ApiErrorShape } from '../../shared/contract/common';
import type { ServiceBackend } from '../../shared/contract/handlers';
import { WS_PATH } from '../../shared/contract/protocol';
import { createRpcSession, type RpcSession } from './rpc-session';

export interface WsApiOptions {
  backend: ServiceBackend;
  path?: string;
  /** Required as ?token= when set (always set when the server listens beyond loopback). */
  token: string | null;
  /** Browser origins allowed to connect (the server's own). A request without Origin (not a browser) is allowed. */
  isAllowedOrigin(origin: string, req: Pick<IncomingMessage, 'headers'>): boolean;
  maxMessageBytes?: number;
  /** Open connections at once (default 64); more are refused with 503. */
  maxConnections?: number;
  validateResponses?: boolean;
  log?(line: string): void;
}

export interface WsApi {
  readonly wss: WebSocketServer;
  readonly sessions: ReadonlySet<RpcSession>;
  close(): Promise<void>;
}

/** Bytes queued for a slow client before it is disconnected. */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why an upgrade is refused, or null when it may proceed. */
export function checkUpgrade(
  req: Pick<IncomingMessage, 'url' | 'headers'>,
  opts: Pick<WsApiOptions, 'path' | 'token' | 'isAllowedOrigin'>,
): { status: number; reason: string } | null {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return { status: 400, reason: 'bad request URL' };
  }
  if (url.pathname !== (opts.path ?? WS_PATH))
    return { status: 404, reason: `no WebSocket endpoint at ${url.pathname}` };
  const origin = req.headers.origin;
  if (origin !== undefined && !opts.isAllowedOrigin(origin, req))
    return { status: 403, reason: `origin ${origin} is not allowed` };
  if (opts.token !== null && !tokenMatches(url.searchParams.get('token'), opts.token))
    return { status: 401, reason: 'a valid ?token= is required' };
  return null;
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text =
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[
      status
    ] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

export function attachWsApi(server: Server, opts: WsApiOptions): WsApi {
  const maxBytes = opts.maxMessageBytes ?? LIMITS.maxMessageBytes;
  // ws drops a frame beyond maxPayload by closing the socket (1009). Allow some slack above the protocol cap,
  // so a merely too-large call gets a proper `too-large` answer from the session and the socket stays.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBytes + 1024 * 1024, perMessageDeflate: false });
  const sessions = new Set<RpcSession>();
  let nextClient = 1;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const full =
      wss.clients.size >= (opts.maxConnections ?? 64) ? { status: 503, reason: 'too many connections' } : null;
    const refused = checkUpgrade(req, opts) ?? full;
    if (refused) {
      opts.log?.(`websocket refused (${refused.status}): ${refused.reason}`);
      return refuseUpgrade(socket, refused.status, refused.reason);
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    const clientId = `ws-${nextClient++}`;
    const session = createRpcSession({
      backend: opts.backend,
      transport: 'ws',
      clientId,
      maxMessageBytes: maxBytes,
      validateResponses: opts.validateResponses,
      send: (text) => {
        if (ws.readyState !== ws.OPEN) return;
        // A client that stops reading must not grow our memory without bound: drop it. It reconnects and
        // resumes its streams from the last seq it saw, so nothing is lost.
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          opts.log?.(`${clientId}: ${ws.bufferedAmount} bytes unsent; closing the connection`);
          ws.terminate();
          return;
        }
        ws.send(text);
      },
      onRefused: (e: ApiErrorShape) => opts.log?.(`${clientId}: refused: ${e.code}: ${e.message.slice(0, 200)}`),
    });
    sessions.add(session);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return session.receive(null);
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      session.receive(buf.toString('utf8'));
    });
    ws.on('error', (e) => opts.log?.(`${clientId}: socket error: ${e.message}`));
    ws.on('close', () => {
      session.close();
      sessions.delete(session);
    });
    session.hello();
  });

  return {
    wss,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        for (const client of wss.clients) client.terminate();
        for (const s of sessions) s.close();
        sessions.clear();
        wss.close(() => resolve());
      }),
  };
}
