// Live delivery of run events to clients: at most one batch per run per BATCH_INTERVAL_MS (≤ 20/s), every event
// in some batch, in seq order, none twice. A subscriber that names a seq first gets what it missed, replayed from
// events.jsonl, then the live stream. Whoever writes a run's events (a worker, or `aimkp train` in a terminal)
// only has to `poke(runId)`; runs nobody pokes are polled while someone subscribes to them. Where a stream's
// events come from is an EventSource: its events.jsonl by default; a lab queue (electron/queue/) gives runs trained
// on other machines a source that also reads their Redis stream (same seq numbers).
import { RunEventLog, type SeqEvent } from './run-event-log';

/** A stream's numbered events as the hub reads them: the tail (readNew), replay (since) and how far it has read. */
export interface EventSource {
  /** The seq of the last event readNew() returned. */
  readonly lastSeq: number;
  /** The events after lastSeq that are there now (at most `limit`), in seq order, none skipped. */
  readNew(limit?: number): Promise<SeqEvent[]>;
  /** The events with seq > sinceSeq (at most `limit`), in seq order. */
  since(sinceSeq: number, limit?: number): Promise<SeqEvent[]>;
}

export const BATCH_INTERVAL_MS = 50;
/**
 * Most events in one delivered batch: a replay of a long run's history (or a live backlog) goes out as several
 * batches of at most this many, so no single message grows past the transports' size caps.
 */
export const MAX_BATCH_EVENTS = 1000;
/** How often a subscribed run that no worker of ours writes (a CLI run) is checked for new lines. */
export const EXTERNAL_POLL_MS = 1000;

export interface EventBatch {
  /** The stream: a run id or "job:<id>". */
  runId: string;
  events: SeqEvent[];
  /** true for history replayed to a subscriber that asked for events since a seq. */
  replay: boolean;
}

export type BatchListener = (batch: EventBatch) => void;

interface Subscription {
  runId: string | '*';
  listener: BatchListener;
  /** Per run: the last seq delivered to this subscriber. */
  delivered: Map<string, number>;
  /** Runs whose catch-up replay is in flight (live batches for them wait for it). */
  catchingUp: Set<string>;
  /**
   * Live-only runs whose first read since subscribing has not completed: what that read finds was already there.
   * Whichever flush completes first sets the start (startLive's own read may queue behind another).
   */
  firstRead: Set<string>;
  closed: boolean;
}

interface TailedRun {
  log: EventSource;
  timer: NodeJS.Timeout | null;
  lastFlush: number;
  flushing: Promise<void> | null;
  /** A poke came in while a flush was reading: read again right after. */
  again: boolean;
}

export interface EventHubOptions {
  /** The events.jsonl of a stream id (already validated). */
  fileOf: (streamId: string) => string;
  batchIntervalMs?: number;
  /** Called on a read error (the hub keeps going). */
  onError?: (runId: string, err: unknown) => void;
  /** The source of a stream other than its events.jsonl alone (given the file's log); default: the file. */
  sourceOf?: (streamId: string, file: RunEventLog) => EventSource;
}

