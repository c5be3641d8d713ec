// Data sets: the list, Table 3 statistics, pages of items and import problems, and imports as jobs with progress.
import type { CommandResponse, DatasetItem, DatasetSummary, ImportSource } from '@shared/contract/service';
import type { Split } from '@shared/vocabulary';
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { api, errorText } from '../api/api';
import { followJob, newFollowedJob, type FollowedJob } from '../composables/use-job-follower';

type Stats = CommandResponse<'datasets.stats'>['stats'];
type Issue = CommandResponse<'datasets.issues'>['issues'][number];

/** An import job: the data set it makes, and how far it is. */
export interface DatasetImport extends FollowedJob {
  datasetId: string;
  name: string;
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
  const imports = ref<DatasetImport[]>([]);

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
    opts: { split?: Split | null; search?: string; offset?: number; limit?: number } = {},
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

  /**
   * Starts an import job and follows its stream until it ends; the list reloads when it does. A name the workspace
   * has is refused (ALREADY_EXISTS, so the view can ask) unless `ifExists` is 'rename' ("<name> (2)").
   */
  async function startImport(
    name: string,
    source: ImportSource,
    ifExists: 'ask' | 'rename' = 'ask',
  ): Promise<DatasetImport> {
    const r = await api().call('datasets.import', { name, source, ifExists });
    const record: DatasetImport = {
      ...newFollowedJob(r.jobId, `import ${r.name}`),
      datasetId: r.datasetId,
      name: r.name,
    };
    // Followed for as long as the job runs (the store outlives the views that show it).
    const { job } = followJob(record, r.stream, () => void load());
    imports.value = [job, ...imports.value];
    return job;
  }

  /** Removes a finished import's card (a failed one stays until dismissed). */
  function dismissImport(jobId: string): void {
    imports.value = imports.value.filter((i) => i.jobId !== jobId);
  }

  return {
    list,
    error,
    stats,
    items,
    issues,
    imports,
    load,
    loadStats,
    loadItems,
    loadIssues,
    startImport,
    dismissImport,
  };
});
