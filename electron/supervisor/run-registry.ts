// The run registry is the run folders themselves: runs/<id>/config.json + events.jsonl (+ run-meta.json for the
// display name and tags the app adds). A run made by `aimkp train --out <workspace>/runs/X` is listed like one
// the app started. What a run's files say is summarised here from the END of events.jsonl (a long run's log is
// megabytes; its last lines say where it stands), cached by file size and mtime.
import { existsSync, readdirSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreError,
  inspectLock,
  readRunConfig,
  RUN_FILES,
  writeFileAtomic,
  type LeaseJudge,
  type LockState,
  type RunConfig,
} from '../../models/index';
import { parseTrainingEvent, type RunEndEvent, type TrainingEvent } from '../../shared/training-events';
import type { SweepRef } from '../../shared/sweep';
import { isRunId } from './workspace';

export const RUN_META_FILE = 'run-meta.json';

/** What the app adds to a run folder: display name, tags, and that it started the run. */
export interface RunMeta {
  name?: string;
  tags?: string[];
  origin?: 'app' | 'cli';
  /** The sweep the run belongs to (its group in the Runs view). */
  sweep?: SweepRef;
  /**
   * The lab-queue job that started training it (written by the worker before the first step): a worker that takes
   * the job again after a crash resumes the run; any other job finds the run taken.
   */
  job?: string;
  /** When the run was launched (the app writes it at runs.start; a CLI run has only config.json's time). */
  createdAt?: string;
}

/** Where a run stands according to its files alone (the supervisor adds what its jobs know). */
export type FileRunState =
  /** config.json but no run-start yet (preparing, or died before training). */
  | 'created'
  /** A run-start without a later run-end / error: training now (lock held) or interrupted. */
  | 'open'
  | 'completed'
  | 'stopped'
  | 'failed';

export interface RunFileSummary {
  id: string;
  dir: string;
  config: RunConfig;
  meta: RunMeta;
  state: FileRunState;
  /** The last error event's code and message (state failed). */
  error: { code: string; message: string } | null;
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  best: { epoch: number; score: number } | null;
  createdAt: string | null;
  updatedAt: string | null;
  lock: LockState;
}

/** Bytes read from the end of events.jsonl to find the last step / epoch-end / run-start / run-end. */
const TAIL_BYTES = 256 * 1024;

interface CachedTail {
  size: number;
  mtimeMs: number;
  tail: TailFacts;
}

interface TailFacts {
  state: FileRunState;
  error: { code: string; message: string } | null;
  epoch: number | null;
  step: number | null;
  totalSteps: number | null;
  best: { epoch: number; score: number } | null;
  lastTime: string | null;
}

export class RunRegistry {
  private readonly tails = new Map<string, CachedTail>();

  /** `leaseAlive` judges run locks held under a lab queue's lease (models' inspectLock). */
  constructor(
    private runsDir: string,
    private readonly leaseAlive?: LeaseJudge,
  ) {}

  setRunsDir(dir: string): void {
    this.runsDir = dir;
    this.tails.clear();
  }

  dirOf(id: string): string {
    return join(this.runsDir, id);
  }

  /** Run ids (folders with a config.json), any order. */
  ids(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.runsDir);
    } catch {
      return [];
    }
    return names.filter((n) => isRunId(n) && existsSync(join(this.runsDir, n, RUN_FILES.config)));
  }

  exists(id: string): boolean {
    return existsSync(join(this.dirOf(id), RUN_FILES.config));
  }

  /** The summary of one run; throws NOT_FOUND when there is no such run, BAD_INPUT when its config is broken. */
  summary(id: string): RunFileSummary {
    const dir = this.dirOf(id);
    const config = readRunConfig(dir);
    const meta = readMeta(dir);
    const facts = this.tailFacts(id, dir);
    const stepsPerEpoch = Math.ceil(config.trainItems / config.batchSize);
    let lock: LockState;
    try {
      lock = inspectLock(dir, { leaseAlive: this.leaseAlive });
    } catch {
      lock = { state: 'unreadable', reason: 'cannot read run.lock' };
    }
    return {
      id,
      dir,
      config,
      meta,
      state: facts.state,
      error: facts.error,
      epoch: facts.epoch ?? 0,
      epochs: config.epochs,
      step: facts.step ?? 0,
      totalSteps: facts.totalSteps ?? stepsPerEpoch * config.epochs,
      best: facts.best,
      createdAt: meta.createdAt ?? config.createdAt ?? null,
      updatedAt: facts.lastTime,
      lock,
    };
  }

  /** Every readable run; runs whose config cannot be read are skipped (listed in `broken`). */
  list(): { runs: RunFileSummary[]; broken: { id: string; message: string }[] } {
    const runs: RunFileSummary[] = [];
    const broken: { id: string; message: string }[] = [];
    for (const id of this.ids()) {
      try {
        runs.push(this.summary(id));
      } catch (err) {
        broken.push({ id, message: (err as Error).message });
      }
    }
    return { runs, broken };
  }

  async writeMeta(id: string, change: (m: RunMeta) => RunMeta): Promise<RunMeta> {
    const dir = this.dirOf(id);
    if (!this.exists(id))
      throw new CoreError('NOT_FOUND', `run ${id}: no such run in ${this.runsDir}`, { field: 'id' });
    const next = change(readMeta(dir));
    await writeFileAtomic(join(dir, RUN_META_FILE), JSON.stringify(next, null, 2) + '\n');
    return next;
  }

  private tailFacts(id: string, dir: string): TailFacts {
    const file = join(dir, RUN_FILES.events);
    let st: { size: number; mtimeMs: number };
    try {
      st = statSync(file);
    } catch {
      return { state: 'created', error: null, epoch: null, step: null, totalSteps: null, best: null, lastTime: null };
    }
    const cached = this.tails.get(id);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.tail;
    const tail = summariseTail(readTail(file, st.size));
    this.tails.set(id, { size: st.size, mtimeMs: st.mtimeMs, tail });
    return tail;
  }
}

