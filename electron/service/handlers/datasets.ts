// datasets.list, datasets.import (a job), datasets.stats, datasets.items, datasets.issues.
import { existsSync } from 'node:fs';
import { CoreError } from '../../../models/index';
import type { DATASETS_COMMANDS } from '../../../shared/contract/services/datasets';
import { IMPORT_JOB } from '../../supervisor/job-kinds';
import type { DatasetRegistry } from '../datasets';
import type { HandlersOf, ServiceContext } from './context';

export function datasetsHandlers(c: ServiceContext): HandlersOf<typeof DATASETS_COMMANDS> {
  return {
    'datasets.list': async () => ({ datasets: await c.datasets.list() }),
    'datasets.import': async (req) => {
      const { id, k } = datasetIdFor(req.name, c.datasets);
      if (k > 1 && req.ifExists === 'ask') {
        const existing = datasetIdFor(req.name, c.datasets, 1).id;
        throw new CoreError(
          'ALREADY_EXISTS',
          `data set name "${req.name}": the workspace already has a data set with id ${existing}; import it as "${req.name} (${k})" (id ${id}) or choose another name`,
          { field: 'name', existing, suggestion: id },
        );
      }
      const name = k > 1 ? `${req.name} (${k})` : req.name;
      const job = c.supervisor().enqueue(IMPORT_JOB, { out: c.datasets.importTarget(id), name, source: req.source });
      return { jobId: job.id, stream: `job:${job.id}`, datasetId: id, name };
    },
    'datasets.stats': async (req) => ({ id: req.id, stats: await c.datasets.stats(req.id) }),
    'datasets.items': async (req) => c.datasets.items(req.id, req),
    'datasets.issues': async (req) => c.datasets.issues(req.id, req),
  };
}

/**
 * A data-set id from a display name: lower-case letters, digits, '-'; the first free one from `<base>`, `<base>-2`,
 * … (k = its number, 1 for the bare base), or, with `at`, the k-th candidate.
 */
function datasetIdFor(name: string, datasets: DatasetRegistry, at?: number): { id: string; k: number } {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 96) || 'dataset';
  const candidate = (k: number) => (k === 1 ? base : `${base}-${k}`);
  if (at !== undefined) return { id: candidate(at), k: at };
  const taken = new Set(datasets.ids());
  let k = 1;
  while (taken.has(candidate(k)) || existsSync(datasets.importTarget(candidate(k)))) k++;
  return { id: candidate(k), k };
}
