// Workbench side of live events across machines. A run trained by a worker on another machine appends to its
// events.jsonl on the shared folder, but that file reaches this machine late (NFS attribute caching: up to a
// minute); its worker also mirrors every event into the Redis stream <ns>:ev:<runId> under the id `<seq>-0`
// (event-mirror.ts). The hub reads such a run through a LabEventSource: the file's events and the stream's, merged by
// seq (they number alike), delivered in order with no gap: a gap is filled from the stream (XRANGE), and what
// neither has yet waits. One blocking connection (XREAD) follows the streams of the runs whose lab job is queued or
// running, and pokes the hub when entries arrive.
import type { Redis } from 'ioredis';
import type { EventSource } from '../supervisor/event-hub';
import type { RunEventLog, SeqEvent, StreamRecord } from '../supervisor/run-event-log';
import { seqOfStreamId, streamKey } from './event-mirror';

type StreamEntry = [id: string, fields: string[]];

function toSeqEvents(entries: StreamEntry[]): SeqEvent[] {
  const out: SeqEvent[] = [];
  for (const [id, fields] of entries) {
    const i = fields.indexOf('e');
    if (i < 0) continue;
    try {
      out.push({ seq: seqOfStreamId(id), event: JSON.parse(fields[i + 1]) as StreamRecord });
    } catch {
      /* not an entry of ours */
    }
  }
  return out;
}

export interface RemoteEventFeedOptions {
  ns: string;
  /** Whether a run's lab job is queued or running (its stream is then followed). */
  isActive: (runId: string) => boolean;
  /** How long a run's stream is still followed after its job ended (its last events may be in flight). */
  graceMs?: number;
  /** XREAD BLOCK timeout: also the longest a newly active run waits to join the blocking read. */
  blockMs?: number;
  onError?: (err: Error) => void;
}

interface Followed {
  source: LabEventSource;
  /** The stream id this feed has read up to (a seq). */
  from: number;
  /** Entries read and not yet taken by the source. */
  buffer: SeqEvent[];
  /** Date.now() until which the stream is followed after its job stopped being active; null while active. */
  until: number | null;
  following: boolean;
}

export class RemoteEventFeed {
  private readonly runs = new Map<string, Followed>();
  private running = false;
  private stopped = false;

  /**
   * @param blocking a connection used only for XREAD BLOCK (a blocked connection can do nothing else)
   * @param cmd a normal connection (XRANGE for gaps)
   */
  constructor(
    private readonly blocking: Redis,
    private readonly cmd: Redis,
    private readonly o: RemoteEventFeedOptions,
  ) {}

  /** The hub's source for a run stream (one per run id). */
  sourceFor(runId: string, file: RunEventLog, poke: () => void): LabEventSource {
    const source = new LabEventSource(runId, file, this, poke);
    this.runs.set(runId, { source, from: 0, buffer: [], until: null, following: false });
    this.wake();
    return source;
  }

  /** A lab job changed state: follow its run's stream now (or stop after the grace time). */
  wake(): void {
    if (!this.running && !this.stopped) void this.loop();
  }

  /** Buffered events of the run with seq > after (removed from the buffer). */
  take(runId: string, after: number): SeqEvent[] {
    const f = this.runs.get(runId);
    if (!f || f.buffer.length === 0) return [];
    const out = f.buffer.filter((e) => e.seq > after);
    f.buffer = [];
    return out;
  }

  /** Events first..last of the run's stream (a gap fill). */
  async range(runId: string, first: number, last: number): Promise<SeqEvent[]> {
    if (last < first) return [];
    const entries = (await this.cmd.xrange(streamKey(this.o.ns, runId), `${first}-0`, `${last}-0`)) as StreamEntry[];
    return toSeqEvents(entries);
  }

  close(): void {
    this.stopped = true;
    this.blocking.disconnect();
  }

