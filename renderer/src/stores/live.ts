// Live event streams of open runs. Each open run has a RunSeries (plain arrays, markRaw: Vue does not track the
// history) fed by one subscription from seq 0 (history first, then live batches). Views read the series; the
// reactive `ticks` entry changes once per batch so computed summaries (progress, ETA) re-evaluate.
import type { Subscription } from '@shared/contract/client';
import type { JobStateData, ServiceEvent } from '@shared/contract/events';
import type { TrainingEvent } from '@shared/training-events';
import { defineStore } from 'pinia';
import { markRaw, reactive, shallowReactive } from 'vue';
import { api, errorText } from '../api/api';
import { RunSeries } from '../lib/run-series';
import { measureSince } from '../lib/timing';

export interface OpenStream {
  series: RunSeries;
  /** true once the history is in: the stream reached the run's lastSeq at open time, or a live batch came. */
  live: boolean;
  /** The run's last seq when it was opened (null until runs.get answers). */
  historySeq: number | null;
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
    const stream = reactive({ series: markRaw(new RunSeries()), live: false, historySeq: null, lastSeq: 0, job: null, error: null }) as OpenStream;
    streams.set(runId, stream);
    ticks[runId] = 0;
    const sub = api().subscribe(
      runId,
      0,
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
        if (!batch.replay || (s.historySeq !== null && s.lastSeq >= s.historySeq)) s.live = true;
        ticks[runId] = (ticks[runId] ?? 0) + 1;
      },
      (err) => {
        const s = streams.get(runId);
        if (s) s.error = errorText(err);
      },
    );
    subs.set(runId, sub);
    // The replay carries no end marker: the history is in once the stream reaches the seq the run had now.
    api()
      .call('runs.get', { id: runId })
      .then((r) => {
        const s = streams.get(runId);
        if (!s) return;
        s.historySeq = r.run.lastSeq;
        if (s.lastSeq >= r.run.lastSeq) s.live = true;
      })
      .catch(() => {
        // A run still in the queue has no folder yet (runs.get answers not-found): nothing to replay.
        const s = streams.get(runId);
        if (!s) return;
        s.historySeq = 0;
        s.live = true;
      });
    return stream;
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
