// The workspace folder: everything the workbench owns on disk. Layout (docs/architecture.md "Supervisor"):
//   <workspace>/runs/<runId>/     run folders (the run registry is the folders themselves; `aimkp train --out` works too)
//   <workspace>/datasets/<name>/  data sets the user imported
//   <workspace>/cache/            image-feature cache (the bundled data set is read-only); cache/history/ holds
//                                 the runs' folded chart histories (runs.history, derived)
//   <workspace>/settings.json     user settings
//   <workspace>/jobs.json         the persisted job queue
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CoreError, defaultWorkers, makeDirBounded, probeWritable, writeFileAtomic } from '../../models/index';
import { BACKEND_CHOICES, MAX_WORKERS, type BackendRequest } from '../../shared/vocabulary';

export const APP_FOLDER_NAME = 'aimkp-workbench';

export interface WorkspacePaths {
  root: string;
  runs: string;
  datasets: string;
  cache: string;
  settings: string;
  jobs: string;
}

/** The user's data folder for the app: $XDG_DATA_HOME, %APPDATA%, ~/Library/Application Support, or ~/.local/share. */
export function defaultWorkspaceRoot(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const fromEnv = env.AIMKP_WORKSPACE;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, APP_FOLDER_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_FOLDER_NAME);
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, APP_FOLDER_NAME);
  return join(homedir(), '.local', 'share', APP_FOLDER_NAME);
}

export function workspacePaths(root: string): WorkspacePaths {
  const r = resolve(root);
  return {
    root: r,
    runs: join(r, 'runs'),
    datasets: join(r, 'datasets'),
    cache: join(r, 'cache'),
    settings: join(r, 'settings.json'),
    jobs: join(r, 'jobs.json'),
  };
}

const WORKSPACE_HINT = 'choose another workspace (Settings, --workspace or AIMKP_WORKSPACE)';

/**
 * Creates the workspace folders (idempotent) in a bounded number of steps and proves the folder writable: a path
 * under /proc or /sys, a file, a read-only folder each end in one CoreError naming the path (never a retry loop;
 * models/fs/make-dir.ts says why Node's recursive mkdir is not used).
 */
export function ensureWorkspace(root: string): WorkspacePaths {
  const p = workspacePaths(root);
  for (const dir of [p.root, p.runs, p.datasets, p.cache]) makeDirBounded(dir, 'workspace folder', WORKSPACE_HINT);
  probeWritable(p.root, 'workspace folder', WORKSPACE_HINT);
  return p;
}

/** A run id is a folder name under runs/: no separators, no dot-dot, no leading dot. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isRunId(value: string): boolean {
  return RUN_ID.test(value) && !value.includes('..');
}

export function checkRunId(value: string): string {
  if (!isRunId(value))
    throw new CoreError(
      'BAD_INPUT',
      `run id ${JSON.stringify(value)}: expected letters, digits, '.', '_' or '-' (at most 128, no '..')`,
      { field: 'runId' },
    );
  return value;
}

export interface WorkspaceSettings {
  /** Backend the workers initialise ('auto' picks the fastest available). */
  backend: BackendRequest;
  /** Jobs that run at the same time (1 on a CPU: two trainings would share the same cores). */
  concurrency: number;
  /** Data-parallel worker threads of each job (`--workers K`); null: the cores shared among `concurrency` jobs. */
  workers: number | null;
}

export const DEFAULT_SETTINGS: WorkspaceSettings = { backend: 'auto', concurrency: 1, workers: null };

/** The K a job runs with: the setting, else the cores divided among the jobs that may run at once. */
export function jobWorkers(settings: WorkspaceSettings, cores: number = defaultWorkers()): number {
  return settings.workers ?? Math.max(1, Math.floor(cores / settings.concurrency));
}

/** Validates a partial settings object (from settings.json or a client); unknown fields are errors. */
export function checkSettings(value: unknown, where: string): Partial<WorkspaceSettings> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CoreError('BAD_INPUT', `${where}: expected a JSON object`);
  const out: Partial<WorkspaceSettings> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'backend') {
      if (!(BACKEND_CHOICES as readonly unknown[]).includes(v))
        throw new CoreError('BAD_INPUT', `${where}: field "backend": expected one of ${BACKEND_CHOICES.join(', ')}`, {
          field: 'backend',
        });
      out.backend = v as WorkspaceSettings['backend'];
    } else if (key === 'concurrency') {
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 64)
        throw new CoreError('BAD_INPUT', `${where}: field "concurrency": expected an integer 1..64`, {
          field: 'concurrency',
        });
      out.concurrency = v as number;
    } else if (key === 'workers') {
      if (v !== null && (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_WORKERS))
        throw new CoreError(
          'BAD_INPUT',
          `${where}: field "workers": expected an integer 1..${MAX_WORKERS}, or null (every core)`,
          { field: 'workers' },
        );
      out.workers = v as number | null;
    } else {
      throw new CoreError('BAD_INPUT', `${where}: field "${key}": unknown setting`, { field: key });
    }
  }
  return out;
}

export function readSettings(paths: WorkspacePaths): WorkspaceSettings {
  let text: string;
  try {
    text = readFileSync(paths.settings, 'utf8');
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CoreError(
      'BAD_INPUT',
      `${paths.settings}: invalid JSON (${(err as Error).message}); fix or delete the file`,
      { path: paths.settings },
    );
  }
  return { ...DEFAULT_SETTINGS, ...checkSettings(parsed, paths.settings) };
}

export async function writeSettings(paths: WorkspacePaths, settings: WorkspaceSettings): Promise<void> {
  await writeFileAtomic(paths.settings, JSON.stringify(settings, null, 2) + '\n', { fsync: true });
}
