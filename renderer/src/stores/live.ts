// Live event streams of open runs. Each open run has a RunSeries (plain arrays, markRaw: Vue does not track the
// history): first loaded from runs.history (the events folded on the server), then fed by one subscription from
// that seq on. Views read the series; the reactive `ticks` entry changes once per batch so computed summaries
// (progress, ETA) re-evaluate.
import type { Subscription } from '@shared/contract/client';
import type { JobStateData, ServiceEvent } from '@shared/contract/events';
import type { TrainingEvent } from '@shared/training-events';
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
  job: JobStateData | null;
  error: string | null;
}

/** The training events of a batch, in order (supervisor 'job' events are handled apart). */
export function trainingEvents(events: readonly ServiceEvent[]): TrainingEvent[] {
  const out: TrainingEvent[] = [];
  for (const e of events) if (e.kind !== 'job') out.push(e.data);
  return out;
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
      job: null,
      error: null,
    }) as OpenStream;
    streams.set(runId, stream);
    ticks[runId] = 0;
    // The folded history first (runs.history: ~60 bytes per step), then the stream from its seq. A run still in
    // the queue has no folder yet (not-found): nothing to load, stream from 0.
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
          // No folder yet (queued): no history to wait for; the stream from 0 brings whatever comes.
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
        for (const e of batch.events) if (e.kind === 'job') s.job = e.data;
        if (batch.events.length > 0) {
          const t0 = performance.now();
          s.series.ingestBatch(trainingEvents(batch.events));
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
