/**
 * The TensorFlow.js WebGPU backend (@tensorflow/tfjs-backend-webgpu) in Node, on an adapter from webgpu-adapter.ts.
 *
 * tfjs-backend-webgpu is written for browsers: it registers its backend at import time only if `navigator.gpu`
 * exists, asks that for an adapter itself, and expects the WebGPU constants (GPUBufferUsage, GPUMapMode, …) as
 * globals. Here the adapter is found first (so that a missing one is a clean reason), the device is requested with
 * the same features and limits tfjs's own factory asks for, and the backend is registered with a factory that hands
 * that device over. Every step that can fail returns a reason and undoes what it did, so the backend choice falls
 * through to the next backend with tf in the state it found it.
 */
import * as tf from '@tensorflow/tfjs';
import type { DawnAdapter, DawnDevice, GpuAdapterDescription, WebGpuAdapter, WebGpuProbe } from './webgpu-adapter';
import { registerWebGpuFallbackKernels } from './webgpu-fallback-kernels';
import { installDawnEventPump, needsNodeSyncRead, patchWebGpuReadSync } from './webgpu-sync-read';

export interface WebGpuStartOptions {
  /** Accept a software adapter (llvmpipe, SwiftShader, …). The automatic choice does not: wasm is faster. */
  allowSoftware: boolean;
}

export type WebGpuStart = { ok: true; adapter: GpuAdapterDescription } | { ok: false; reason: string };

interface WebGpuModule {
  WebGPUBackend: new (device: DawnDevice, adapterInfo: unknown) => tf.KernelBackend;
}

/** The adapter in use once the backend has started (for describeBackend). */
let active: GpuAdapterDescription | null = null;

export function activeWebGpuAdapter(): GpuAdapterDescription | null {
  return active;
}

/** Finds an adapter with `probe`, starts the tfjs backend on it and makes it tf's current backend; or says why not. */
export async function startWebGpuBackend(probe: WebGpuProbe, options: WebGpuStartOptions): Promise<WebGpuStart> {
  if (active !== null && tf.findBackend('webgpu') !== null) {
    if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'the webgpu backend did not initialise' };
    return { ok: true, adapter: active };
  }
  let found;
  try {
    found = await probe();
  } catch (err) {
    return { ok: false, reason: `adapter probe failed: ${firstLine(err)}` };
  }
  if (!found.ok) return found;
  const { description } = found.adapter;
  if (description.software && !options.allowSoftware) {
    return {
      ok: false,
      reason: `only a software adapter (${description.device || description.description}): slower than wasm; --backend webgpu uses it anyway`,
    };
  }
  // From here on Dawn schedules event processing that the Node sync read must be able to drive (webgpu-sync-read.ts).
  if (needsNodeSyncRead()) installDawnEventPump();
  let device: DawnDevice;
  try {
    device = await found.adapter.adapter.requestDevice(deviceDescriptor(found.adapter.adapter));
  } catch (err) {
    return {
      ok: false,
      reason: `adapter ${description.device || 'found'}, but requestDevice failed: ${firstLine(err)}`,
    };
  }
  const failed = (reason: string): WebGpuStart => {
    undo(device);
    return { ok: false, reason };
  };
  try {
    installGlobals(found.adapter);
    const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as WebGpuModule;
    // Imported after navigator.gpu existed (another caller), the package registered its own factory: use ours.
    if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
    setNavigatorGpu(found.adapter.gpu);
    patchWebGpuReadSync(mod.WebGPUBackend.prototype, {
      globals: found.adapter.globals,
      convert: (data, dtype) => tf.util.convertBackendValuesAndArrayBuffer(data, dtype as tf.DataType),
    });
    const adapterInfo = found.adapter.adapter.info;
    let factoryError: unknown = null;
    tf.registerBackend(
      'webgpu',
      () => {
        try {
          return new mod.WebGPUBackend(device, adapterInfo);
        } catch (err) {
          factoryError = err;
          throw err;
        }
      },
      3,
    );
    if (!(await quietly(() => tf.setBackend('webgpu')))) {
      const why = factoryError === null ? '' : `: ${firstLine(factoryError)}`;
      return failed(`the tfjs webgpu backend did not initialise${why}`);
    }
    registerWebGpuFallbackKernels();
    const selfTest = smokeTest();
    if (selfTest !== null) return failed(`self-test failed: ${selfTest}`);
  } catch (err) {
    return failed(firstLine(err));
  }
  active = description;
  return { ok: true, adapter: description };
}

/** The device tfjs-backend-webgpu's own factory requests (base.ts), plus the storage-buffer count (compatibility mode's default is low). */
function deviceDescriptor(adapter: DawnAdapter): {
  requiredFeatures: string[];
  requiredLimits: Record<string, number>;
} {
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
  const names = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
    'maxStorageBuffersPerShaderStage',
  ];
  const requiredLimits: Record<string, number> = {};
  for (const name of names) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  return { requiredFeatures, requiredLimits };
}

/** Dawn's constants and classes as globals where Node has none (never replacing an existing one). */
function installGlobals(adapter: WebGpuAdapter): void {
  const g = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(adapter.globals)) if (!(key in g)) g[key] = value;
}

/** tfjs-backend-webgpu's constructor checks `navigator.gpu`; Node ≥ 21 has a navigator object, Node 20 none. */
function setNavigatorGpu(gpu: unknown): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(g.navigator as object, 'gpu', { value: gpu, configurable: true, writable: true });
}

/** Back to the state before: no webgpu backend, no navigator.gpu (which would keep the process alive), device gone. */
function undo(device: DawnDevice): void {
  try {
    if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  } catch {
    // removeBackend disposes a half-made backend; nothing else to do
  }
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && 'gpu' in nav) delete nav.gpu;
  try {
    device.destroy();
  } catch {
    // already lost
  }
}

/** A 2×3 · 3×2 product and a reduction, read back synchronously: null when right, else what came back. */
function smokeTest(): string | null {
  const got = tf.tidy(() => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
    const p = tf.matMul(a, b);
    return [...(p.dataSync() as Float32Array), ...(tf.sum(p).dataSync() as Float32Array)];
  });
  const want = [58, 64, 139, 154, 415];
  return got.every((v, i) => v === want[i]) ? null : `matMul/sum gave ${got.join(',')}, expected ${want.join(',')}`;
}

/** tf.setBackend logs a warning and a stack when a factory throws; the caller reports the reason itself. */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await run();
  } finally {
    console.warn = warn;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 200);
}