  /** The runs to follow now: active jobs, and ended ones within their grace time. */
  private followedNow(): [string, Followed][] {
    const now = Date.now();
    const grace = this.o.graceMs ?? 15_000;
    const out: [string, Followed][] = [];
    for (const [runId, f] of this.runs) {
      if (this.o.isActive(runId)) f.until = null;
      else if (f.following && f.until === null) f.until = now + grace;
      const follow = f.until === null ? this.o.isActive(runId) : now < f.until;
      if (follow && !f.following) {
        // Start where the hub has read (what came before it reads from the file or replays).
        f.from = Math.max(f.from, f.source.lastSeq);
        f.following = true;
      } else if (!follow && f.following) {
        f.following = false;
        f.until = null;
      }
      if (f.following) out.push([runId, f]);
    }
    return out;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped) {
        const followed = this.followedNow();
        if (followed.length === 0) return;
        let reply: [string, StreamEntry[]][] | null;
        try {
          reply = (await this.blocking.xread(
            'COUNT',
            1000,
            'BLOCK',
            this.o.blockMs ?? 500,
            'STREAMS',
            ...followed.map(([runId]) => streamKey(this.o.ns, runId)),
            ...followed.map(([, f]) => `${f.from}-0`),
          )) as [string, StreamEntry[]][] | null;
        } catch (err) {
          if (this.stopped) return;
          this.o.onError?.(err as Error);
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        if (!reply) continue;
        const prefix = streamKey(this.o.ns, '');
        for (const [key, entries] of reply) {
          const f = this.runs.get(key.slice(prefix.length));
          if (!f) continue;
          const events = toSeqEvents(entries);
          if (entries.length > 0) f.from = Math.max(f.from, seqOfStreamId(entries[entries.length - 1][0]));
          const fresh = events.filter((e) => e.seq > f.source.lastSeq);
          if (fresh.length === 0) continue;
          f.buffer.push(...fresh);
          f.source.poke();
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * A run stream read from its events.jsonl and its Redis stream at once (the hub's EventSource): each seq once, in
 * order, none skipped; whichever side has an event first delivers it.
 */
export class LabEventSource implements EventSource {
  private delivered = 0;
  /** Events read (from either side) past a gap, waiting for it to close. */
  private readonly pending = new Map<number, SeqEvent>();

  constructor(
    readonly runId: string,
    private readonly file: RunEventLog,
    private readonly feed: RemoteEventFeed,
    readonly poke: () => void,
  ) {}

  get lastSeq(): number {
    return this.delivered;
  }

  async readNew(limit = Infinity): Promise<SeqEvent[]> {
    for (const e of await this.file.readNew()) if (e.seq > this.delivered) this.pending.set(e.seq, e);
    for (const e of this.feed.take(this.runId, this.delivered))
      if (!this.pending.has(e.seq)) this.pending.set(e.seq, e);
    if (this.pending.size > 0 && !this.pending.has(this.delivered + 1)) {
      // A gap: the file lags (another machine writes it) and the feed joined later. Redis has the events.
      const first = Math.min(...this.pending.keys());
      try {
        for (const e of await this.feed.range(this.runId, this.delivered + 1, first - 1)) this.pending.set(e.seq, e);
      } catch {
        // Redis unavailable: the file catches up later.
      }
    }
    const out: SeqEvent[] = [];
    while (out.length < limit) {
      const next = this.pending.get(this.delivered + 1);
      if (!next) break;
      this.pending.delete(next.seq);
      out.push(next);
      this.delivered = next.seq;
    }
    if (out.length === limit && this.pending.size > 0) this.poke();
    return out;
  }

  async since(sinceSeq: number, limit = Infinity): Promise<SeqEvent[]> {
    const fromFile = await this.file.since(sinceSeq, limit);
    const want = Math.min(limit, this.delivered - sinceSeq);
    if (fromFile.length >= want) return fromFile;
    // The file lags behind what the hub delivered from Redis: the rest from the stream.
    const after = fromFile.length > 0 ? fromFile[fromFile.length - 1].seq : sinceSeq;
    const rest = await this.feed.range(this.runId, after + 1, sinceSeq + want).catch(() => []);
    const out = [...fromFile];
    for (const e of rest) if (e.seq === (out.length > 0 ? out[out.length - 1].seq : sinceSeq) + 1) out.push(e);
    return out;
  }
}
