import { describe, expect, it } from 'vitest';
import { Ema, smooth } from '../src/lib/ema';
import { band, CosineHistogram, quantileSorted } from '@shared/quantiles';
import { meanStd, formatMeanStd } from '../src/lib/stats';
import { delta, groupByPreset, testScore } from '../src/lib/run-table';
import type { RunSummary } from '@shared/contract/service';
import type { DecodeStrategy, EvalMode } from '@shared/vocabulary';

describe('EMA smoothing (TensorBoard, debiased)', () => {
  it('starts at the first value and keeps a constant series constant', () => {
    expect(smooth([5, 5, 5, 5], 0.9)).toEqual([5, 5, 5, 5].map(() => expect.closeTo(5, 12)));
    expect(smooth([3, 7], 0.5)[0]).toBeCloseTo(3, 12);
  });
  it('matches the closed form for two points', () => {
    // debiased: (w(1-w)a + (1-w)b) / (w(1-w) + (1-w)) = (w a + b) / (w + 1)
    const w = 0.6;
    expect(smooth([2, 10], w)[1]).toBeCloseTo((w * 2 + 10) / (w + 1), 12);
  });
  it('weight 0 is the raw series; NaN passes through without moving the average', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const e = new Ema(0.5);
    e.push(4);
    expect(e.push(Number.NaN)).toBeNaN();
    expect(e.push(4)).toBeCloseTo(4, 12);
  });
});

describe('quantiles', () => {
  it('interpolates linearly (numpy default)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([0, 10], 0.1)).toBeCloseTo(1, 12);
    const b = band([9, 1, 5, 3, 7]);
    expect(b).toEqual({ p10: expect.closeTo(1.8, 12), median: 5, p90: expect.closeTo(8.2, 12), n: 5 });
  });

  it('CosineHistogram: the band of the values rounded to 1e-4, through [bin, count] pairs and back', () => {
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2.2 - 1.1; // some outside [-1, 1]
    const values = Array.from({ length: 5001 }, rand);
    const h = new CosineHistogram();
    for (const v of values) h.add(v);
    const rounded = values.map((v) => Math.round((Math.max(-1, Math.min(1, v)) + 1) * 1e4) / 1e4 - 1);
    expect(h.band()).toEqual(band(rounded));
    const again = CosineHistogram.fromPairs(JSON.parse(JSON.stringify(h.toPairs())));
    expect(again.band()).toEqual(h.band());
    expect(new CosineHistogram().band().median).toBeNaN();
    expect(() => CosineHistogram.fromPairs([[20001, 1]])).toThrow(/bad bin/);
  });
});

describe('mean ± std', () => {
  it('uses the sample standard deviation (n − 1)', () => {
    const m = meanStd([0.2, 0.4, 0.6]);
    expect(m?.mean).toBeCloseTo(0.4, 12);
    expect(m?.std).toBeCloseTo(0.2, 12);
    expect(formatMeanStd(m)).toBe('40.0 ± 20.0');
    expect(formatMeanStd(meanStd([0.25]))).toBe('25.0');
    expect(meanStd([])).toBeNull();
  });
});

describe('Runs table: test scores per mode and decoding', () => {
  const ev = (mode: EvalMode, decode: DecodeStrategy, f1: number, n: number) => ({
    mode,
    split: 'test' as const,
    decode,
    n,
    scores: { 'f1@1': f1, 'f1@3': f1 / 2, 'f1@5': 0, 'map@5': 0 },
  });
  const run = (id: string, test: ReturnType<typeof ev>[]) =>
    ({ id, preset: 'paper-aimkp', test }) as unknown as RunSummary;
  const a = run('a', [ev('multimodal', 'greedy', 0.17, 319), ev('multimodal', 'beam-sample', 0.1, 100)]);
  const b = run('b', [ev('multimodal', 'greedy', 0.15, 319)]);

  it('never mixes decodings: greedy by default, beam-sample when asked, null where that decoding is missing', () => {
    expect(testScore(a, 'multimodal', 'f1@1')).toBe(0.17);
    expect(testScore(a, 'multimodal', 'f1@1', 'beam-sample')).toBe(0.1);
    expect(testScore(b, 'multimodal', 'f1@1', 'beam-sample')).toBeNull();
    expect(testScore(a, 'text', 'f1@1')).toBeNull();
    expect(delta(a, b, 'multimodal', 'f1@1')).toBeCloseTo(0.02, 12);
    expect(delta(a, b, 'multimodal', 'f1@1', 'beam-sample')).toBeNull();
    const [g] = groupByPreset([a, b]);
    expect(g.test.multimodal['f1@1']?.mean).toBeCloseTo(0.16, 12);
    expect(groupByPreset([a, b], 'beam-sample')[0].test.multimodal['f1@1']?.mean).toBeCloseTo(0.1, 12);
  });
});

describe('status bar backend label', () => {
  it('shows the native matmul kernels and the GPU adapter, not only the package name', async () => {
    const { backendLabel } = await import('../src/lib/labels');
    const wasm =
      'backend: wasm + native matmul (AVX2) (SIMD on, 1 thread) — tfjs-node-gpu: not installed; webgpu: no adapter';
    expect(backendLabel('wasm', wasm)).toBe('wasm + native matmul (AVX2) (SIMD on, 1 thread)');
    expect(backendLabel('webgpu', 'backend: webgpu (NVIDIA H200, vulkan)')).toBe('webgpu (NVIDIA H200, vulkan)');
    expect(backendLabel('wasm', '')).toBe('wasm');
  });
});

describe('a run status from one live event (before the list reload)', () => {
  const base = { v: 1, runId: 'r1', seq: 5, time: '2026-12-04T20:00:00.000Z' } as const;
  const time = base.time;
  it('run-end, a failing error, a stop and a training job that ended each set it; other events do not', async () => {
    const { statusFromEvent } = await import('../src/lib/run-status-event');
    type Ev = Parameters<typeof statusFromEvent>[0];
    const ev = (e: object) => ({ ...base, ...e }) as unknown as Ev;
    const end = { type: 'run-end', time, step: 9, epoch: 1, best: null, totalMs: 5 };
    expect(statusFromEvent(ev({ kind: 'run-end', data: { ...end, status: 'completed' } }))).toBe('completed');
    expect(statusFromEvent(ev({ kind: 'run-end', data: { ...end, status: 'stopped' } }))).toBe('stopped');
    expect(statusFromEvent(ev({ kind: 'error', data: { type: 'error', time, message: 'NaN loss' } }))).toBe('failed');
    expect(
      statusFromEvent(ev({ kind: 'error', data: { type: 'error', time, message: 'stopped', code: 'ABORTED' } })),
    ).toBe('stopped');
    const job = (kind: string, state: string) =>
      ev({ kind: 'job', data: { jobId: 'j1', kind, state, runId: 'r1', error: null } });
    expect(statusFromEvent(job('train', 'failed'))).toBe('failed');
    expect(statusFromEvent(job('train', 'interrupted'))).toBe('interrupted');
    expect(statusFromEvent(job('train', 'running'))).toBeNull();
    expect(statusFromEvent(job('evaluate', 'failed'))).toBeNull(); // an evaluation does not change the run's status
    expect(statusFromEvent(ev({ kind: 'epoch-end', data: { type: 'epoch-end', time } }))).toBeNull();
  });
});
