// Issue 16 (the UI says what is true), below the Run view: where a run stands from its stream's job lines and its
// summary (lib/run-state.ts), a failure in words (lib/job-errors.ts), the series' fold of job lines, time trained over
// every part and the warm-up ETA (shared/run-series.ts), and the charts' fit to their data (charts/chart-fit.ts).
// Real events of the fixture trainings where the series needs them.
import type { ChartData, LegendItem } from 'chart.js';
import { describe, expect, inject, it } from 'vitest';
import { RunSeries, type RunJobLine, type RunJobState } from '@shared/run-series';
import type { ProgressEvent, RunStartEvent, StepEvent, TrainingEvent } from '@shared/training-events';
import type { JobState } from '@shared/vocabulary';
import { cosineAxisRange, labelsWithPoints, legendHasPoints } from '../src/charts/chart-fit';
import { failureSentence } from '../src/lib/job-errors';
import { runState, type RunStateInput } from '../src/lib/run-state';
import { readEvents } from './fixture-events';

const runs = inject('fixtureRuns');
const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function jobLine(state: JobState, s: number, error: { code: string; message: string } | null = null): RunJobLine {
  return { type: 'job', time: at(s), data: { jobId: 'abcdef1234', state, error } };
}
const jobState = (l: RunJobLine): RunJobState => ({ ...l.data, time: l.time });

function progress(phase: ProgressEvent['phase'], s: number, done: number | null, total: number | null): ProgressEvent {
  return { type: 'progress', time: at(s), run: '/r', phase, done, total, unit: null, message: phase };
}

const input = (over: Partial<RunStateInput>): RunStateInput => ({
  summary: null,
  summaryError: null,
  job: null,
  progress: null,
  start: null,
  ended: false,
  ...over,
});

describe('run state: the job as the supervisor knows it, merged with the summary', () => {
  it('a queued run is queued, says so as a phase, and has no reason (not an error)', () => {
    const s = runState(input({ summary: 'queued', job: jobState(jobLine('queued', 0)) }));
    expect(s.state).toBe('queued');
    expect(s.active).toBe(true);
    expect(s.reason).toBeNull();
    expect(s.phase).toMatch(/^Queued/);
  });

  it('while it prepares: the phase and its count, not "step 0 of ?"', () => {
    const s = runState(
      input({ summary: 'queued', job: jobState(jobLine('running', 1)), progress: progress('encoding', 2, 12, 40) }),
    );
    expect(s.state).toBe('running');
    expect(s.phase).toBe('Encoding images');
    expect([s.done, s.total, s.fraction]).toEqual([12, 40, 0.3]);
    expect(
      runState(input({ job: jobState(jobLine('running', 1)), progress: progress('preparing', 2, null, null) })).phase,
    ).toBe('Loading the data');
  });

  it('the running job wins over a summary that has not caught up (a resumed run the list still says stopped)', () => {
    expect(runState(input({ summary: 'stopped', job: jobState(jobLine('running', 5)) })).state).toBe('running');
    expect(runState(input({ summary: 'stopping', job: jobState(jobLine('running', 5)) })).state).toBe('stopping');
  });

  it('a run that fails in its first second is failed at once, with the reason in words', () => {
    const s = runState(
      input({
        summary: 'running',
        job: jobState(jobLine('failed', 1, { code: 'BAD_INPUT', message: '/ws/datasets/x: no usable train items' })),
      }),
    );
    expect(s.state).toBe('failed');
    expect(s.active).toBe(false);
    expect(s.reason).toBe('It was given something it cannot use: /ws/datasets/x: no usable train items');
  });

  it('a run continued by aimkp train --resume after its job ended follows the summary', () => {
    const start = { type: 'run-start', time: at(100) } as RunStartEvent;
    expect(runState(input({ summary: 'running', job: jobState(jobLine('stopped', 50)), start })).state).toBe('running');
    expect(runState(input({ summary: 'completed', job: null, start, ended: true })).state).toBe('completed');
  });
});

describe('a job failure in words', () => {
  it('an internal error never shows its exception or stack: it names the job and points to the log', () => {
    const text = failureSentence(
      {
        code: 'INTERNAL',
        message: "TypeError: Cannot read properties of undefined (reading 'every')\n    at checkSuite",
      },
      'abcdef1234567',
    );
    expect(text).not.toMatch(/TypeError|checkSuite|every/);
    expect(text).toBe('An internal error stopped the job (details in the log, job abcdef12).');
  });
  it("a core error says what went wrong, then the core's own first line", () => {
    expect(failureSentence({ code: 'DISK_FULL', message: 'ENOSPC writing checkpoints/last\nmore' })).toBe(
      'The disk is full; free some space, then resume: ENOSPC writing checkpoints/last',
    );
    expect(failureSentence({ code: 'SOMETHING_NEW', message: 'it broke' })).toBe('It failed: it broke');
    expect(failureSentence(null, 'abcdef1234')).toBe('It failed without a reason (see the log, job abcdef12).');
  });
});

