// Where the lab's Redis is and how every long-lived connection to it behaves: the URL parsed (the password kept
// out of every message), the ioredis options BullMQ and our own clients use, and the rule that an unauthenticated
// Redis off this machine is refused before anything connects.
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';

export type RedisSetupCode = 'REDIS_AUTH' | 'REDIS_UNREACHABLE' | 'REDIS_INSECURE' | 'REDIS_CONFIG' | 'REDIS_VERSION';

/** A Redis URL that cannot be used, in one line that says what to do (never the password). */
export class RedisSetupError extends Error {
  constructor(
    readonly code: RedisSetupCode,
    message: string,
  ) {
    super(message);
    this.name = 'RedisSetupError';
  }
}

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** The URL with its password replaced by ***, for messages, logs and the Settings view. */
  display: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisSetupError(
      'REDIS_CONFIG',
      `Redis URL "${maskRedisUrl(url)}": not a URL (expected redis://[user:password@]host:port[/db])`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new RedisSetupError('REDIS_CONFIG', `Redis URL "${u.protocol}//…": expected redis:// or rediss://`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0 || db > 15)
    throw new RedisSetupError('REDIS_CONFIG', `Redis URL: bad database number "${u.pathname.slice(1)}" (0–15)`);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const auth = username ? `${u.username}:***@` : password ? ':***@' : '';
  const display = `${u.protocol}//${auth}${u.host}${db ? `/${db}` : ''}`;
  return { host, port, username, password, db, tls: u.protocol === 'rediss:', display };
}

/** The URL with any password replaced by *** (also for strings that do not parse). */
export function maskRedisUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/**
 * ioredis options for every long-lived connection (BullMQ's Queue, Worker and QueueEvents, the event streams and the
 * stop channel): retry forever with a capped back-off and queue commands while disconnected (maxRetriesPerRequest:
 * null, which BullMQ requires for its blocking connections): a worker keeps training through a redis-server restart
 * and carries on when it is back.
 */
export type ConnectionSettings = Omit<RedisOptions, 'retryStrategy'> & {
  retryStrategy: (times: number) => number | null;
};

export function connectionOptions(t: RedisTarget, name: string): ConnectionSettings {
  return {
    host: t.host,
    port: t.port,
    username: t.username,
    password: t.password,
    db: t.db,
    tls: t.tls ? {} : undefined,
    connectionName: name.replace(/[^A-Za-z0-9:._-]/g, '_'),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    connectTimeout: 10_000,
    keepAlive: 30_000,
    // 200 ms, 400 ms, … capped at 2 s: a restarted redis-server is in use again within ~2 s of accepting connections.
    retryStrategy: (times: number) => Math.min(200 * 2 ** Math.min(times - 1, 4), 2_000),
    // Only a failover's READONLY is worth a reconnect; a wrong password is caught once by the preflight.
    reconnectOnError: (err: Error) => (/READONLY/.test(err.message) ? 2 : false),
  };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The check that needs no network: a Redis that is not on this machine needs a password in the URL (anyone who can
 * reach an open Redis could run jobs on the lab's machines or read their runs). A host name other than localhost
 * counts as "not this machine" here; the preflight also resolves it and asks the server itself.
 */
export function refuseUnauthenticatedOffLoopback(t: RedisTarget): void {
  if (t.password || isLoopbackHost(t.host)) return;
  throw new RedisSetupError(
    'REDIS_INSECURE',
    `refusing Redis at ${t.display} without a password: it is not on this machine (loopback), so anyone on the network could run or read jobs; give redis://user:password@${t.host}:${t.port} (docs/sweeps.md: requirepass and an ACL user)`,
  );
}
