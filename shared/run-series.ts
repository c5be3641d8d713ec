// The chartable history of one run, built from its training events. Plain (non-reactive) arrays: the live store
// keeps one RunSeries per open run under markRaw, and charts copy out of it, so chart.js never touches store
// state and Vue never tracks 20,000-element arrays. Listeners hear which part changed, once per ingested batch.
//
// The same fold runs on the server (runs.history): a long run's raw events are ~2.8 KB per step (per-sample
// records), its folded history ~60 bytes, so the server folds and the client loads a snapshot, then streams on
// from the snapshot's seq. snapshot() / load() round-trip exactly (NaN travels as null).
import type {
  EpochEndEvent,
  ProgressEvent,
  RunEndEvent,
  RunStartEvent,
  StepEvent,
  TrainingEvent,
} from './training-events';
import { CosineHistogram, type Band } from './quantiles';
import type { JobState } from './vocabulary';

export type Modality = 'text' | 'image';

export interface EpochPoint {
  epoch: number;
  /** Global step at the end of the epoch. */
  step: number;
  meanLoss: number;
  acceptance: Record<Modality, number | null>;
  strides: Record<Modality, Record<string, number>> | null;
  validation: { f1at1: number; f1at3: number; map5: number; score: number } | null;
  improved: boolean;
}

export interface CosineEpoch {
  epoch: number;
  firstStep: number;
  lastStep: number;
  text: Band | null;
  image: Band | null;
}

export type SeriesPart = 'steps' | 'epochs' | 'status' | 'log' | 'reset';

/**
 * What the workbench's supervisor writes into a run's stream about the job that trains it (a "job" line; the
 * contract's JobStateData): queued, running, then completed / stopped / failed (with why) / interrupted /
 * cancelled. A run made by `aimkp train` has none.
 */
export interface RunJobLine {
  type: 'job';
  time: string;
  data: { jobId: string; state: JobState; error: { code: string; message: string } | null };
}

/** The newest job line's state, with when it changed. */
export interface RunJobState {
  jobId: string;
  state: JobState;
  error: { code: string; message: string } | null;
  time: string;
}

/** What a run's stream holds: the trainer's events and the supervisor's job lines. */
export type SeriesEvent = TrainingEvent | RunJobLine;

/**
 * Time spent training, over every part of the run (a stopped and resumed run has several): each part runs from its
 * run-start to its run-end (or error); a part that never ended (the process died) ends at its last event.
 */
export interface TrainingTime {
  /** Milliseconds of the parts that ended. */
  closedMs: number;
  /** The run-start time of the part in progress, or null. */
  openSince: string | null;
  /** The time of the newest training event. */
  lastTime: string | null;
}

/**
 * Per step, a masked AimKP epoch costs this many warm-up steps when the run has not measured it yet: the benchmark's
 * masked step is 3.5–3.7× its warm-up step (docs/benchmarks.md), full ClipArt-KP runs spend 1.8–3.8× a warm-up
 * epoch on a masked one, and the workbench's own runs about 2.5–3× (issue 16); the middle of the latter.
 */
export const MASKED_STEP_COST_BENCH = 2.75;

/** The per-step columns of a run, one entry per optimizer step; null where the series holds NaN. */
export interface StepColumns {
  step: number[];
  loss: (number | null)[];
  lossOriginal: (number | null)[];
  lossText: (number | null)[];
  lossImage: (number | null)[];
  cosText: (number | null)[];
  cosImage: (number | null)[];
  stepTimeMs: (number | null)[];
}

/** The cosines of the epoch in progress, as [bin, count] pairs at 1e-4 (its band is computed when it ends). */
export interface OpenEpochCosines {
  epoch: number;
  firstStep: number;
  text: [number, number][];
  image: [number, number][];
}

/** A RunSeries as JSON-safe data: everything a chart or summary reads, and what the fold needs to go on. */
export interface RunHistory {
  /** The stream's seq the history covers: go on with events after it. */
  lastSeq: number;
  steps: StepColumns;
  epochs: EpochPoint[];
  cosine: CosineEpoch[];
  openEpoch: OpenEpochCosines | null;
  log: LogLine[];
  start: RunStartEvent | null;
  end: RunEndEvent | null;
  lastStep: StepEvent | null;
  progress: ProgressEvent | null;
  error: string | null;
  best: { epoch: number; score: number } | null;
  /** Event time (ms) and step of the last ≤50 steps, for steps/s. */
  recent: { t: number; step: number }[];
  /** The supervisor's newest word on the run's job (absent from servers before issue 16). */
  job?: RunJobState | null;
  /** Time trained over every part of the run (absent from servers before issue 16). */
  time?: TrainingTime;
}

