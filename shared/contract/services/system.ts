// The system domain: what the backend runs on, and the workspace settings.
import { z } from 'zod';
import { MAX_WORKERS } from '../../vocabulary';
import { Backend, UserPath } from '../common';
import { command, Empty } from './define';

const BackendInfo = z.object({ name: z.string(), description: z.string() });

export const SystemInfo = z.object({
  app: z.object({ name: z.string(), version: z.string() }),
  /** Where the API runs: inside the Electron app or the browser-mode server. */
  host: z.enum(['electron', 'browser']),
  /** The backend the worker uses (or will use) and the one requested in the settings. */
  backend: BackendInfo.extend({ requested: Backend }),
  versions: z.object({
    node: z.string(),
    electron: z.string().nullable(),
    chrome: z.string().nullable(),
    tfjs: z.string().nullable(),
    zod: z.string().nullable(),
  }),
  platform: z.string(),
  arch: z.string(),
  cores: z.int(),
  memoryBytes: z.number(),
  accelerator: z.object({ kind: z.enum(['cpu', 'gpu']), name: z.string().nullable() }),
  workspace: z.string(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

export const Settings = z.object({
  /** Folder with runs/, datasets/, cache/ and the job registry. Changing it takes effect for new work at once. */
  workspace: z.string(),
  backend: Backend,
  /** Jobs running at the same time (default 1 on CPU). */
  concurrency: z.int().min(1).max(16),
  /** Data-parallel worker threads of each training / evaluation job; null: the cores divided among `concurrency`. */
  workers: z.int().min(1).max(MAX_WORKERS).nullable(),
});
export type Settings = z.infer<typeof Settings>;

export const SYSTEM_COMMANDS = {
  'system.info': command(Empty, SystemInfo, 'Backend, versions, cores, accelerator, workspace.'),
  'settings.get': command(Empty, Settings, 'Workspace folder, backend, concurrency, workers per job.'),
  'settings.set': command(
    z.strictObject({
      workspace: UserPath.optional(),
      backend: Backend.optional(),
      concurrency: z.int().min(1).max(16).optional(),
      workers: z.int().min(1).max(MAX_WORKERS).nullable().optional(),
    }),
    Settings,
    'Changes settings (omitted fields stay); answers the settings now in force.',
  ),
};
