// Starts a private redis-server (Debian's redis-server) for the lab-queue tests and the benchmark: loopback only, a
// free port, a config file in its own folder, AOF on, a password or an ACL user. The process is a child of the
// caller (never the system service), stopped by its own handle.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** Default: a free port on loopback. */
  port?: number;
  /** Folder for redis.conf, the AOF and the log (created). */
  dir: string;
  /** requirepass for the default user (ignored when `aclUser` is set). */
  password?: string;
  /**
   * An ACL user for the workbench. The default user stays ON, with `password` (requirepass) as the admin password:
   * Redis 7.0 replays the AOF as the default user and re-checks ACLs at EXEC, so "user default off" silently drops
   * every MULTI/EXEC from the AOF on restart (redis/redis#14541, fixed by #14545 in later Redis; valkey#3983).
   */
  aclUser?: { name: string; password: string };
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Addresses to bind (default loopback only). */
  bind?: string[];
  /** Default yes: without a password, Redis answers only loopback clients. */
  protectedMode?: boolean;
  /** Raw lines appended to redis.conf (tests of what not to do). */
  extraConfig?: string[];
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly conf: string;
  pid(): number | undefined;
  /** SIGTERM (redis flushes the AOF) and waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL: what a power loss or OOM kill does. */
  kill9(): Promise<void>;
  /** Starts it again on the same config (same data folder: the AOF is replayed). */
  start(): Promise<void>;
}

/**
 * The ACL rule set for the workbench's user: its keys and channels only (prefix `aimkp:`), every command BullMQ
 * uses, nothing administrative. INFO is needed by BullMQ's version check, CLIENT SETNAME/GETNAME by its connections.
 */
export const WORKBENCH_ACL = [
  '~aimkp:*',
  '&aimkp:*',
  '+@all',
  '-@admin',
  '-@dangerous',
  '+info',
  '+client|setname',
  '+client|getname',
  '+client|id',
  '+client|info',
  // BullMQ's Lua scripts (EVALSHA/EVAL are @scripting, not @dangerous) and SCRIPT LOAD.
  '+script|load',
  '+script|exists',
];

export function redisConfig(o: RedisServerOptions & { port: number }): string {
  const lines = [
    `port ${o.port}`,
    `bind ${(o.bind ?? ['127.0.0.1', '-::1']).join(' ')}`,
    `protected-mode ${o.protectedMode === false ? 'no' : 'yes'}`,
    `dir ${o.dir}`,
    `pidfile ${join(o.dir, 'redis.pid')}`,
    `logfile ${join(o.dir, 'redis.log')}`,
    'daemonize no',
    // Durability: every write in the AOF, fsynced once a second (or per write); no RDB snapshots needed.
    'appendonly yes',
    `appendfsync ${o.appendfsync ?? 'everysec'}`,
    'save ""',
    // BullMQ requires that Redis never evicts its keys.
    'maxmemory-policy noeviction',
    // Detect dead clients (a worker's host lost power) within a minute.
    'tcp-keepalive 60',
  ];
  if (o.password) lines.push(`requirepass ${o.password}`);
  if (o.aclUser) {
    if (!o.password) throw new Error('an ACL user needs `password` for the default (admin) user: see aclUser');
    lines.push(`user ${o.aclUser.name} on >${o.aclUser.password} ${WORKBENCH_ACL.join(' ')}`);
  }
  lines.push(...(o.extraConfig ?? []));
  return lines.join('\n') + '\n';
}

/** A port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedis(options: RedisServerOptions): Promise<RedisServer> {
  const o = { ...options, port: options.port ?? (await freePort()) };
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'redis.conf');
  writeFileSync(conf, redisConfig(o));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const net = await import('node:net');
  const portInUse = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(o.port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  const start = async (): Promise<void> => {
    // Another server on the port would answer our pings and we would test against it: refuse.
    if (await portInUse()) throw new Error(`port ${o.port} is already in use (a redis-server left running?)`);
    const c = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    // The log goes to the logfile; wait until the port answers.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(o.port, '127.0.0.1');
        s.once('connect', () => {
          s.write('PING\r\n');
        });
        s.once('data', (d) => {
          s.destroy();
          // +PONG, or -NOAUTH when a password is set: either way it is up and has loaded the AOF
          // (while loading it answers -LOADING).
          resolve(!d.toString().startsWith('-LOADING'));
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (c.exitCode !== null)
        throw new Error(`redis-server exited with ${c.exitCode}; see ${join(o.dir, 'redis.log')}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${o.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    await exited;
    child = null;
  };

  await start();
  const auth = o.aclUser
    ? `${encodeURIComponent(o.aclUser.name)}:${encodeURIComponent(o.aclUser.password)}@`
    : o.password
      ? `:${encodeURIComponent(o.password)}@`
      : '';
  return {
    port: o.port,
    url: `redis://${auth}127.0.0.1:${o.port}`,
    conf,
    pid: () => child?.pid,
    stop: () => signal('SIGTERM'),
    kill9: () => signal('SIGKILL'),
    start,
  };
}
