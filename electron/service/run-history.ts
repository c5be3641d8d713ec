// runs.history on the server: each run's training events (and job lines) folded into a RunSeries (the renderer's own fold,
// shared/run-series.ts), kept per run and advanced by the events appended since the last request. A client
// opening a long run loads the folded columns and streams on from their seq, instead of replaying every raw
// event (2.8 KB per step of per-sample records) through the wire and the UI thread.
//
// The fold is also saved under the workspace's cache/ (derived data, safe to delete) with the byte offset it
// reached and a hash of the bytes before it, so a server started later reads only what was appended since,
// not 56 MB of JSON for a 20,000-step run. A saved fold whose bytes no longer match (the run was deleted and
// made again under its id) is ignored.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunSeries, type RunHistory, type StepColumns } from '../../shared/run-series';
import { RunEventLog } from '../supervisor/run-event-log';

export interface RunHistoryCacheOptions {
  /** Runs whose folds are kept in memory (least recently asked for goes first). */
  maxRuns?: number;
  /** Significant digits of the numbers sent (what a chart can show; the wire stays small). */
  digits?: number;
  /** Folder for saved folds (null = keep them in memory only). */
  persistDir?: () => string | null;
  /** Save a fold when it has advanced by this many events (and when the run has ended). */
  persistEvery?: number;
}

const PAGE = 5000;
/** Background folds parse ~25 ms at a time. */
const WARM_PAGE = 500;
const HASHED_BYTES = 64 * 1024;
// 2: folds carry the job state and the training time (issue 16); a fold saved before is folded again.
const FORMAT = 2;

interface Entry {
  file: string;
  log: RunEventLog;
  series: RunSeries;
  /** The columns rounded for the wire, kept in step with series (new steps appended). */
  rounded: StepColumns;
  persistedSeq: number;
  /** Serialises folds of one run: concurrent requests wait for the one in flight. */
  busy: Promise<void> | null;
}

interface SavedFold {
  format: number;
  file: string;
  seq: number;
  offset: number;
  tailSha256: string;
  history: RunHistory;
}

const emptyColumns = (): StepColumns => ({
  step: [],
  loss: [],
  lossOriginal: [],
  lossText: [],
  lossImage: [],
  cosText: [],
  cosImage: [],
  stepTimeMs: [],
});

