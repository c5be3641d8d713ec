// Data sets: the list, Table 3 statistics, pages of items and import problems, and imports as jobs with progress.
import type { CommandResponse, DatasetItem, DatasetSummary, ImportSource } from '@shared/contract/service';
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { api, errorText } from '../api/api';

type Stats = CommandResponse<'datasets.stats'>['stats'];
type Issue = CommandResponse<'datasets.issues'>['issues'][number];

export interface ImportState {
  datasetId: string;
  name: string;
  jobId: string;
  done: number | null;
  total: number | null;
  message: string;
  state: 'running' | 'completed' | 'failed';
  error: string | null;
}

export const useDatasetsStore = defineStore('datasets', () => {
  const list = shallowRef<DatasetSummary[]>([]);
  const error = ref<string | null>(null);
  const stats = shallowRef<Record<string, Stats>>({});
  const items = shallowRef<{
    id: string;
    split: string | null;
    search: string;
    total: number;
    offset: number;
    items: DatasetItem[];
  } | null>(null);
  const issues = shallowRef<{ id: string; total: number; offset: number; issues: Issue[] } | null>(null);
  const imports = ref<ImportState[]>([]);

  async function load(): Promise<void> {
    try {
      list.value = (await api().call('datasets.list', {})).datasets;
      error.value = null;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function loadStats(id: string): Promise<void> {
    const r = await api().call('datasets.stats', { id });
    stats.value = { ...stats.value, [id]: r.stats };
  }

  async function loadItems(
    id: string,
    opts: { split?: 'train' | 'valid' | 'test' | null; search?: string; offset?: number; limit?: number } = {},
  ): Promise<void> {
    const search = opts.search?.trim() ?? '';
    const r = await api().call('datasets.items', {
      id,
      split: opts.split ?? undefined,
      search: search || undefined,
      offset: opts.offset ?? 0,
      limit: opts.limit ?? 24,
    });
    items.value = { id, split: opts.split ?? null, search, total: r.total, offset: r.offset, items: r.items };
  }

  async function loadIssues(id: string, offset = 0): Promise<void> {
    const r = await api().call('datasets.issues', { id, offset, limit: 100 });
    issues.value = { id, total: r.total, offset: r.offset, issues: r.issues };
  }

  /** Starts an import job and follows its stream until it ends; the list reloads when it does. */
  async function startImport(name: string, source: ImportSource): Promise<ImportState> {
    const r = await api().call('datasets.import', { name, source });
    const state: ImportState = {
      datasetId: r.datasetId,
      name,
      jobId: r.jobId,
      done: null,
      total: null,
      message: 'queued',
      state: 'running',
      error: null,
    };
    imports.value = [state, ...imports.value];
    const entry = imports.value[0];
    const sub = api().subscribe(r.stream, 0, (batch) => {
      for (const e of batch.events) {
        if (e.kind === 'progress') {
          entry.done = e.data.done;
          entry.total = e.data.total;
          entry.message = e.data.message;
          if (e.data.phase === 'failed') {
            entry.state = 'failed';
            entry.error = e.data.error?.message ?? e.data.message;
          }
        } else if (e.kind === 'job') {
          if (e.data.state === 'completed') entry.state = 'completed';
          else if (e.data.state === 'failed' || e.data.state === 'cancelled' || e.data.state === 'interrupted') {
            entry.state = 'failed';
            entry.error = e.data.error?.message ?? e.data.state;
          }
        } else if (e.kind === 'error') {
          entry.state = 'failed';
          entry.error = e.data.message;
        }
      }
      if (entry.state !== 'running') {
        sub.close();
        void load();
      }
    });
    return entry;
  }

  return { list, error, stats, items, issues, imports, load, loadStats, loadItems, loadIssues, startImport };
});
