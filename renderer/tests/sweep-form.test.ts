// The New run view's sweep grid parser and time estimate, and the Runs view's sweep groups.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '@shared/contract/service';
import { estimateSweep, parseGrid } from '../src/lib/sweep-form';
import { groupBySweep } from '../src/lib/sweep-groups';

const run = (id: string, over: Partial<RunSummary>): RunSummary => ({
  id,
  name: id,
  preset: 'aimkp',
  method: 'aimkp',
  seed: 1,
  dataset: 'd',
  status: 'completed',
  tags: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:10.000Z',
  epoch: 0,
  epochs: 1,
  step: 20,
  totalSteps: 20,
  best: null,
  test: [],
  lastSeq: 0,
  error: null,
  origin: 'app',
  ...over,
});

describe('sweep grid', () => {
  it('parses one axis per line, numbers, booleans and strings', () => {
    expect(
      parseGrid('aimkp.tauText = 0.05, 0.1\n# a comment\n\naimkp.filter = true, false\nencoder = patch:3:4'),
    ).toEqual({ grid: { 'aimkp.tauText': [0.05, 0.1], 'aimkp.filter': [true, false], encoder: ['patch:3:4'] } });
  });
  it('names the line of a mistake', () => {
    expect(parseGrid('aimkp.tauText = 0.1\nno equals here')).toEqual({
      error: 'line 2: expected "config.path = value, value, …"',
    });
    expect(parseGrid('a.b = 1\na.b = 2')).toEqual({ error: 'line 2: a.b is given twice' });
    expect(parseGrid('a..b = 1')).toEqual({ error: 'line 1: "a..b" is not a config path (e.g. aimkp.tauText)' });
    expect(parseGrid('a.b = ')).toEqual({ error: 'line 1: give at least one value for a.b' });
  });
  it('estimates from the last finished runs’ steps per second', () => {
    // 20 steps in 10 s = 2 steps/s; 4 runs × 30 steps / 2 / concurrency 2 = 30 s.
    const e = estimateSweep([run('a', {}), run('b', { status: 'running' })], 4, 30, 2);
    expect(e).toEqual({ seconds: 30, stepsPerSecond: 2, from: 1 });
    expect(estimateSweep([run('b', { status: 'queued' })], 4, 30, 1)).toBeNull();
  });
});

describe('sweep groups', () => {
  it('progress by status and mean ± std of the best score per cell', () => {
    const ref = (index: number, cell: string, seed: number) => ({ id: 'sw-1', cell, seed, index, total: 4 });
    const runs = [
      run('a1', { sweep: ref(0, 'aimkp x=1', 1), best: { epoch: 0, score: 0.2 } }),
      run('b1', { sweep: ref(1, 'aimkp x=2', 1), status: 'running' }),
      run('a2', { sweep: ref(2, 'aimkp x=1', 2), best: { epoch: 0, score: 0.4 } }),
      run('b2', { sweep: ref(3, 'aimkp x=2', 2), status: 'queued' }),
      run('other', {}),
    ];
    const [g] = groupBySweep(runs, 'multimodal', 'f1@1', 'greedy');
    expect(g.progress).toEqual({ total: 4, done: 2, running: 1, queued: 1, failed: 0, stopped: 0 });
    expect(g.cells.map((c) => c.cell)).toEqual(['aimkp x=1', 'aimkp x=2']);
    expect(g.cells[0].best?.mean).toBeCloseTo(0.3);
    expect(g.cells[0].best?.std).toBeCloseTo(Math.SQRT2 / 10);
    expect(g.runIds).toEqual(['a1', 'b1', 'a2', 'b2']);
  });
});
