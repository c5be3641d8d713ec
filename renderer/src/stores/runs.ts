// Every run of the workspace (app and CLI alike), kept fresh from the all-streams subscription, plus the pinned
// baseline of the Runs table and every call that works on runs: details, start, stop, resume, evaluate, robustness,
// predictions on one case, the report table, rename, tag, delete, the base runs a new run may start from. Views reach
// the backend through here.
import type { Subscription } from '@shared/contract/client';
import type { CommandRequest, CommandResponse, RunSummary, ServiceEvent } from '@shared/contract/service';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import { api, errorText } from '../api/api';
import { statusFromEvent } from '../lib/run-status-event';

const PIN_KEY = 'aimkp.pinnedBaseline';

function readPin(): string | null {
  try {
    return globalThis.localStorage?.getItem(PIN_KEY) ?? null;
  } catch {
    return null;
  }
}

export const useRunsStore = defineStore('runs', () => {
  // shallowRef: summaries are replaced whole or patched in place followed by triggerRef (zod types are too deep
  // for ref's deep unwrapping, and the list does not need deep tracking).
  const runs = shallowRef<RunSummary[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const pinned = ref<string | null>(readPin());
  let sub: Subscription | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  const byId = computed(() => new Map(runs.value.map((r) => [r.id, r])));

  async function load(): Promise<void> {
    loading.value = true;
    try {
      runs.value = (await api().call('runs.list', {})).runs;
      error.value = null;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      loading.value = false;
    }
  }

  /** Coalesces many "something changed" events into one runs.list call. */
  function refreshSoon(ms = 300): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void load();
    }, ms);
  }

  /** Applies one live event to the list: steps patch progress in place; state changes reload the list. */
  function apply(e: ServiceEvent): void {
    const run = byId.value.get(e.runId);
    if (e.kind === 'step' && run) {
      run.step = e.data.step;
      run.epoch = e.data.epoch;
      if (run.status !== 'running' && run.status !== 'stopping') run.status = 'running';
      return;
    }
    const now = run ? statusFromEvent(e) : null;
    if (run && now && run.status !== now) {
      run.status = now;
      // A finished run's best validation score comes with it: a run read as done carries its result (sweep cells).
      if (e.kind === 'run-end') run.best = e.data.best ?? run.best;
      triggerRef(runs);
    }
    if (
      e.kind === 'run-start' ||
      e.kind === 'epoch-end' ||
      e.kind === 'run-end' ||
      e.kind === 'job' ||
      e.kind === 'error'
    )
      refreshSoon();
    else if (!run && e.kind !== 'progress') refreshSoon();
  }

  /** Listens to every stream while the app runs (live only; the list itself comes from runs.list). */
  function watchAll(): void {
    if (sub) return;
    sub = api().subscribe('*', undefined, (batch) => {
      for (const e of batch.events) apply(e);
      if (batch.events.some((e) => e.kind === 'step')) triggerRef(runs);
    });
  }

  function unwatch(): void {
    sub?.close();
    sub = null;
  }

  async function start(req: CommandRequest<'runs.start'>): Promise<CommandResponse<'runs.start'>> {
    const r = await api().call('runs.start', req);
    await load();
    return r;
  }

  async function sweep(req: CommandRequest<'runs.sweep'>): Promise<CommandResponse<'runs.sweep'>> {
    const r = await api().call('runs.sweep', req);
    await load();
    return r;
  }

  function replace(run: RunSummary): void {
    const i = runs.value.findIndex((r) => r.id === run.id);
    runs.value = i >= 0 ? runs.value.map((r, j) => (j === i ? run : r)) : [run, ...runs.value];
  }

  /** Stops (or takes out of the queue) a run; says what it did ('finished': it had already ended). */
  async function stop(id: string): Promise<CommandResponse<'runs.stop'>['outcome']> {
    const r = await api().call('runs.stop', { id });
    replace(r.run);
    return r.outcome;
  }

  async function resume(id: string): Promise<void> {
    replace((await api().call('runs.resume', { id })).run);
  }

  /** One run's facts: config, checkpoints, test metrics, robustness reports. */
  async function detail(id: string): Promise<CommandResponse<'runs.get'>> {
    return api().call('runs.get', { id });
  }

  async function evaluate(req: CommandRequest<'runs.evaluate'>): Promise<CommandResponse<'runs.evaluate'>> {
    return api().call('runs.evaluate', req);
  }

  async function robustness(req: CommandRequest<'runs.robustness'>): Promise<CommandResponse<'runs.robustness'>> {
    return api().call('runs.robustness', req);
  }

  /** The keyphrases of one case (an item or an upload) from each run's best checkpoint. */
  async function predictCase(req: CommandRequest<'predict.case'>): Promise<CommandResponse<'predict.case'>> {
    return api().call('predict.case', req);
  }

  /** The runs' scores as one table (CSV, Markdown or LaTeX). */
  async function reportTable(req: CommandRequest<'report.table'>): Promise<CommandResponse<'report.table'>> {
    return api().call('report.table', req);
  }

  async function rename(id: string, name: string): Promise<void> {
    replace((await api().call('runs.rename', { id, name })).run);
  }

  /** Adds and removes tags; the list shows the run's new tags at once. */
  async function tag(id: string, change: { add?: string[]; remove?: string[] }): Promise<void> {
    replace((await api().call('runs.tag', { id, add: change.add ?? [], remove: change.remove ?? [] })).run);
  }

  /** The runs that can be a base for a new run's "Initialise from" (finished pretrain / align runs with best/). */
  async function bases(): Promise<CommandResponse<'runs.bases'>['runs']> {
    return (await api().call('runs.bases', {})).runs;
  }

  async function remove(id: string): Promise<void> {
    await api().call('runs.delete', { id });
    runs.value = runs.value.filter((r) => r.id !== id);
    if (pinned.value === id) pin(null);
  }

  function pin(id: string | null): void {
    pinned.value = id;
    try {
      if (id) globalThis.localStorage?.setItem(PIN_KEY, id);
      else globalThis.localStorage?.removeItem(PIN_KEY);
    } catch {
      /* storage unavailable: the pin lasts for this session */
    }
  }

  return {
    runs,
    loading,
    error,
    pinned,
    byId,
    load,
    refreshSoon,
    apply,
    watchAll,
    unwatch,
    start,
    sweep,
    stop,
    resume,
    detail,
    evaluate,
    robustness,
    predictCase,
    reportTable,
    rename,
    tag,
    bases,
    remove,
    pin,
  };
});