export class EventHub {
  private readonly runs = new Map<string, TailedRun>();
  private readonly subs = new Set<Subscription>();
  private readonly interval: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: EventHubOptions) {
    this.interval = options.batchIntervalMs ?? BATCH_INTERVAL_MS;
  }

  /** The numbered event source of a run (one per run id, shared by tail and replay). */
  logOf(runId: string): EventSource {
    return this.tailed(runId).log;
  }

  /** Events with seq > sinceSeq from disk (the full history when sinceSeq = 0). */
  eventsSince(runId: string, sinceSeq: number, limit?: number): Promise<SeqEvent[]> {
    return this.logOf(runId).since(sinceSeq, limit);
  }

  /** New lines may have been appended to the run's events.jsonl: deliver them within one batch interval. */
  poke(runId: string): void {
    if (this.closed) return;
    const run = this.tailed(runId);
    if (run.flushing) {
      run.again = true;
      return;
    }
    if (run.timer) return;
    const delay = Math.max(0, run.lastFlush + this.interval - performance.now());
    run.timer = setTimeout(() => {
      run.timer = null;
      void this.flush(runId, run);
    }, delay);
  }

  /**
   * Reads and delivers whatever is new (callers that need the exact lastSeq, and subscriptions catching up).
   * It still keeps the stream's batch spacing: it waits out the rest of the interval since the last batch.
   */
  async flushNow(runId: string): Promise<void> {
    const run = this.tailed(runId);
    for (;;) {
      while (run.flushing) await run.flushing;
      const wait = run.lastFlush + this.interval - performance.now();
      if (wait <= 0) break;
      await new Promise((r) => setTimeout(r, wait));
    }
    // From here to flush() setting run.flushing nothing awaits: no other flush can slip in between.
    if (run.timer) {
      clearTimeout(run.timer);
      run.timer = null;
    }
    await this.flush(runId, run);
  }

  /**
   * Subscribes to one stream, or to every stream the hub tails ('*'). With a since-seq the subscriber first
   * receives the events after it from disk (`replay: true`), then the live stream; for '*', `since` maps
   * stream ids to seqs. Without one it gets what arrives from now on.
   */
  subscribe(runId: string | '*', listener: BatchListener, since?: number | Record<string, number>): () => void {
    const sub: Subscription = {
      runId,
      listener,
      delivered: new Map(),
      catchingUp: new Set(),
      firstRead: new Set(),
      closed: false,
    };
    this.subs.add(sub);
    const sinceOf = (id: string): number | undefined => (typeof since === 'number' ? since : since?.[id]);
    const targets =
      runId === '*'
        ? new Set([...this.runs.keys(), ...Object.keys(typeof since === 'object' ? since : {})])
        : new Set([runId]);
    for (const id of targets) {
      const from = sinceOf(id);
      if (from === undefined) void this.startLive(sub, id);
      else void this.catchUp(sub, id, from);
    }
    if (runId !== '*') this.ensurePolling();
    return () => {
      sub.closed = true;
      this.subs.delete(sub);
    };
  }

  /** Drops what the hub knows of a stream (its run folder was deleted; a new run may reuse the id). */
  forget(runId: string): void {
    const run = this.runs.get(runId);
    if (run?.timer) clearTimeout(run.timer);
    this.runs.delete(runId);
  }

  /** Stops timers; pending events stay on disk for replay. */
  close(): void {
    this.closed = true;
    for (const run of this.runs.values()) if (run.timer) clearTimeout(run.timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.subs.clear();
  }

  private tailed(runId: string): TailedRun {
    let run = this.runs.get(runId);
    if (!run) {
      const file = new RunEventLog(this.options.fileOf(runId));
      run = {
        log: this.options.sourceOf ? this.options.sourceOf(runId, file) : file,
        timer: null,
        lastFlush: -Infinity,
        flushing: null,
        again: false,
      };
      this.runs.set(runId, run);
    }
    return run;
  }

  /** Live only: skip what is already in the file (read it first, so "now" means now and not "the hub's last read"). */
  private async startLive(sub: Subscription, runId: string): Promise<void> {
    sub.firstRead.add(runId);
    try {
      await this.flushNow(runId);
    } catch (err) {
      this.options.onError?.(runId, err);
    } finally {
      // Normally a completed flush has already set the start; this covers a read that failed.
      if (sub.firstRead.delete(runId)) sub.delivered.set(runId, this.logOf(runId).lastSeq);
    }
  }

  private async catchUp(sub: Subscription, runId: string, sinceSeq: number): Promise<void> {
    sub.catchingUp.add(runId);
    let delivered = sinceSeq;
    try {
      const log = this.logOf(runId);
      // A hub that has not read this run yet (an old run, a fresh hub): read it, so the replay has a target.
      if (log.lastSeq <= sinceSeq) await this.flushNow(runId);
      // Replay until the replay has reached what the live tail has read; live batches then continue from there.
      // The check and the hand-over below run without an await between them, so no live batch slips through.
      for (;;) {
        const target = log.lastSeq;
        if (delivered >= target || sub.closed) break;
        const missed = await log.since(delivered, Math.min(target - delivered, MAX_BATCH_EVENTS));
        if (missed.length === 0) break;
        delivered = missed[missed.length - 1].seq;
        this.deliver(sub, { runId, events: missed, replay: true });
      }
    } catch (err) {
      this.options.onError?.(runId, err);
    } finally {
      sub.delivered.set(runId, Math.max(delivered, sub.delivered.get(runId) ?? 0));
      sub.catchingUp.delete(runId);
    }
  }

  private async flush(runId: string, run: TailedRun): Promise<void> {
    if (this.closed) return;
    const work = (async () => {
      let events: SeqEvent[] = [];
      try {
        events = await run.log.readNew();
      } catch (err) {
        this.options.onError?.(runId, err);
      }
      run.lastFlush = performance.now();
      for (const sub of this.subs) {
        if ((sub.runId === '*' || sub.runId === runId) && sub.firstRead.delete(runId))
          sub.delivered.set(runId, run.log.lastSeq);
      }
      if (events.length === 0) return;
      for (const sub of this.subs) {
        if (sub.runId !== '*' && sub.runId !== runId) continue;
        if (sub.catchingUp.has(runId)) continue;
        if (!sub.delivered.has(runId)) sub.delivered.set(runId, events[0].seq - 1);
        const after = sub.delivered.get(runId)!;
        const fresh = after >= events[events.length - 1].seq ? [] : events.filter((e) => e.seq > after);
        if (fresh.length === 0) continue;
        sub.delivered.set(runId, fresh[fresh.length - 1].seq);
        for (let i = 0; i < fresh.length; i += MAX_BATCH_EVENTS)
          this.deliver(sub, { runId, events: fresh.slice(i, i + MAX_BATCH_EVENTS), replay: false });
      }
    })();
    run.flushing = work;
    try {
      await work;
    } finally {
      run.flushing = null;
    }
    if (run.again) {
      run.again = false;
      this.poke(runId);
    }
  }

  private deliver(sub: Subscription, batch: EventBatch): void {
    if (sub.closed) return;
    try {
      sub.listener(batch);
    } catch (err) {
      this.options.onError?.(batch.runId, err);
    }
  }

  /** Subscribed runs get polled, so runs written by another process (the CLI) stream too. */
  private ensurePolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => {
      const wanted = new Set<string>();
      for (const sub of this.subs) if (sub.runId !== '*') wanted.add(sub.runId);
      if (wanted.size === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = null;
      }
      for (const id of wanted) this.poke(id);
    }, EXTERNAL_POLL_MS);
    this.pollTimer.unref();
  }
}