const STEP_COLUMNS = [
  'step',
  'loss',
  'lossOriginal',
  'lossText',
  'lossImage',
  'cosText',
  'cosImage',
  'stepTimeMs',
] as const;
const toJson = (a: readonly number[]): (number | null)[] => a.map((v) => (Number.isFinite(v) ? v : null));

export interface LogLine {
  time: string;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export class RunSeries {
  // one entry per optimizer step
  readonly step: number[] = [];
  readonly loss: number[] = [];
  readonly lossOriginal: number[] = [];
  readonly lossText: number[] = [];
  readonly lossImage: number[] = [];
  /** Mean cosine over the step's checked samples (NaN when none). */
  readonly cosText: number[] = [];
  readonly cosImage: number[] = [];
  readonly stepTimeMs: number[] = [];
  readonly epochs: EpochPoint[] = [];
  readonly cosine: CosineEpoch[] = [];
  readonly log: LogLine[] = [];

  start: RunStartEvent | null = null;
  end: RunEndEvent | null = null;
  lastStep: StepEvent | null = null;
  progress: ProgressEvent | null = null;
  error: string | null = null;
  best: { epoch: number; score: number } | null = null;
  job: RunJobState | null = null;
  time: TrainingTime = { closedMs: 0, openSince: null, lastTime: null };
  /** Wall-clock time of recent steps, for steps/s. */
  private recent: { t: number; step: number }[] = [];
  private cosAcc: { epoch: number; firstStep: number; text: CosineHistogram; image: CosineHistogram } | null = null;
  private listeners = new Set<(parts: ReadonlySet<SeriesPart>) => void>();
  private pending = new Set<SeriesPart>();

  onChange(fn: (parts: ReadonlySet<SeriesPart>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The per-step columns as JSON-safe arrays from step `from` on (NaN → null; a copy). */
  columns(from = 0): StepColumns {
    const steps = {} as StepColumns;
    for (const k of STEP_COLUMNS)
      (steps as unknown as Record<string, (number | null)[]>)[k] = toJson(from === 0 ? this[k] : this[k].slice(from));
    return steps;
  }

  /**
   * The whole state as JSON-safe data (a copy). `steps` may be given by a caller that keeps the columns
   * itself (the server keeps them rounded and appends only new steps).
   */
  snapshot(lastSeq: number, steps: StepColumns = this.columns()): RunHistory {
    const acc = this.cosAcc;
    return {
      lastSeq,
      steps,
      epochs: structuredClone(this.epochs),
      cosine: structuredClone(this.cosine),
      openEpoch: acc
        ? { epoch: acc.epoch, firstStep: acc.firstStep, text: acc.text.toPairs(), image: acc.image.toPairs() }
        : null,
      log: this.log.map((l) => ({ ...l })),
      start: this.start,
      end: this.end,
      lastStep: this.lastStep,
      progress: this.progress,
      error: this.error,
      best: this.best,
      recent: this.recent.map((r) => ({ ...r })),
      job: this.job,
      time: { ...this.time },
    };
  }

  /** Replaces the whole state by a snapshot and tells listeners once ('reset'). */
  load(h: RunHistory): void {
    const n = h.steps.step.length;
    for (const k of STEP_COLUMNS) {
      const col = h.steps[k];
      if (col.length !== n) throw new Error(`run history: column ${k} has ${col.length} entries, step has ${n}`);
      const arr = this[k];
      arr.length = 0;
      for (let i = 0; i < n; i += 8192) arr.push(...col.slice(i, i + 8192).map((v) => (v === null ? Number.NaN : v)));
    }
    this.epochs.splice(0, this.epochs.length, ...h.epochs);
    this.cosine.splice(0, this.cosine.length, ...h.cosine);
    this.log.splice(0, this.log.length, ...h.log);
    this.cosAcc = h.openEpoch
      ? {
          epoch: h.openEpoch.epoch,
          firstStep: h.openEpoch.firstStep,
          text: CosineHistogram.fromPairs(h.openEpoch.text),
          image: CosineHistogram.fromPairs(h.openEpoch.image),
        }
      : null;
    this.start = h.start;
    this.end = h.end;
    this.lastStep = h.lastStep;
    this.progress = h.progress;
    this.error = h.error;
    this.best = h.best;
    this.recent = h.recent.map((r) => ({ ...r }));
    this.job = h.job ?? null;
    this.time = h.time ? { ...h.time } : { closedMs: 0, openSince: null, lastTime: null };
    this.pending.add('reset');
    this.flush();
  }

  /** Ingests a batch (training events and job lines, in stream order) and tells listeners once. */
  ingestBatch(events: readonly SeriesEvent[]): void {
    for (const e of events) {
      if (e.type === 'job') this.onJob(e);
      else {
        this.clock(e);
        this.ingest(e);
      }
    }
    this.flush();
  }

  private onJob(e: RunJobLine): void {
    const { jobId, state, error } = e.data;
    this.job = { jobId, state, error, time: e.time };
    const why =
      error && (state === 'failed' || state === 'interrupted') ? `: [${error.code}] ${firstLine(error.message)}` : '';
    this.addLog(e.time, state === 'failed' ? 'error' : 'info', `job ${state}${why}`);
    this.pending.add('status');
  }

  /** Training time: a part opens at run-start and closes at run-end or error (or, never closed, at its last event). */
  private clock(e: TrainingEvent): void {
    const t = this.time;
    if (e.type === 'run-start') {
      if (t.openSince !== null && t.lastTime !== null) t.closedMs += msBetween(t.openSince, t.lastTime);
      t.openSince = e.time;
    } else if ((e.type === 'run-end' || e.type === 'error') && t.openSince !== null) {
      t.closedMs += msBetween(t.openSince, e.time);
      t.openSince = null;
    }
    t.lastTime = e.time;
  }

  /**
   * Milliseconds trained over every part; a part in progress counts up to `now` (ms since the epoch) when given —
   * the run is training now — else up to its last event.
   */
  trainingMs(now?: number): number {
    const t = this.time;
    if (t.openSince === null) return t.closedMs;
    const end = now ?? (t.lastTime === null ? Number.NaN : Date.parse(t.lastTime));
    return t.closedMs + Math.max(0, Number.isFinite(end) ? end - Date.parse(t.openSince) : 0);
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const parts = this.pending;
    this.pending = new Set();
    for (const fn of this.listeners) fn(parts);
  }

  private ingest(e: TrainingEvent): void {
    switch (e.type) {
      case 'run-start':
        this.onStart(e);
        break;
      case 'step':
        this.onStep(e);
        break;
      case 'epoch-end':
        this.onEpochEnd(e);
        break;
      case 'checkpoint':
        this.addLog(e.time, 'info', `checkpoint ${e.which} at step ${e.step} (${e.ms.toFixed(0)} ms)`);
        break;
      case 'run-end':
        this.end = e;
        this.best = e.best ?? this.best;
        this.addLog(e.time, 'info', `run ${e.status} at step ${e.step} after ${(e.totalMs / 1000).toFixed(1)} s`);
        this.pending.add('status');
        break;
      case 'error':
        this.error = e.message;
        this.addLog(e.time, 'error', `${e.code ? `[${e.code}] ` : ''}${e.message}`);
        this.pending.add('status');
        break;
      case 'progress': {
        // The supervisor writes a job's preparing / encoding progress as its worker reports it: one that arrives
        // after the part's run-start is late, not a new phase.
        if (
          (e.phase === 'preparing' || e.phase === 'encoding') &&
          this.start !== null &&
          this.end === null &&
          !this.error
        )
          break;
        // Progress repeats within a phase (counts); the log gets one line per phase and message.
        const prev = this.progress;
        this.progress = e;
        if (e.phase !== 'training' && (prev?.phase !== e.phase || prev.message !== e.message))
          this.addLog(
            e.time,
            e.phase === 'failed' ? 'error' : 'info',
            e.message === e.phase ? e.phase : `${e.phase}: ${e.message}`,
          );
        this.pending.add('status');
        break;
      }
    }
  }

  private onStart(e: RunStartEvent): void {
    this.start = e;
    this.end = null;
    this.error = null;
    // A resumed run restarts at startStep: drop any steps past it (they were never checkpointed).
    if (e.resumed) this.truncate(e.startStep, e.startEpoch);
    const workers = e.workers !== undefined && e.workers > 1 ? ` with ${e.workers} workers` : '';
    this.addLog(
      e.time,
      'info',
      `${e.resumed ? 'resumed' : 'started'} ${e.preset} on ${e.backend.name}${workers} at epoch ${e.startEpoch + 1}, step ${e.startStep} of ${e.totalSteps}`,
    );
    if (e.workersChange) this.addLog(e.time, 'warn', e.workersChange.message);
    if (e.data.issueCount > 0) this.addLog(e.time, 'warn', `${e.data.issueCount} data issue(s) while loading`);
    this.pending.add('status');
  }

  private truncate(step: number, epoch: number): void {
    let n = this.step.length;
    while (n > 0 && this.step[n - 1] > step) n--;
    for (const arr of [
      this.step,
      this.loss,
      this.lossOriginal,
      this.lossText,
      this.lossImage,
      this.cosText,
      this.cosImage,
      this.stepTimeMs,
    ])
      arr.length = n;
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1].epoch >= epoch) this.epochs.pop();
    while (this.cosine.length > 0 && this.cosine[this.cosine.length - 1].epoch >= epoch) this.cosine.pop();
    this.cosAcc = null;
    this.recent = [];
    this.pending.add('reset');
  }

  private onStep(e: StepEvent): void {
    const prev = this.step.length > 0 ? this.step[this.step.length - 1] : 0;
    if (e.step <= prev) return; // a replayed duplicate
    this.lastStep = e;
    this.step.push(e.step);
    this.loss.push(e.loss);
    this.lossOriginal.push(e.variantLoss.original);
    this.lossText.push(e.variantLoss.text ?? Number.NaN);
    this.lossImage.push(e.variantLoss.image ?? Number.NaN);
    this.stepTimeMs.push(e.ms);
    if (!this.cosAcc || this.cosAcc.epoch !== e.epoch)
      this.cosAcc = { epoch: e.epoch, firstStep: e.step, text: new CosineHistogram(), image: new CosineHistogram() };
    let st = 0,
      nt = 0,
      si = 0,
      ni = 0;
    for (const s of e.samples) {
      if (s.cosText !== null) {
        st += s.cosText;
        nt++;
        this.cosAcc.text.add(s.cosText);
      }
      if (s.cosImage !== null) {
        si += s.cosImage;
        ni++;
        this.cosAcc.image.add(s.cosImage);
      }
    }
    this.cosText.push(nt > 0 ? st / nt : Number.NaN);
    this.cosImage.push(ni > 0 ? si / ni : Number.NaN);
    const t = Date.parse(e.time);
    this.recent.push({ t, step: e.step });
    if (this.recent.length > 50) this.recent.shift();
    this.pending.add('steps');
    this.pending.add('status');
  }

  private onEpochEnd(e: EpochEndEvent): void {
    const v = e.validation;
    const point: EpochPoint = {
      epoch: e.epoch,
      step: e.step,
      meanLoss: e.meanLoss,
      acceptance: { text: e.acceptance.text.share, image: e.acceptance.image.share },
      strides: e.strides ? { text: e.strides.text.histogram, image: e.strides.image.histogram } : null,
      validation: v ? { f1at1: v['f1@1'], f1at3: v['f1@3'], map5: v['map@5'], score: v.score } : null,
      improved: e.improved,
    };
    const i = this.epochs.findIndex((p) => p.epoch === e.epoch);
    if (i >= 0) this.epochs[i] = point;
    else this.epochs.push(point);
    this.best = e.best ?? this.best;
    const acc = this.cosAcc && this.cosAcc.epoch === e.epoch ? this.cosAcc : null;
    if (acc && (acc.text.n > 0 || acc.image.n > 0)) {
      this.cosine.push({
        epoch: e.epoch,
        firstStep: acc.firstStep,
        lastStep: e.step,
        text: acc.text.n > 0 ? acc.text.band() : null,
        image: acc.image.n > 0 ? acc.image.band() : null,
      });
    }
    this.cosAcc = null;
    const val = point.validation
      ? `, valid F1@1 ${(point.validation.f1at1 * 100).toFixed(1)} score ${point.validation.score.toFixed(3)}${e.improved ? ' (best)' : ''}`
      : '';
    this.addLog(e.time, 'info', `epoch ${e.epoch + 1}/${e.epochs} done: mean loss ${e.meanLoss.toFixed(4)}${val}`);
    this.pending.add('epochs');
    this.pending.add('status');
  }

  private addLog(time: string, level: LogLine['level'], text: string): void {
    this.log.push({ time, level, text });
    if (this.log.length > 2000) this.log.splice(0, this.log.length - 2000);
    this.pending.add('log');
  }

  /** Steps per second over the last ≤50 steps (event times), or null. */
  stepsPerSecond(): number | null {
    const r = this.recent;
    if (r.length < 2) return null;
    const dt = (r[r.length - 1].t - r[0].t) / 1000;
    return dt > 0 ? (r[r.length - 1].step - r[0].step) / dt : null;
  }

  /**
   * Warm-up epochs of the run: 1 for an AimKP run whose first epoch is unmasked (the epochs after it build masked
   * rows and cost more per step), else 0 (the step rate holds for the whole run).
   */
  private warmupEpochs(): number {
    const c = this.start?.config;
    if (this.start?.method !== 'aimkp' || typeof c !== 'object' || c === null || Array.isArray(c)) return 0;
    const a = (c as { aimkp?: unknown }).aimkp as
      { maskText?: unknown; maskImage?: unknown; stride?: { warmup?: unknown } } | null | undefined;
    if (!a || a.stride?.warmup !== true || (a.maskText !== true && a.maskImage !== true)) return 0;
    return 1;
  }

  /**
   * How many warm-up steps a masked step costs: measured on this run when it has steps of both kinds (median step
   * times), else MASKED_STEP_COST_BENCH.
   */
  maskedStepCost(): { ratio: number; measured: boolean } {
    const perEpoch = this.start?.stepsPerEpoch ?? null;
    if (perEpoch !== null && perEpoch > 0 && this.warmupEpochs() > 0) {
      const warm: number[] = [];
      const masked: number[] = [];
      for (let i = 0; i < this.step.length; i++) {
        const ms = this.stepTimeMs[i];
        if (!Number.isFinite(ms)) continue;
        (this.step[i] <= perEpoch ? warm : masked).push(ms);
      }
      if (warm.length >= 3 && masked.length >= 3) {
        const ratio = median(masked) / median(warm);
        if (Number.isFinite(ratio) && ratio > 0) return { ratio, measured: true };
      }
    }
    return { ratio: MASKED_STEP_COST_BENCH, measured: false };
  }

  /** Progress of the run and of the current epoch, with ETAs from the recent step rate. */
  progressSummary(): RunProgress {
    const s = this.lastStep;
    const total = this.start?.totalSteps ?? null;
    const perEpoch = this.start?.stepsPerEpoch ?? s?.stepsPerEpoch ?? null;
    const step = s?.step ?? this.start?.startStep ?? 0;
    const inEpoch = s ? s.stepInEpoch : 0;
    const rate = this.stepsPerSecond();
    const finished = this.end?.status === 'completed';
    let remainingRun = total !== null ? Math.max(0, total - step) : null;
    const remainingEpoch = perEpoch !== null ? Math.max(0, perEpoch - inEpoch) : null;
    // In the warm-up epoch the rate is the warm-up's: the masked epochs to come cost more per step.
    let costRatio: number | null = null;
    const warmup = this.warmupEpochs();
    if (remainingRun !== null && perEpoch !== null && total !== null && warmup > 0 && step < warmup * perEpoch) {
      const warmLeft = warmup * perEpoch - step;
      const maskedLeft = Math.max(0, remainingRun - warmLeft);
      costRatio = this.maskedStepCost().ratio;
      remainingRun = warmLeft + maskedLeft * costRatio;
    }
    return {
      step,
      totalSteps: total,
      epoch: s?.epoch ?? this.start?.startEpoch ?? 0,
      epochs: this.start?.epochs ?? null,
      stepInEpoch: inEpoch,
      stepsPerEpoch: perEpoch,
      runFraction: finished ? 1 : total ? step / total : 0,
      epochFraction: perEpoch ? inEpoch / perEpoch : 0,
      stepsPerSecond: rate,
      etaRunMs: rate && remainingRun !== null && !this.end ? (remainingRun / rate) * 1000 : null,
      etaEpochMs: rate && remainingEpoch !== null && !this.end ? (remainingEpoch / rate) * 1000 : null,
      etaRunCostRatio: costRatio,
    };
  }
}

export interface RunProgress {
  step: number;
  totalSteps: number | null;
  epoch: number;
  epochs: number | null;
  stepInEpoch: number;
  stepsPerEpoch: number | null;
  runFraction: number;
  epochFraction: number;
  stepsPerSecond: number | null;
  etaRunMs: number | null;
  etaEpochMs: number | null;
  /**
   * Set while an AimKP run is in its warm-up epoch: the run's ETA counts each masked step to come as this many
   * warm-up steps (an estimate; see maskedStepCost).
   */
  etaRunCostRatio: number | null;
}

function msBetween(from: string, to: string): number {
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) && d > 0 ? d : 0;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function firstLine(text: string): string {
  const i = text.indexOf('\n');
  return i < 0 ? text : text.slice(0, i);
}
