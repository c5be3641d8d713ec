// Browser mode: node:http serves the built renderer, `ws` serves the API on /api, both backed by one
// ServiceBackend (the supervisor). Loopback by default; bound anywhere else it demands a token (put in the
// URL it prints), and every WebSocket must come from the server's own origin.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ServiceBackend } from '../../shared/contract/handlers';
import { WS_PATH } from '../../shared/contract/protocol';
import { securityHeaders } from '../security/csp';
import { resolveStatic } from '../security/static-files';
import { attachWsApi, type WsApi } from '../transport/ws-server';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8417;

export interface WorkbenchServerOptions {
  backend: ServiceBackend;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Required on /api. Default: none on loopback, a random one elsewhere. */
  token?: string | null;
  /** Extra browser origins allowed on /api (e.g. the vite dev server while developing the UI). */
  extraOrigins?: readonly string[];
  maxMessageBytes?: number;
  /** Open WebSocket connections at once (default 64). */
  maxConnections?: number;
  validateResponses?: boolean;
  log?(line: string): void;
}

export interface WorkbenchServer {
  readonly server: Server;
  readonly api: WsApi;
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  /** The page to open (with ?token= when one is required). */
  readonly url: string;
  close(): Promise<void>;
}

/** Loopback names and addresses (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The hostname of a Host header ("127.0.0.1:8417" → "127.0.0.1", "[::1]:80" → "::1"). */
function hostnameOf(hostHeader: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (m) return m[1];
  return hostHeader.replace(/:\d+$/, '');
}

/**
 * Same-origin rule for the WebSocket: the Origin must be this server as the browser addressed it (the
 * Host header). Without a token that Host must also be a loopback name, so a page of another site that
 * re-binds its DNS name to 127.0.0.1 is still refused.
 */
export function originAllowed(
  origin: string,
  hostHeader: string | undefined,
  tokenRequired: boolean,
  extra: readonly string[] = [],
): boolean {
  if (extra.includes(origin)) return true;
  if (hostHeader === undefined) return false;
  if (!tokenRequired && !isLoopbackHost(hostnameOf(hostHeader))) return false;
  return origin === `http://${hostHeader}` || origin === `https://${hostHeader}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startWorkbenchServer(opts: WorkbenchServerOptions): Promise<WorkbenchServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const loopback = isLoopbackHost(host);
  const token = opts.token !== undefined ? opts.token : loopback ? null : randomBytes(24).toString('base64url');
  if (!loopback && token === null) throw new Error(`serving on ${host} (beyond loopback) requires a token`);
  const headers = securityHeaders();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('ok\n');
      return;
    }
    const r = await resolveStatic(opts.rendererDir, req.method ?? 'GET', req.url ?? '/');
    if (r.status !== 200) {
      const extra: Record<string, string> = r.status === 405 ? { Allow: 'GET, HEAD' } : {};
      res.writeHead(r.status, {
        ...headers,
        ...extra,
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(`${r.reason}\n`);
      return;
    }
    const immutable = /\/assets\//.test(r.path);
    res.writeHead(200, {
      ...headers,
      'Content-Type': r.contentType,
      'Content-Length': String(r.body.length),
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.log?.(`http: ${String(e)}`);
      if (!res.headersSent) res.writeHead(500, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  // Slow or idle clients do not hold sockets for ever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  const extra = opts.extraOrigins ?? [];
  const api = attachWsApi(server, {
    backend: opts.backend,
    path: WS_PATH,
    token,
    isAllowedOrigin: (origin, req) => originAllowed(origin, req.headers.host, token !== null, extra),
    maxMessageBytes: opts.maxMessageBytes,
    maxConnections: opts.maxConnections,
    validateResponses: opts.validateResponses,
    log: opts.log,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;

  return {
    server,
    api,
    host,
    port,
    token,
    url,
    async close() {
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
