// Builds the backend a transport serves (Electron IPC or the browser-mode WebSocket): a supervisor on the
// workspace, the data-set registry, and the handlers of every contract command. Plain Node.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { ServiceBackend } from '../../shared/contract/handlers';
import { writeFileAtomic } from '../../models/index';
import { DATASET_LOAD_JOB, PROBE_JOB } from '../supervisor/job-kinds';
import { Supervisor, type SupervisorOptions } from '../supervisor/supervisor';
import type { ProbeJobResult } from '../supervisor/tasks/interactive';
import { defaultWorkspaceRoot, workspacePaths } from '../supervisor/workspace';
import { DatasetRegistry, type DatasetLoader } from './datasets';
import { createHandlers } from './handlers';

export interface CreateServiceOptions {
  /** Workspace folder; default: the one saved in `locatorFile`, else AIMKP_WORKSPACE / the user's data folder. */
  workspace?: string;
  host: 'electron' | 'browser';
  /** The bundled ClipArt-KP folder (read-only); default <repo>/data/clipart-kp when it exists. */
  bundledDataDir?: string | null;
  /**
   * Where the chosen workspace is remembered (settings.set { workspace }): a small JSON file outside any
   * workspace; default <user data folder>/workspace-location.json. null = not remembered.
   */
  locatorFile?: string | null;
  supervisor?: Partial<Omit<SupervisorOptions, 'workspace'>>;
}

export interface Service {
  backend: ServiceBackend;
  supervisor(): Supervisor;
  /** Stops running jobs at a step boundary (with checkpoints) and saves the job list. */
  close(): Promise<void>;
}

/** <repo>/data/clipart-kp from source (electron/service/) or from the bundle (dist-electron/main.js). */
function defaultBundledDir(): string | null {
  for (const rel of ['../../data/clipart-kp', '../data/clipart-kp']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(resolve(dir, 'manifest.jsonl'))) return dir;
  }
  return null;
}

export function defaultLocatorFile(): string {
  return resolve(defaultWorkspaceRoot({ ...process.env, AIMKP_WORKSPACE: '' }), 'workspace-location.json');
}

function readLocator(file: string | null): string | null {
  if (!file) return null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { workspace?: unknown };
    return typeof v.workspace === 'string' && v.workspace !== '' ? v.workspace : null;
  } catch {
    return null;
  }
}

export function createService(options: CreateServiceOptions): Service {
  const locator = options.locatorFile === undefined ? defaultLocatorFile() : options.locatorFile;
  const workspace = resolve(
    options.workspace ??
      (process.env.AIMKP_WORKSPACE ? defaultWorkspaceRoot() : (readLocator(locator) ?? defaultWorkspaceRoot())),
  );
  // The workspace lock and the run locks of its jobs name the program that holds them.
  const supervisorOptions: Partial<Omit<SupervisorOptions, 'workspace'>> = {
    holder: options.host === 'browser' ? 'aimkp serve' : 'AimKP Workbench',
    ...options.supervisor,
  };
  let supervisor = new Supervisor({ ...supervisorOptions, workspace });
  const loadInWorker: DatasetLoader = (dir, o) =>
    supervisor.runInteractive(DATASET_LOAD_JOB, { dir, checkImages: o.checkImages });
  const datasets = new DatasetRegistry(
    workspacePaths(workspace).datasets,
    options.bundledDataDir === undefined ? defaultBundledDir() : options.bundledDataDir,
    loadInWorker,
  );
  let probe: Promise<ProbeJobResult> | null = null;
  let probedBackend: string | null = null;

  const switchWorkspace = async (dir: string) => {
    const next = new Supervisor({ ...supervisorOptions, workspace: resolve(dir) });
    const old = supervisor;
    supervisor = next;
    datasets.setDatasetsDir(next.paths.datasets);
    await old.shutdown();
    if (locator) await writeFileAtomic(locator, JSON.stringify({ workspace: next.paths.root }, null, 2) + '\n');
  };

  const {
    handlers,
    subscriptions,
    close: closeHandlers,
  } = createHandlers({
    supervisor: () => supervisor,
    datasets,
    host: options.host,
    switchWorkspace,
    probeBackend: () => {
      // One worker initialises the backend the jobs will use; asked again only when the setting changes.
      if (!probe || probedBackend !== supervisor.settings.backend) {
        probedBackend = supervisor.settings.backend;
        probe = supervisor.runInteractive(PROBE_JOB, {});
        probe.catch(() => (probe = null));
      }
      return probe;
    },
  });

  return {
    backend: { handlers, subscriptions },
    supervisor: () => supervisor,
    close: async () => {
      await closeHandlers();
      await supervisor.shutdown();
    },
  };
}
