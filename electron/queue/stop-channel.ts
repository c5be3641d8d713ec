// How "stop" and "kill" reach a job on another machine. Two ways at once, because pub/sub alone loses the messages
// sent while a subscriber reconnects:
//   - a key <ns>:ctl:<jobId> = {op, reason, at} (7 days): the durable request, read by a worker when it takes a job
//     (asked while the job waited, or between a worker's death and the takeover) and after each reconnect;
//   - a message on the channel <ns>:ctl: the fast path (~1 ms), so the run stops at its next step.
import type { Redis } from 'ioredis';

export type ControlOp = 'stop' | 'kill';

export interface ControlRequest {
  jobId: string;
  op: ControlOp;
  reason: string;
  at: number;
}

const TTL_S = 7 * 24 * 3600;

function parseRequest(text: string): ControlRequest | null {
  try {
    const v = JSON.parse(text) as Partial<ControlRequest>;
    if (typeof v.jobId !== 'string' || (v.op !== 'stop' && v.op !== 'kill') || typeof v.reason !== 'string')
      return null;
    return { jobId: v.jobId, op: v.op, reason: v.reason, at: typeof v.at === 'number' ? v.at : 0 };
  } catch {
    return null;
  }
}

export class StopChannel {
  private readonly channel: string;
  private subscribed = false;

  /**
   * @param cmd a normal connection (SET / GET / PUBLISH)
   * @param sub a connection used only for SUBSCRIBE (null: this side only sends)
   */
  constructor(
    private readonly cmd: Redis,
    private readonly sub: Redis | null,
    private readonly ns: string,
  ) {
    this.channel = `${ns}:ctl`;
  }

  private key(jobId: string): string {
    return `${this.ns}:ctl:${jobId}`;
  }

  /** Records the request and tells every worker. A kill replaces a stop; a stop never weakens a kill. */
  async request(jobId: string, op: ControlOp, reason: string): Promise<void> {
    const json = JSON.stringify({ jobId, op, reason, at: Date.now() } satisfies ControlRequest);
    if (op === 'kill') await this.cmd.set(this.key(jobId), json, 'EX', TTL_S);
    else await this.cmd.set(this.key(jobId), json, 'EX', TTL_S, 'NX');
    await this.cmd.publish(this.channel, json);
  }

  async pending(jobId: string): Promise<ControlRequest | null> {
    const v = await this.cmd.get(this.key(jobId));
    return v ? parseRequest(v) : null;
  }

  async clear(jobId: string): Promise<void> {
    await this.cmd.del(this.key(jobId));
  }

  /**
   * Calls `onRequest` for every request published, and `onResync` each time the subscription is (re)established: the
   * caller then re-reads pending() for the jobs it runs (requests sent while it was away).
   */
  async listen(onRequest: (r: ControlRequest) => void, onResync: () => void): Promise<void> {
    const sub = this.sub;
    if (!sub || this.subscribed) return;
    this.subscribed = true;
    sub.on('message', (ch: string, msg: string) => {
      if (ch !== this.channel) return;
      const r = parseRequest(msg);
      if (r) onRequest(r);
    });
    // ioredis subscribes again by itself after a reconnect; 'ready' says when.
    sub.on('ready', () => onResync());
    await sub.subscribe(this.channel);
    onResync();
  }
}