export class RunHistoryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxRuns: number;
  private readonly digits: number;
  private readonly persistEvery: number;

  /** `fileOf` names a run's events.jsonl (absolute: the key, so a workspace switch cannot mix runs). */
  constructor(
    private readonly fileOf: (runId: string) => string,
    private readonly opts: RunHistoryCacheOptions = {},
  ) {
    this.maxRuns = opts.maxRuns ?? 16;
    this.digits = opts.digits ?? 7;
    this.persistEvery = opts.persistEvery ?? 2000;
  }

  private readonly warmQueue: string[] = [];
  private warming: Promise<void> | null = null;
  private closed = false;

  /**
   * Folds these runs in the background, one at a time and in small pages (the server stays responsive), so that
   * the first open of a long run finds its fold ready. Runs already in memory are skipped.
   */
  warm(runIds: readonly string[]): void {
    if (this.closed) return;
    for (const id of runIds.slice(0, this.maxRuns)) {
      if (!this.entries.has(this.fileOf(id)) && !this.warmQueue.includes(id)) this.warmQueue.push(id);
    }
    if (this.warming || this.warmQueue.length === 0) return;
    this.warming = (async () => {
      while (this.warmQueue.length > 0 && !this.closed) {
        const id = this.warmQueue.shift()!;
        try {
          await this.fold(id, WARM_PAGE);
        } catch {
          // A run that cannot be read now is folded (and its error reported) when someone opens it.
        }
      }
    })().finally(() => (this.warming = null));
  }

  /** Stops warming (waits for the run in progress). */
  async close(): Promise<void> {
    this.closed = true;
    this.warmQueue.length = 0;
    await this.warming;
  }

  /** The run's history up to the last complete event line on disk now. */
  async history(runId: string): Promise<RunHistory> {
    const e = await this.fold(runId, PAGE);
    // A copy: an in-process transport hands the object over as is, and the next fold appends to e.rounded.
    return e.series.snapshot(e.log.lastSeq, this.copyRounded(e));
  }

  private async fold(runId: string, page: number): Promise<Entry> {
    const file = this.fileOf(runId);
    let entry = this.entries.get(file);
    if (entry) {
      this.entries.delete(file); // most recently used goes last
      this.entries.set(file, entry);
    } else {
      entry = this.newEntry(file);
      this.entries.set(file, entry);
      this.evict();
      entry.busy = this.restore(entry).finally(() => (entry!.busy = null));
    }
    const e = entry;
    while (e.busy) await e.busy;
    const fold = this.advance(e, page);
    e.busy = fold;
    try {
      await fold;
    } finally {
      e.busy = null;
    }
    this.roundNew(e);
    this.maybePersist(e, e.log.lastSeq);
    return e;
  }

  /** Forgets a run (deleted): its saved fold goes too. */
  forget(runId: string): void {
    const file = this.fileOf(runId);
    this.entries.delete(file);
    const path = this.savedPath(file);
    if (path) rmSync(path, { force: true });
  }

  private newEntry(file: string): Entry {
    const entry: Entry = {
      file,
      log: new RunEventLog(file),
      series: new RunSeries(),
      rounded: emptyColumns(),
      persistedSeq: 0,
      busy: null,
    };
    this.watch(entry);
    return entry;
  }

  /** A resumed run drops steps past its restart point ('reset'): the rounded copy starts over. */
  private watch(e: Entry): void {
    const series = e.series;
    series.onChange((parts) => {
      if (parts.has('reset') && e.series === series) e.rounded = emptyColumns();
    });
  }

  private async advance(e: Entry, pageSize: number): Promise<void> {
    for (;;) {
      const expected = e.log.lastSeq + 1;
      const page = await e.log.readNew(pageSize);
      if (page.length === 0) return;
      if (page[0].seq !== expected) {
        // The file was replaced by a shorter one (the run deleted and made again): fold it from the start.
        e.series = new RunSeries();
        this.watch(e);
        e.rounded = emptyColumns();
        e.persistedSeq = 0;
      }
      // Training events and the supervisor's job lines alike (the fold keeps the job's newest state).
      e.series.ingestBatch(page.map(({ event }) => event));
      if (page.length < pageSize) return;
      // Let other work of the server in between pages.
      await new Promise((r) => setImmediate(r));
    }
  }

  private roundNew(e: Entry): void {
    // Steps not rounded yet (a 'reset' of the series empties e.rounded: see watch()).
    const done = e.rounded.step.length;
    if (done === e.series.step.length) return;
    const fresh = e.series.columns(done);
    const r = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(this.digits)));
    for (const k of Object.keys(fresh) as (keyof StepColumns)[]) {
      const col = k === 'step' ? fresh[k] : fresh[k].map(r);
      const into = e.rounded[k] as (number | null)[];
      for (let i = 0; i < col.length; i += 8192) into.push(...col.slice(i, i + 8192));
    }
  }

  private copyRounded(e: Entry): StepColumns {
    return Object.fromEntries(
      Object.entries(e.rounded).map(([k, v]: [string, (number | null)[]]) => [k, v.slice()]),
    ) as unknown as StepColumns;
  }

  private savedPath(file: string): string | null {
    const dir = this.opts.persistDir?.() ?? null;
    if (!dir) return null;
    return join(dir, `${createHash('sha256').update(file).digest('hex').slice(0, 24)}.json`);
  }

  /** Loads a saved fold if the bytes it covered are still those of the file. Any problem: start from 0. */
  private async restore(e: Entry): Promise<void> {
    const path = this.savedPath(e.file);
    if (!path) return;
    try {
      const saved = JSON.parse(await readFile(path, 'utf8')) as SavedFold;
      if (saved.format !== FORMAT || saved.file !== e.file) return;
      if ((await tailHash(e.file, saved.offset)) !== saved.tailSha256) return;
      e.series.load(saved.history);
      // Saved already rounded: they are the wire's columns as they stand.
      e.rounded = saved.history.steps;
      e.log.resumeAt({ seq: saved.seq, offset: saved.offset });
      e.persistedSeq = saved.seq;
    } catch {
      // No saved fold, or an unreadable one: fold from the start.
    }
  }

  private maybePersist(e: Entry, seq: number): void {
    const path = this.savedPath(e.file);
    if (!path || seq === e.persistedSeq) return;
    if (seq - e.persistedSeq < this.persistEvery && !e.series.end) return;
    e.persistedSeq = seq;
    const { offset } = e.log.position;
    // The rounded columns (what the wire carries; the fold goes on the same from them), copied now: the file is
    // written after an await, and the next fold appends to e.rounded.
    const history = e.series.snapshot(seq, this.copyRounded(e));
    void tailHash(e.file, offset)
      .then((tailSha256) => {
        const saved: SavedFold = { format: FORMAT, file: e.file, seq, offset, tailSha256, history };
        mkdirSync(join(path, '..'), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(saved));
        renameSync(tmp, path);
      })
      .catch(() => {
        // A cache: failing to save it costs a slower first open later, nothing else.
      });
  }

  private evict(): void {
    while (this.entries.size > this.maxRuns) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** SHA-256 of the (up to) 64 KiB before `offset`, and of the offset itself. */
async function tailHash(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const start = Math.max(0, offset - HASHED_BYTES);
    const buf = Buffer.alloc(offset - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    if (bytesRead !== buf.length) throw new Error('file shorter than the saved offset');
    return createHash('sha256').update(String(offset)).update(buf).digest('hex');
  } finally {
    await fh.close();
  }
}