describe('RunSeries: job lines and time', () => {
  const aimkp = readEvents(runs.aimkp);
  const start = aimkp.find((e): e is RunStartEvent => e.type === 'run-start')!;

  it("folds the stream's job lines (the newest state, a log line with the reason) among the training events", () => {
    const s = new RunSeries();
    s.ingestBatch([jobLine('queued', 0), jobLine('running', 1)]);
    expect(s.job?.state).toBe('running');
    s.ingestBatch([jobLine('failed', 2, { code: 'BAD_INPUT', message: 'no usable train items\nstack' })]);
    expect(s.job).toEqual({
      jobId: 'abcdef1234',
      state: 'failed',
      error: { code: 'BAD_INPUT', message: 'no usable train items\nstack' },
      time: at(2),
    });
    expect(s.log.at(-1)).toMatchObject({ level: 'error', text: 'job failed: [BAD_INPUT] no usable train items' });
    // Through a snapshot (runs.history) too.
    const copy = new RunSeries();
    copy.load(JSON.parse(JSON.stringify(s.snapshot(0))) as ReturnType<RunSeries['snapshot']>);
    expect(copy.job?.state).toBe('failed');
  });

  it('a preparing/encoding line the supervisor writes after the part started is late, not a new phase', () => {
    const s = new RunSeries();
    s.ingestBatch([jobLine('running', 0), progress('encoding', 1, 40, 40), { ...start, time: at(2) }]);
    s.ingestBatch([progress('encoding', 3, 40, 40)]);
    expect(s.progress?.time).toBe(at(1));
  });

  it("a resumed run's time trained counts every part, not the wall time between them", () => {
    const s = new RunSeries();
    const steps = aimkp.filter((e): e is StepEvent => e.type === 'step');
    const part = (from: number, to: number, resumed: boolean, n: number): TrainingEvent[] => [
      { ...start, time: at(from), resumed, startStep: resumed ? 2 : 0, startEpoch: 0 },
      ...steps.slice(0, n).map((e, i) => ({ ...e, time: at(from + i + 1) })),
      { type: 'run-end', time: at(to), run: start.run, status: 'stopped', step: n, epoch: 0, best: null, totalMs: 0 },
    ];
    // 10 s, an hour stopped, then 5 s.
    s.ingestBatch(part(0, 10, false, 2));
    s.ingestBatch(part(3610, 3615, true, 2));
    expect(s.trainingMs()).toBe(15_000);
    // A part in progress counts up to now.
    s.ingestBatch([{ ...start, time: at(4000), resumed: true, startStep: 2, startEpoch: 0 }]);
    expect(s.trainingMs(T0 + 4003_000)).toBe(18_000);
  });

  it('ETA in the warm-up epoch counts the masked epochs to come at their higher cost per step', () => {
    const cfg = start.config as { aimkp?: { stride?: { warmup?: boolean }; maskText?: boolean } };
    expect(cfg.aimkp?.stride?.warmup, 'the fixture AimKP run has a warm-up epoch').toBe(true);
    const s = new RunSeries();
    const warm = aimkp.filter((e): e is StepEvent => e.type === 'step' && e.epoch === 0);
    s.ingestBatch([start, ...warm.slice(0, Math.max(2, warm.length - 1))]);
    const p = s.progressSummary();
    expect(p.etaRunCostRatio).not.toBeNull();
    expect(p.etaRunCostRatio!).toBeGreaterThan(1);
    const naive = ((p.totalSteps! - p.step) / p.stepsPerSecond!) * 1000;
    expect(p.etaRunMs!).toBeGreaterThan(naive * 1.5);
    // Past the warm-up the measured rate already holds the masked cost.
    const s2 = new RunSeries();
    s2.ingestBatch(aimkp.filter((e) => e.type !== 'run-end' && !(e.type === 'step' && e.epoch === 2)));
    expect(s2.progressSummary().etaRunCostRatio).toBeNull();
    // A baseline has no warm-up.
    const b = new RunSeries();
    b.ingestBatch(readEvents(runs.baseline).slice(0, 5));
    expect(b.progressSummary().etaRunCostRatio).toBeNull();
  });
});

describe('charts fit their data', () => {
  it("the loss legend lists only the series with points (a baseline's: no masked rows)", () => {
    const data: ChartData = {
      datasets: [
        { label: 'raw objective', data: [{ x: 1, y: 2 }] },
        { label: 'objective (kept rows)', data: [{ x: 1, y: 2 }] },
        { label: 'text-masked rows', data: [] },
        { label: 'image-masked rows', data: [] },
      ],
    };
    expect(labelsWithPoints(data)).toEqual(['raw objective', 'objective (kept rows)']);
    const item = (datasetIndex: number) => ({ datasetIndex, text: '' }) as LegendItem;
    expect([0, 1, 2, 3].map((i) => legendHasPoints(item(i), data))).toEqual([true, true, false, false]);
  });

  it('the cosine axis spans the values with a margin, within −1…1', () => {
    const r = cosineAxisRange([0.91, 0.97, Number.NaN, 0.99])!;
    expect(r.min).toBeGreaterThan(0.85);
    expect(r.min).toBeLessThan(0.91);
    expect(r.max).toBe(1);
    expect(cosineAxisRange([-0.99, 0.5])!.min).toBe(-1);
    expect(cosineAxisRange([])).toBeNull();
  });
});