export function readMeta(dir: string): RunMeta {
  try {
    const v = JSON.parse(readFileSync(join(dir, RUN_META_FILE), 'utf8')) as RunMeta;
    const meta: RunMeta = {
      name: typeof v.name === 'string' ? v.name : undefined,
      tags: Array.isArray(v.tags) ? v.tags.filter((t): t is string => typeof t === 'string') : undefined,
      origin: v.origin === 'app' || v.origin === 'cli' ? v.origin : undefined,
      createdAt: typeof v.createdAt === 'string' ? v.createdAt : undefined,
    };
    const sweep = parseSweepRef(v.sweep);
    if (sweep) meta.sweep = sweep;
    if (typeof v.job === 'string') meta.job = v.job;
    return meta;
  } catch {
    return {};
  }
}

function parseSweepRef(v: unknown): SweepRef | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<SweepRef>;
  const int = (x: unknown): x is number => Number.isInteger(x);
  if (typeof r.id !== 'string' || typeof r.cell !== 'string' || !int(r.seed) || !int(r.index) || !int(r.total))
    return undefined;
  return { id: r.id, cell: r.cell, seed: r.seed, index: r.index, total: r.total };
}

/**
 * The run's final run-end when the run has completed (its last state-setting event is a completed run-end), else
 * null: a lab job taken again after its run completed reports this instead of training the run a second time.
 */
export function completedRunEnd(dir: string): RunEndEvent | null {
  const file = join(dir, RUN_FILES.events);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return null;
  }
  const events = readTail(file, size);
  if (summariseTail(events).state !== 'completed') return null;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'run-end') return e;
  }
  return null;
}

function readTail(file: string, size: number): TrainingEvent[] {
  const start = Math.max(0, size - TAIL_BYTES);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  if (start > 0) lines.shift(); // the first line is probably cut
  lines.pop(); // after the last newline: empty, or a line being written
  return lines.map(parseTrainingEvent).filter((e): e is TrainingEvent => e !== null);
}

/** Where the run stands, from its last events (newest first). */
export function summariseTail(events: readonly TrainingEvent[]): TailFacts {
  const facts: TailFacts = {
    state: 'created',
    error: null,
    epoch: null,
    step: null,
    totalSteps: null,
    best: null,
    lastTime: events.length > 0 ? events[events.length - 1].time : null,
  };
  let stateKnown = false;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    switch (e.type) {
      case 'run-end':
        if (!stateKnown) {
          facts.state = e.status;
          stateKnown = true;
        }
        facts.step ??= e.step;
        facts.epoch ??= e.status === 'completed' ? Math.max(0, e.epoch - 1) : e.epoch;
        if (facts.best === null && e.best) facts.best = e.best;
        break;
      case 'error':
        if (!stateKnown) {
          // ABORTED: stopped by request before the first step (no checkpoint yet; resume starts over).
          facts.state = e.code === 'ABORTED' ? 'stopped' : 'failed';
          facts.error = e.code === 'ABORTED' ? null : { code: e.code ?? 'INTERNAL', message: e.message };
          stateKnown = true;
        }
        break;
      case 'run-start':
        if (!stateKnown) {
          facts.state = 'open';
          stateKnown = true;
        }
        facts.totalSteps ??= e.totalSteps;
        facts.step ??= e.startStep;
        facts.epoch ??= e.startEpoch;
        break;
      case 'step':
        facts.step ??= e.step;
        facts.epoch ??= e.epoch;
        break;
      case 'epoch-end':
        facts.step ??= e.step;
        facts.epoch ??= e.epoch;
        if (facts.best === null && e.best) facts.best = e.best;
        break;
      default:
        break;
    }
    if (stateKnown && facts.totalSteps !== null && facts.step !== null && facts.best !== null) break;
  }
  return facts;
}
