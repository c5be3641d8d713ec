import { describe, expect, inject, it } from 'vitest';
import type { StepEvent, TrainingEvent } from '@shared/training-events';
import { RunSeries } from '@shared/run-series';
import { quantileSorted } from '@shared/quantiles';
import { readEvents } from './fixture-events';

const runs = inject('fixtureRuns');

function steps(events: TrainingEvent[]): StepEvent[] {
  return events.filter((e): e is StepEvent => e.type === 'step');
}

describe('RunSeries on a real AimKP training', () => {
  const events = readEvents(runs.aimkp);

  it('holds one point per step and one per epoch, in order', () => {
    const s = new RunSeries();
    s.ingestBatch(events);
    const st = steps(events);
    expect(s.step).toEqual(st.map((e) => e.step));
    expect(s.loss).toEqual(st.map((e) => e.loss));
    expect(s.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(s.end?.status).toBe('completed');
    expect(s.progressSummary().runFraction).toBe(1);
  });

  it('computes the per-epoch cosine band from every sample of the epoch (brute force)', () => {
    const s = new RunSeries();
    s.ingestBatch(events);
    // Epoch 0 is the warm-up (no masked rows), so bands exist from epoch 1 on.
    expect(s.cosine.map((c) => c.epoch)).toEqual([1, 2]);
    for (const band of s.cosine) {
      const values = steps(events)
        .filter((e) => e.epoch === band.epoch)
        .flatMap((e) => e.samples.map((x) => x.cosText))
        .filter((v): v is number => v !== null)
        .sort((a, b) => a - b);
      expect(band.text?.n).toBe(values.length);
      // The band is that of the cosines rounded to 1e-4 (CosineHistogram), exactly; within 5e-5 of the raw one.
      const rounded = values.map((v) => Math.round((v + 1) * 1e4) / 1e4 - 1);
      for (const [q, got] of [
        [0.5, band.text?.median],
        [0.1, band.text?.p10],
        [0.9, band.text?.p90],
      ] as const) {
        expect(got).toBeCloseTo(quantileSorted(rounded, q), 12);
        expect(Math.abs((got ?? NaN) - quantileSorted(values, q))).toBeLessThanOrEqual(5e-5 + 1e-12);
      }
    }
  });

  it('gives the same series whatever the batching (one event per batch vs all at once)', () => {
    const a = new RunSeries();
    a.ingestBatch(events);
    const b = new RunSeries();
    for (const e of events) b.ingestBatch([e]);
    expect(b.step).toEqual(a.step);
    expect(b.cosText).toEqual(a.cosText);
    expect(b.epochs).toEqual(a.epochs);
    expect(b.cosine).toEqual(a.cosine);
  });

  it('a snapshot cut anywhere, sent as JSON and loaded, then fed the rest, equals the fold of every event', () => {
    const all = new RunSeries();
    all.ingestBatch(events);
    const want = all.snapshot(events.length);
    // Cuts at the start, inside the warm-up, inside a masked epoch (open cosines), at an epoch end, at the end.
    const epochEnd = events.findIndex((e) => e.type === 'epoch-end') + 1;
    const midMasked = events.findIndex((e) => e.type === 'step' && e.samples.some((x) => x.cosText !== null)) + 2;
    for (const k of [0, 3, epochEnd, midMasked, events.length]) {
      const a = new RunSeries();
      a.ingestBatch(events.slice(0, k));
      const b = new RunSeries();
      const parts: string[][] = [];
      b.onChange((p) => parts.push([...p]));
      b.load(JSON.parse(JSON.stringify(a.snapshot(k))));
      expect(parts[0]).toEqual(['reset']);
      b.ingestBatch(events.slice(k));
      expect(b.snapshot(events.length), `cut at ${k}`).toEqual(want);
      expect(b.progressSummary()).toEqual(all.progressSummary());
    }
    // NaN (no masked rows in a step) travels as null and comes back as NaN.
    expect(want.steps.cosText[0]).toBeNull();
    const c = new RunSeries();
    c.load(JSON.parse(JSON.stringify(want)));
    expect(c.cosText[0]).toBeNaN();
    expect(c.cosText).toEqual(all.cosText);
  });

  it('refuses a snapshot whose columns disagree in length', () => {
    const a = new RunSeries();
    a.ingestBatch(events);
    const h = a.snapshot(events.length);
    h.steps.loss.pop();
    expect(() => new RunSeries().load(h)).toThrow(/column loss/);
  });

  it('tells listeners once per batch with the parts that changed', () => {
    const s = new RunSeries();
    const calls: string[][] = [];
    s.onChange((parts) => calls.push([...parts].sort()));
    s.ingestBatch(events.slice(0, 3));
    s.ingestBatch([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('steps');
  });

  it('drops steps past the restart point when the run resumes, and ignores replayed duplicates', () => {
    const s = new RunSeries();
    s.ingestBatch(events);
    const start = events.find((e) => e.type === 'run-start');
    if (!start || start.type !== 'run-start') throw new Error('no run-start');
    const resumeAt = s.epochs[0].step;
    s.ingestBatch([{ ...start, resumed: true, startStep: resumeAt, startEpoch: 1 }]);
    expect(s.step[s.step.length - 1]).toBe(resumeAt);
    expect(s.epochs.map((e) => e.epoch)).toEqual([0]);
    const again = steps(events).filter((e) => e.step > resumeAt);
    s.ingestBatch(again);
    s.ingestBatch(again);
    expect(s.step).toEqual(steps(events).map((e) => e.step));
  });
});

describe('RunSeries on a real baseline training', () => {
  it('has no cosine bands, acceptance shares or strides', () => {
    const s = new RunSeries();
    s.ingestBatch(readEvents(runs.baseline));
    expect(s.cosine).toEqual([]);
    expect(s.epochs.every((e) => e.strides === null && e.acceptance.text === null)).toBe(true);
    expect(s.cosText.every((v) => Number.isNaN(v))).toBe(true);
    expect(s.epochs.filter((e) => e.validation)).toHaveLength(3);
  });
});
