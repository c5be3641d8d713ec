// What the workbench shows under "About / system": versions, the TF.js backend in use and what was tried,
// cores and memory, and whether an accelerator is in use.
import * as tf from '@tensorflow/tfjs';
import { cpus, totalmem } from 'node:os';
import { acceleratorOf, describeBackend, initBackend, type BackendInfo, type BackendRequest } from '../tf/backend';
import { VERSION } from '../version';

export interface SystemInfo {
  versions: { app: string; node: string; tfjs: string; electron: string | null; v8: string };
  backend: {
    name: string;
    picked: BackendInfo['picked'];
    description: string;
    tried: BackendInfo['tried'];
    simd: boolean | null;
    threads: number | null;
  };
  /** The GPU the backend runs on (tfjs-node-gpu, webgpu with its adapter); null for the CPU backends. */
  accelerator: string | null;
  cpu: { model: string; cores: number };
  memoryBytes: number;
  platform: string;
  arch: string;
}

/** Initialises the backend (idempotent; `backend` only matters on the first call of the process). */
export async function systemInfo(backend?: BackendRequest): Promise<SystemInfo> {
  const info = await initBackend(backend);
  const list = cpus();
  return {
    versions: {
      app: VERSION,
      node: process.versions.node,
      tfjs: tf.version_core,
      electron: process.versions.electron ?? null,
      v8: process.versions.v8,
    },
    backend: {
      name: info.name,
      picked: info.picked,
      description: describeBackend(info),
      tried: info.tried,
      simd: info.simd ?? null,
      threads: info.threads ?? null,
    },
    accelerator: acceleratorOf(info),
    cpu: { model: list[0]?.model ?? 'unknown', cores: list.length },
    memoryBytes: totalmem(),
    platform: process.platform,
    arch: process.arch,
  };
}
