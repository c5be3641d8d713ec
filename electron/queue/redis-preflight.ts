// One connection attempt before the queue starts, so every way a Redis URL can be wrong becomes one line: a wrong
// password (ioredis and BullMQ would otherwise retry it forever, an error per attempt), a server that is not there,
// a server that answers anybody (refused off loopback), an unfit configuration (eviction), an old version.
import { lookup } from 'node:dns/promises';
import { connect as netConnect } from 'node:net';
import { Redis } from 'ioredis';
import {
  connectionOptions,
  isLoopbackHost,
  parseRedisUrl,
  refuseUnauthenticatedOffLoopback,
  RedisSetupError,
  type RedisTarget,
} from './redis-target';

async function resolvesToLoopback(host: string): Promise<boolean> {
  if (isLoopbackHost(host)) return true;
  try {
    const all = await lookup(host, { all: true });
    return all.length > 0 && all.every((a) => isLoopbackHost(a.address));
  } catch {
    return false;
  }
}

/**
 * PING without credentials on a raw socket: 'open' (+PONG: the server answers anyone), 'auth' (-NOAUTH: it wants a
 * password), 'denied' (-DENIED: protected mode refused a client off loopback), 'unreachable'.
 */
export function probeUnauthenticated(
  host: string,
  port: number,
  timeoutMs = 3000,
): Promise<'open' | 'auth' | 'denied' | 'unreachable'> {
  return new Promise((resolve) => {
    const s = netConnect(port, host);
    const done = (v: 'open' | 'auth' | 'denied' | 'unreachable') => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done('unreachable'));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      const line = d.toString();
      done(line.startsWith('+PONG') ? 'open' : line.startsWith('-DENIED') ? 'denied' : 'auth');
    });
    s.once('error', () => done('unreachable'));
  });
}

/** One line for a connection error (ioredis' messages are accurate but do not say what to do). */
export function explainRedisError(err: unknown, t: RedisTarget): RedisSetupError {
  const e = err as NodeJS.ErrnoException | undefined;
  const msg = e?.message ?? String(err);
  const at = t.display;
  if (/WRONGPASS/.test(msg))
    return new RedisSetupError(
      'REDIS_AUTH',
      `Redis at ${at} refused the ${t.username ? `user "${t.username}" and its password` : 'password'} (WRONGPASS); check the URL (redis://user:password@host:port) against the server's requirepass / ACL user`,
    );
  if (/NOAUTH/.test(msg))
    return new RedisSetupError(
      'REDIS_AUTH',
      `Redis at ${at} requires a password and none was given; use redis://user:password@host:port`,
    );
  if (/without any password configured/.test(msg))
    return new RedisSetupError(
      'REDIS_AUTH',
      `Redis at ${at} has no password set but one was given; set requirepass (or an ACL user) on the server`,
    );
  if (/NOPERM/.test(msg))
    return new RedisSetupError(
      'REDIS_AUTH',
      `Redis at ${at}: the user "${t.username ?? 'default'}" lacks a permission the workbench needs (${msg.split('\n')[0]}); grant the ACL of docs/sweeps.md`,
    );
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return new RedisSetupError(
      'REDIS_UNREACHABLE',
      `Redis at ${at}: connection refused (is redis-server running and bound to that address?)`,
    );
  if (e?.code === 'ENOTFOUND' || /ENOTFOUND/.test(msg))
    return new RedisSetupError('REDIS_UNREACHABLE', `Redis at ${at}: unknown host "${t.host}"`);
  if (/ETIMEDOUT|timed? ?out/i.test(msg))
    return new RedisSetupError(
      'REDIS_UNREACHABLE',
      `Redis at ${at}: no answer within 10 s (a firewall, or a wrong address?)`,
    );
  return new RedisSetupError('REDIS_UNREACHABLE', `Redis at ${at}: ${msg.split('\n')[0]}`);
}

export interface PreflightResult {
  target: RedisTarget;
  version: string;
  aof: boolean;
  /** Things that work but should be fixed (old version, no AOF). */
  warnings: string[];
}

function infoField(info: string, field: string): string | null {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m ? m[1].trim() : null;
}

/**
 * Connects once (no retries), authenticates and checks the server: version ≥ 5 (BullMQ's minimum; < 6.2 warned),
 * maxmemory-policy noeviction (BullMQ's keys must never be evicted), AOF (warned when off) and, off loopback, that
 * the server itself refuses clients without a password. Throws RedisSetupError with one line.
 */
export async function preflight(url: string): Promise<PreflightResult> {
  const t = parseRedisUrl(url);
  refuseUnauthenticatedOffLoopback(t);
  // A password in the URL does not make a server safe that answers everybody: off loopback, ask it without one.
  if (!(await resolvesToLoopback(t.host)) && (await probeUnauthenticated(t.host, t.port)) === 'open')
    throw new RedisSetupError(
      'REDIS_INSECURE',
      `refusing Redis at ${t.display}: the server answers clients without a password; set requirepass on it (and an ACL user for the workbench: docs/sweeps.md)`,
    );
  const client = new Redis({
    ...connectionOptions(t, 'aimkp:preflight'),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() rejects with a bare "Connection is closed."; the cause arrives first as an 'error' event.
  let cause: unknown = null;
  client.on('error', (err) => (cause ??= err));
  try {
    await client.connect().catch((err: unknown) => {
      throw cause ?? err;
    });
    const info = await client.info();
    const version = infoField(info, 'redis_version') ?? '0';
    const [major, minor] = version.split('.').map(Number);
    if (major < 5)
      throw new RedisSetupError('REDIS_VERSION', `Redis at ${t.display} is ${version}; BullMQ needs 5.0 or later`);
    const warnings: string[] = [];
    if (major < 6 || (major === 6 && minor < 2)) warnings.push(`Redis ${version}: BullMQ recommends 6.2 or later`);
    const policy = infoField(info, 'maxmemory_policy') ?? 'unknown';
    if (policy !== 'noeviction')
      throw new RedisSetupError(
        'REDIS_CONFIG',
        `Redis at ${t.display} has maxmemory-policy ${policy}: it could evict queued jobs; set "maxmemory-policy noeviction"`,
      );
    const aof = infoField(info, 'aof_enabled') === '1';
    if (!aof) warnings.push(`Redis at ${t.display} has no AOF (appendonly no): queued jobs are lost if it restarts`);
    return { target: t, version, aof, warnings };
  } catch (err) {
    if (err instanceof RedisSetupError) throw err;
    const e = cause ?? err;
    // Protected mode answers -DENIED and hangs up at once: ioredis only sees EPIPE / ECONNRESET.
    if (
      /EPIPE|ECONNRESET|Connection is closed/.test(String((e as Error | null)?.message)) &&
      (await probeUnauthenticated(t.host, t.port)) === 'denied'
    )
      throw new RedisSetupError(
        'REDIS_INSECURE',
        `Redis at ${t.display} refused this machine: it runs in protected mode (no password set, client not on loopback); set requirepass on the server`,
      );
    throw explainRedisError(e, t);
  } finally {
    client.disconnect();
  }
}
