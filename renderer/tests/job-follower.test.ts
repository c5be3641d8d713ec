// The job follower's state handling on the event sequences a job stream carries: today's wire (the contract's six
// states, where a stopped job arrives as 'cancelled', or 'failed' with the core's ABORTED) and the seven-state wire
// of shared/vocabulary.ts JOB_STATES (where it arrives as 'stopped'). A stopped job must never read as failed.
// The follower on the real service: tests/stores.test.ts.
import { describe, expect, it } from 'vitest';
import { ServiceEventSchema, type JobStateData, type ServiceEvent } from '@shared/contract/events';
import type { ProgressPhase } from '@shared/training-events';
import type { JobState } from '@shared/vocabulary';
import { applyJobEvent, newFollowedJob, stateFromWire, type FollowedJob } from '../src/composables/use-job-follower';

const JOB = 'job-1';
const TIME = '2025-01-01T00:00:00.000Z';
let seq = 0;

/** A job-state event; those today's contract accepts are checked against its schema (they are what it sends). */
function job(state: JobState, error: { code: string; message: string } | null = null, jobId = JOB): ServiceEvent {
  const e = {
    v: 1 as const,
    runId: `job:${jobId}`,
    seq: ++seq,
    time: TIME,
    kind: 'job' as const,
    // The contract's JobState takes 'stopped' with the seven-state wire; until then the cast widens it.
    data: { jobId, kind: 'evaluate', state: state as JobStateData['state'], runId: 'run-1', error },
  } satisfies ServiceEvent;
  if (state !== 'stopped') ServiceEventSchema.parse(e);
  return e;
}

function progress(phase: ProgressPhase, done: number | null = null, total: number | null = null): ServiceEvent {
  const data = { type: 'progress' as const, time: TIME, run: '', phase, done, total, unit: null, message: phase };
  return ServiceEventSchema.parse({ v: 1, runId: `job:${JOB}`, seq: ++seq, time: TIME, kind: 'progress', data });
}

/** The states the follower goes through on `events`, one per event. */
function follow(events: ServiceEvent[]): { states: JobState[]; job: FollowedJob } {
  const j = newFollowedJob(JOB, 'evaluate run-1');
  const states = events.map((e) => {
    applyJobEvent(j, e);
    return j.state;
  });
  return { states, job: j };
}

describe('job follower: states', () => {
  it('follows a job that completes: queued → running (first progress) → completed, with its progress', () => {
    const { states, job: j } = follow([
      job('queued'),
      job('running'),
      progress('predicting', 3, 10),
      progress('done'),
      job('completed'),
    ]);
    expect(states).toEqual(['queued', 'running', 'running', 'running', 'completed']);
    expect(j.error).toBeNull();
    expect(j.phase).toBe('done');
  });

  it('a progress event alone moves a queued job to running', () => {
    const { states, job: j } = follow([progress('encoding', 2, 8)]);
    expect(states).toEqual(['running']);
    expect([j.done, j.total]).toEqual([2, 8]);
  });

  it("today's wire: a stop of a running job (progress 'stopped', then 'cancelled') is stopped, not failed", () => {
    const { states, job: j } = follow([
      job('running'),
      progress('predicting', 1, 10),
      progress('stopped'),
      job('cancelled'),
    ]);
    expect(states).toEqual(['running', 'running', 'stopped', 'stopped']);
    expect(j.error).toBeNull();
  });

  it("today's wire: 'cancelled' for a job that had started is a stop, even without the core's progress", () => {
    expect(follow([job('running'), job('cancelled')]).states).toEqual(['running', 'stopped']);
  });

  it("today's wire: 'failed' with the core's ABORTED is a stop", () => {
    const { states, job: j } = follow([
      job('running'),
      job('failed', { code: 'ABORTED', message: 'stopped by request' }),
    ]);
    expect(states).toEqual(['running', 'stopped']);
    expect(j.error).toBeNull();
  });

  it("a stop seen first is not overwritten by a later 'failed' of the old wire", () => {
    const { states } = follow([job('running'), progress('stopped'), job('failed', { code: 'INTERNAL', message: 'x' })]);
    expect(states.at(-1)).toBe('stopped');
  });

  it("seven-state wire: 'stopped' is stopped", () => {
    const { states, job: j } = follow([job('running'), progress('stopped'), job('stopped')]);
    expect(states).toEqual(['running', 'stopped', 'stopped']);
    expect(j.error).toBeNull();
    expect(follow([job('running'), job('stopped')]).states).toEqual(['running', 'stopped']);
  });

  it('a job cancelled while it waited in the queue is cancelled (both wires)', () => {
    expect(follow([job('queued'), job('cancelled')]).states).toEqual(['queued', 'cancelled']);
    expect(follow([job('cancelled')]).states).toEqual(['cancelled']);
  });

  it('a real failure is failed, with its message (from the job, or from the core progress)', () => {
    const a = follow([job('running'), job('failed', { code: 'WORKER_EXIT', message: 'the worker exited with 1' })]);
    expect(a.states).toEqual(['running', 'failed']);
    expect(a.job.error).toBe('the worker exited with 1');
    const b = follow([job('running'), progress('failed')]);
    expect(b.states).toEqual(['running', 'failed']);
    expect(b.job.error).toBe('failed');
    expect(follow([job('running'), job('failed')]).job.error).toBe('failed');
  });

  it('an interrupted job (the app quit while it ran) is interrupted, with why', () => {
    const { states, job: j } = follow([
      job('running'),
      job('interrupted', { code: 'INTERRUPTED', message: 'app quit' }),
    ]);
    expect(states).toEqual(['running', 'interrupted']);
    expect(j.error).toBe('app quit');
  });

  it('ignores the job events of another job on the same stream', () => {
    expect(follow([job('running'), job('failed', null, 'job-2')]).states).toEqual(['running', 'running']);
  });

  it('stateFromWire reads both wires', () => {
    const running = { state: 'running' as const };
    const queued = { state: 'queued' as const };
    expect(stateFromWire(running, 'cancelled')).toBe('stopped');
    expect(stateFromWire(queued, 'cancelled')).toBe('cancelled');
    expect(stateFromWire(running, 'failed', 'ABORTED')).toBe('stopped');
    expect(stateFromWire(running, 'failed', 'INTERNAL')).toBe('failed');
    expect(stateFromWire(running, 'stopped')).toBe('stopped');
    expect(stateFromWire(running, 'completed')).toBe('completed');
  });
});
