// Reads a stream's events.jsonl (a run's, or a job's) as a numbered stream. The file is the source of truth: an event's seq is its
// 1-based ordinal among the file's valid event lines, so the live tail and a replay from disk number every
// event the same way, with no gaps (a malformed line — e.g. half a line left by a crash and continued by a
// resume — is skipped by both). Only newline-terminated lines are read: a line being written is left for the
// next read.
import { open, stat } from 'node:fs/promises';
import { parseTrainingEvent, type TrainingEvent } from '../../shared/training-events';
import type { JobStateData } from '../../shared/contract/events';

/** A line the supervisor writes to a job's stream (jobs/<id>/events.jsonl): the job changed state. */
export interface JobStateLine {
  type: 'job';
  time: string;
  data: JobStateData;
}

export type StreamRecord = TrainingEvent | JobStateLine;

export interface SeqEvent {
  seq: number;
  event: StreamRecord;
}

/** One events.jsonl line → a training event or a job-state line; null for anything else (skipped, no seq). */
export function parseStreamLine(line: string): StreamRecord | null {
  if (line.startsWith('{"type":"job"')) {
    try {
      const v = JSON.parse(line) as Partial<JobStateLine>;
      if (v.type === 'job' && typeof v.time === 'string' && typeof v.data === 'object' && v.data !== null)
        return v as JobStateLine;
    } catch {
      return null;
    }
    return null;
  }
  return parseTrainingEvent(line);
}

/** Byte offset after every INDEX_EVERY-th event, so a replay from seq N need not parse the file from the start. */
const INDEX_EVERY = 256;
const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

interface Position {
  /** Valid events before `offset`. */
  seq: number;
  offset: number;
}

export class RunEventLog {
  /** Events consumed by read() so far = the seq of the last one. */
  private tail: Position = { seq: 0, offset: 0 };
  /** index[k] = position after event (k+1)·INDEX_EVERY. */
  private readonly index: Position[] = [];
  private reading: Promise<SeqEvent[]> | null = null;

  constructor(readonly file: string) {}

  /** The seq of the last event read so far. */
  get lastSeq(): number {
    return this.tail.seq;
  }

  /**
   * Reads the events appended since the last call (complete lines only), at most `limit`. Calls are
   * serialised: a call made while one is in flight waits for it and then reads what came after.
   */
  async readNew(limit = Infinity): Promise<SeqEvent[]> {
    while (this.reading) await this.reading.catch(() => undefined);
    const p = this.readFrom(this.tail, limit).then(({ events, end }) => {
      this.tail = end;
      return events;
    });
    this.reading = p;
    try {
      return await p;
    } finally {
      this.reading = null;
    }
  }

  /** Where the next readNew() starts: after `seq` events, at byte `offset`. */
  get position(): { seq: number; offset: number } {
    return { ...this.tail };
  }

  /**
   * Continues from a position saved earlier (a line boundary after `seq` valid events) instead of the start: the
   * caller has checked that the bytes before it are unchanged. Only before the first read.
   */
  resumeAt(pos: { seq: number; offset: number }): void {
    if (this.tail.offset !== 0 || this.reading) throw new Error('RunEventLog.resumeAt: the log was already read');
    this.tail = { seq: pos.seq, offset: pos.offset };
  }

  /**
   * The events with seq > `sinceSeq`, at most `limit` of them, read from disk. Also advances the index, so
   * it works on a run nobody tails.
   */
  async since(sinceSeq: number, limit = Infinity): Promise<SeqEvent[]> {
    const start = this.positionAtOrBefore(Math.max(0, sinceSeq));
    const { events } = await this.readFrom(start, limit + Math.max(0, sinceSeq - start.seq));
    return events.filter((e) => e.seq > sinceSeq).slice(0, limit);
  }

  private positionAtOrBefore(seq: number): Position {
    const k = Math.floor(seq / INDEX_EVERY) - 1;
    if (k < 0) return { seq: 0, offset: 0 };
    return this.index[Math.min(k, this.index.length - 1)] ?? { seq: 0, offset: 0 };
  }

  private remember(pos: Position): void {
    if (pos.seq % INDEX_EVERY !== 0) return;
    const k = pos.seq / INDEX_EVERY - 1;
    if (k === this.index.length) this.index.push({ ...pos });
  }

  /** Parses complete lines from `start` until `maxEvents` events or the end of the file. */
  private async readFrom(start: Position, maxEvents: number): Promise<{ events: SeqEvent[]; end: Position }> {
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch {
      return { events: [], end: start };
    }
    if (size < start.offset) {
      // The file was replaced by a shorter one (run deleted and recreated under the same id): start over.
      this.index.length = 0;
      return this.readFrom({ seq: 0, offset: 0 }, maxEvents);
    }
    const events: SeqEvent[] = [];
    const pos = { ...start };
    if (size === start.offset) return { events, end: pos };
    const fh = await open(this.file, 'r');
    try {
      let carry: Buffer = Buffer.alloc(0);
      let readAt = start.offset;
      while (readAt < size && events.length < maxEvents) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - readAt));
        const { bytesRead } = await fh.read(buf, 0, buf.length, readAt);
        if (bytesRead === 0) break;
        readAt += bytesRead;
        const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let lineStart = 0;
        for (
          let nl = data.indexOf(NEWLINE, lineStart);
          nl !== -1 && events.length < maxEvents;
          nl = data.indexOf(NEWLINE, lineStart)
        ) {
          const event = parseStreamLine(data.toString('utf8', lineStart, nl));
          pos.offset += nl + 1 - lineStart;
          lineStart = nl + 1;
          if (event === null) continue;
          pos.seq += 1;
          events.push({ seq: pos.seq, event });
          this.remember(pos);
        }
        carry = Buffer.from(data.subarray(lineStart));
      }
    } finally {
      await fh.close();
    }
    return { events, end: pos };
  }
}
