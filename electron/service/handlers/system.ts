// system.info, settings.get, settings.set.
import { cpus, totalmem } from 'node:os';
import { CoreError, requireAbsoluteDir, VERSION } from '../../../models/index';
import type { SYSTEM_COMMANDS } from '../../../shared/contract/services/system';
import type { Supervisor } from '../../supervisor/supervisor';
import { conflict, type HandlersOf, type ServiceContext } from './context';

export function systemHandlers(c: ServiceContext): HandlersOf<typeof SYSTEM_COMMANDS> {
  const sup = () => c.supervisor();
  return {
    'system.info': async () => {
      const s = sup();
      const probe = await c.probeBackend();
      const list = cpus();
      return {
        app: { name: 'AimKP Workbench', version: VERSION },
        host: c.host,
        backend: { name: probe.picked, description: probe.description, requested: s.settings.backend },
        versions: {
          node: process.versions.node,
          electron: process.versions.electron ?? null,
          chrome: process.versions.chrome ?? null,
          tfjs: probe.tfjs,
          zod: null,
        },
        platform: process.platform,
        arch: process.arch,
        cores: list.length,
        memoryBytes: totalmem(),
        accelerator:
          probe.picked === 'tfjs-node-gpu'
            ? { kind: 'gpu', name: 'CUDA GPU (tfjs-node-gpu)' }
            : { kind: 'cpu', name: list[0]?.model ?? null },
        workspace: s.paths.root,
      };
    },

    'settings.get': async () => settingsOf(sup()),
    'settings.set': async (req) => {
      // A relative folder is refused, showing what it would have meant: the server's working folder is not the
      // user's, so guessing would put the workspace somewhere unseen.
      const workspace =
        req.workspace === undefined ? undefined : requireAbsoluteDir(req.workspace, 'workspace', 'Workspace folder');
      if (workspace !== undefined && workspace !== sup().paths.root) {
        if (!c.switchWorkspace)
          throw new CoreError('BAD_INPUT', 'this host cannot change the workspace', { field: 'workspace' });
        if (sup().queue.runningIds().length > 0)
          throw conflict('jobs are running; stop them before changing the workspace');
        // The new supervisor checks the folder (bounded mkdir + write probe) before the old one is let go.
        await c.switchWorkspace(workspace);
      }
      const change: { backend?: typeof req.backend; concurrency?: number; workers?: number | null } = {};
      if (req.backend !== undefined) change.backend = req.backend;
      if (req.concurrency !== undefined) change.concurrency = req.concurrency;
      if (req.workers !== undefined) change.workers = req.workers;
      if (Object.keys(change).length > 0) await sup().setSettings(change);
      return settingsOf(sup());
    },
  };
}

function settingsOf(s: Supervisor) {
  const { backend, concurrency, workers } = s.settings;
  return { workspace: s.paths.root, backend, concurrency, workers };
}
