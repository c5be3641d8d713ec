// What every domain's handlers get (the service context) and share (conflict errors, the handler-map type).
import type { CommandName } from '../../../shared/contract/service';
import { ERROR_CODES } from '../../../shared/contract/common';
import type { ServiceHandlers } from '../../../shared/contract/handlers';
import type { Supervisor } from '../../supervisor/supervisor';
import type { DatasetRegistry } from '../datasets';
import type { ProbeJobResult } from '../../supervisor/tasks/interactive';

export interface ServiceContext {
  supervisor: () => Supervisor;
  datasets: DatasetRegistry;
  host: 'electron' | 'browser';
  /** Switches the workspace (supervisor restarted on the new folder); null = not supported here. */
  switchWorkspace: ((dir: string) => Promise<void>) | null;
  /** The backend a worker picked when probed ('system.info'); cached by the caller. */
  probeBackend: () => Promise<ProbeJobResult>;
}

/** The handlers of one domain: one per command of its part of SERVICE (shared/contract/services/<domain>.ts). */
export type HandlersOf<Commands> = Pick<ServiceHandlers, keyof Commands & CommandName>;

export const conflict = (message: string) => Object.assign(new Error(message), { code: ERROR_CODES.conflict });
