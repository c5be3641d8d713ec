// The kinds that run at once in a worker of their own, outside the queue (Supervisor.runInteractive): loading a
// data set for the service's registry (seconds of parsing and stemming, kept off the main thread), and probing
// which backend the workers get.
import { z } from 'zod';
import { datasetStats, loadDataset, systemInfo, type DatasetStats, type LoadedDataset } from '../../../models/index';
import { ended, type TaskContext, type TaskEnd } from '../task-context';
import { PathParam } from './params';

export const DatasetLoadJobParams = z.strictObject({
  dir: PathParam,
  /** Decode every image, as `aimkp data stats` does (missing / corrupt ones become issues, their items skipped). */
  checkImages: z.boolean().default(true),
});
export type DatasetLoadJobParams = z.output<typeof DatasetLoadJobParams>;

export interface DatasetLoadJobResult {
  loaded: LoadedDataset;
  stats: DatasetStats;
}

export async function datasetLoadTask(
  p: DatasetLoadJobParams,
  ctx: TaskContext,
): Promise<TaskEnd<DatasetLoadJobResult>> {
  const loaded = await loadDataset(p.dir, { checkImages: p.checkImages });
  // A JSON round trip: what crosses to the main thread is plain data.
  const result = JSON.parse(JSON.stringify({ loaded, stats: datasetStats(loaded.items, loaded.summary) }));
  return ended(ctx, result as DatasetLoadJobResult);
}

export const ProbeJobParams = z.strictObject({});
export type ProbeJobParams = z.output<typeof ProbeJobParams>;

export interface ProbeJobResult {
  name: string;
  picked: string;
  description: string;
  tfjs: string | null;
}

export async function probeTask(_p: ProbeJobParams, ctx: TaskContext): Promise<TaskEnd<ProbeJobResult>> {
  const info = await systemInfo(ctx.backend);
  return ended(ctx, {
    name: info.backend.name,
    picked: info.backend.picked,
    description: info.backend.description,
    tfjs: info.versions.tfjs,
  });
}
