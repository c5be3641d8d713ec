// Live event streams of open runs. Each open run has a RunSeries (plain arrays, markRaw: Vue does not track the
// history): first loaded from runs.history (the events folded on the server), then fed by one subscription from
// that seq on. A run's stream carries the trainer's events and the supervisor's "job" lines (queued, running, the
// end and why): the series folds both, so the view follows the job as the supervisor knows it. Views read the
// series; the reactive `ticks` entry changes once per batch so computed summaries (progress, ETA, state)
// re-evaluate.
import type { Subscription } from '@shared/contract/client';
import type { ServiceEvent } from '@shared/contract/events';
import type { SeriesEvent } from '@shared/run-series';
import { defineStore } from 'pinia';
import { markRaw, reactive, shallowReactive } from 'vue';
import { api, errorText } from '../api/api';
import { RunSeries } from '@shared/run-series';
import { measureSince } from '../lib/timing';

export interface OpenStream {
  series: RunSeries;
  /** true once the history is in: runs.history answered (or the run has no folder yet: nothing to load). */
  live: boolean;
  lastSeq: number;
  error: string | null;
}

/** A batch as the series folds it, in order: training events as they are, job events as the stream's job lines. */
export function seriesEvents(events: readonly ServiceEvent[]): SeriesEvent[] {
  return events.map((e) => (e.kind === 'job' ? { type: 'job', time: e.time, data: e.data } : e.data));
}

export const useLiveStore = defineStore('live', () => {
  const streams = shallowReactive(new Map<string, OpenStream>());
  const ticks = reactive<Record<string, number>>({});
  const subs = new Map<string, Subscription>();

  /** Opens (or returns) the stream of a run; idempotent. */
  function open(runId: string): OpenStream {
    const have = streams.get(runId);
    if (have) return have;
    const stream = reactive({
      series: markRaw(new RunSeries()),
      live: false,
      lastSeq: 0,
      error: null,
    }) as OpenStream;
    streams.set(runId, stream);
    ticks[runId] = 0;
    // The folded history first (runs.history: ~60 bytes per step, the job's state so far), then the stream from its
    // seq. A run the server cannot fold (an older server refused a queued run): stream from 0.
    const asked = performance.now();
    api()
      .call('runs.history', { id: runId })
      .then(
        (h) => {
          measureSince('aimkp:history-call', asked);
          const s = streams.get(runId);
          if (s !== stream) return null; // closed (or closed and opened again) meanwhile
          const t0 = performance.now();
          s.series.load(h);
          measureSince('aimkp:history-load', t0);
          s.lastSeq = h.lastSeq;
          s.live = true;
          ticks[runId] = (ticks[runId] ?? 0) + 1;
          return h.lastSeq;
        },
        () => {
          // No history to wait for; the stream from 0 brings whatever comes.
          stream.live = true;
          return 0;
        },
      )
      .then((since) => {
        if (since === null || streams.get(runId) !== stream) return;
        subs.set(runId, subscribeFrom(runId, since));
      });
    return stream;
  }

  function subscribeFrom(runId: string, since: number): Subscription {
    return api().subscribe(
      runId,
      since,
      (batch) => {
        const s = streams.get(runId);
        if (!s) return;
        if (batch.events.length > 0) {
          const t0 = performance.now();
          s.series.ingestBatch(seriesEvents(batch.events));
          measureSince(batch.replay ? 'aimkp:ingest-replay' : 'aimkp:ingest-live', t0);
          s.lastSeq = batch.events[batch.events.length - 1].seq;
        }
        if (!batch.replay) s.live = true;
        ticks[runId] = (ticks[runId] ?? 0) + 1;
      },
      (err) => {
        const s = streams.get(runId);
        if (s) s.error = errorText(err);
      },
    );
  }

  function close(runId: string): void {
    subs.get(runId)?.close();
    subs.delete(runId);
    streams.delete(runId);
    delete ticks[runId];
  }

  function closeAll(): void {
    for (const id of [...subs.keys()]) close(id);
  }

  return { streams, ticks, open, close, closeAll };
});
