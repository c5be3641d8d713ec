// Worker side of live events across machines: the run's events.jsonl (on the shared folder) stays the truth; this
// mirror tails it with the supervisor's own RunEventLog (so an event's seq is its ordinal among the file's valid
// lines, exactly as every workbench numbers it) and adds each event to the Redis stream <ns>:ev:<runId> under the
// explicit id `<seq>-0`. Redis refuses an id that is not above the stream's last one, which makes the mirror
// idempotent: the worker that takes over a run re-reads the file from the start and adds only what is new. The
// stream is capped (MAXLEN ~) and expires a day after the run's job ends; older history is read from the file.
import type { Redis } from 'ioredis';
import { RunEventLog } from '../supervisor/run-event-log';

export const streamKey = (ns: string, runId: string): string => `${ns}:ev:${runId}`;
export const seqOfStreamId = (id: string): number => Number(id.slice(0, id.indexOf('-')));

export interface MirrorOptions {
  ns: string;
  fileOf: (runId: string) => string;
  /** Approximate cap of a run's stream (older events are read from the file). */
  maxLen?: number;
  /** How long a run's stream stays after its job ends on this worker. */
  keepAfterEndS?: number;
  onError?: (runId: string, err: Error) => void;
}

interface Mirrored {
  log: RunEventLog;
  /** The last seq read from the file (a smaller one later means the file was replaced). */
  lastRead: number;
  /** The stream's last seq (asked once from Redis). */
  streamSeq: number | null;
  flushing: Promise<void> | null;
  again: boolean;
}

export class RedisEventMirror {
  private readonly runs = new Map<string, Mirrored>();
  /** Events added, and events the stream already had (diagnostics, tests). */
  added = 0;
  skipped = 0;

  constructor(
    private readonly redis: Redis,
    private readonly o: MirrorOptions,
  ) {}

  /** The run's events.jsonl grew: mirror the new lines now (coalesced while a flush is in flight). */
  poke(runId: string): void {
    const m = this.of(runId);
    if (m.flushing) {
      m.again = true;
      return;
    }
    m.flushing = this.flush(runId, m)
      .catch((err: Error) => this.o.onError?.(runId, err))
      .finally(() => {
        m.flushing = null;
        if (m.again) {
          m.again = false;
          this.poke(runId);
        }
      });
  }

  /** Resolves once everything appended so far is in Redis. */
  async drain(runId: string): Promise<void> {
    const m = this.of(runId);
    while (m.flushing) await m.flushing;
    const work = this.flush(runId, m);
    m.flushing = work.catch(() => undefined);
    try {
      await work;
    } finally {
      m.flushing = null;
    }
  }

  /** The run's job ended here: drain, then let the stream expire (a later job of the run mirrors it again). */
  async end(runId: string): Promise<void> {
    try {
      await this.drain(runId);
      await this.redis.expire(streamKey(this.o.ns, runId), this.o.keepAfterEndS ?? 24 * 3600);
    } finally {
      this.runs.delete(runId);
    }
  }

  private of(runId: string): Mirrored {
    let m = this.runs.get(runId);
    if (!m) {
      m = { log: new RunEventLog(this.o.fileOf(runId)), lastRead: 0, streamSeq: null, flushing: null, again: false };
      this.runs.set(runId, m);
    }
    return m;
  }

  private async flush(runId: string, m: Mirrored): Promise<void> {
    const key = streamKey(this.o.ns, runId);
    if (m.streamSeq === null) {
      const last = (await this.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
      let top = last.length > 0 ? seqOfStreamId(last[0][0]) : 0;
      // The stream mirrors the file, so it never runs ahead of it unless it belongs to an earlier run of the same
      // id (deleted and made again while the old stream had not expired yet): that one goes.
      if (top > 0 && (await new RunEventLog(this.o.fileOf(runId)).since(top - 1, 1)).length === 0) {
        await this.redis.del(key);
        top = 0;
      }
      m.streamSeq = top;
      // A stream left to expire when the run's previous job ended lives on while the run trains again.
      if (top > 0) await this.redis.persist(key);
    }
    for (;;) {
      const events = await m.log.readNew(1000);
      if (events.length === 0) return;
      if (events[0].seq <= m.lastRead) {
        // The file was replaced (the run deleted and made again under the same id): its old stream goes, or every
        // new event (seq 1, 2, …) would be refused as not above the stream's top.
        await this.redis.del(key);
        m.streamSeq = 0;
      }
      m.lastRead = events[events.length - 1].seq;
      const top: number = m.streamSeq ?? 0;
      const fresh = events.filter((e) => e.seq > top);
      this.skipped += events.length - fresh.length;
      if (fresh.length === 0) continue;
      const p = this.redis.pipeline();
      const now = String(Date.now());
      for (const e of fresh)
        p.xadd(
          key,
          'MAXLEN',
          '~',
          String(this.o.maxLen ?? 20_000),
          `${e.seq}-0`,
          'e',
          JSON.stringify(e.event),
          'x',
          now,
        );
      const results = (await p.exec()) ?? [];
      for (const [err] of results) {
        if (!err) this.added++;
        // "equal or smaller than the target stream top item": another worker of this run added it already.
        else if (/equal or smaller/.test(err.message)) this.skipped++;
        else throw err;
      }
      m.streamSeq = fresh[fresh.length - 1].seq;
    }
  }
}
