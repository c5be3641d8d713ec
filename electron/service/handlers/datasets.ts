// datasets.list, datasets.import (a job), datasets.stats, datasets.items, datasets.issues.
import { existsSync } from 'node:fs';
import type { DATASETS_COMMANDS } from '../../../shared/contract/services/datasets';
import { IMPORT_JOB } from '../../supervisor/job-kinds';
import type { DatasetRegistry } from '../datasets';
import type { HandlersOf, ServiceContext } from './context';

export function datasetsHandlers(c: ServiceContext): HandlersOf<typeof DATASETS_COMMANDS> {
  return {
    'datasets.list': async () => ({ datasets: await c.datasets.list() }),
    'datasets.import': async (req) => {
      const id = datasetIdFor(req.name, c.datasets);
      const job = c
        .supervisor()
        .enqueue(IMPORT_JOB, { out: c.datasets.importTarget(id), name: req.name, source: req.source });
      return { jobId: job.id, stream: `job:${job.id}`, datasetId: id };
    },
    'datasets.stats': async (req) => ({ id: req.id, stats: await c.datasets.stats(req.id) }),
    'datasets.items': async (req) => c.datasets.items(req.id, req),
    'datasets.issues': async (req) => c.datasets.issues(req.id, req),
  };
}

/** A data-set id from a display name: lower-case letters, digits, '-', unique in the workspace. */
function datasetIdFor(name: string, datasets: DatasetRegistry): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 100) || 'dataset';
  const taken = new Set(datasets.ids());
  let id = base;
  for (let k = 2; taken.has(id) || existsSync(datasets.importTarget(id)); k++) id = `${base}-${k}`;
  return id;
}
