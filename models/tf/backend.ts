/**
 * TensorFlow.js backend selection. One tf instance for the whole process: `@tensorflow/tfjs`; the optional
 * native packages (tfjs-node-gpu, tfjs-node) register their backends into that same instance when imported, and the
 * WebGPU backend is started on an adapter found through Dawn (webgpu-adapter.ts, webgpu-backend.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { BACKEND_CHOICES, type BackendRequest } from '../../shared/vocabulary';
import { CoreError } from '../core-error';
import { checkGpuLibraries, GPU_REQUIREMENTS } from './gpu-requirements';
import {
  describeNativeMatmul,
  registerNativeMatmul,
  selfTestNativeMatmul,
  type NativeMatmulStatus,
} from './native-matmul';
import { registerWasmFallbackKernels } from './wasm-fallback-kernels';
import { registerSharedIdentity } from './wasm-identity';
import { adapterLabel, probeWebGpuAdapter, type GpuAdapterDescription, type WebGpuProbe } from './webgpu-adapter';
import { activeWebGpuAdapter, startWebGpuBackend } from './webgpu-backend';

export { BACKEND_CHOICES, type BackendRequest };
export type ConcreteBackend = Exclude<BackendRequest, 'auto'>;

export interface BackendAttempt {
  name: ConcreteBackend;
  ok: boolean;
  reason?: string;
}

export interface BackendInfo {
  /** The tf backend name in use (`tensorflow` for the node packages, `wasm`, `cpu`). */
  name: string;
  /** The package / backend that was picked (e.g. 'tfjs-node-gpu', 'wasm'). */
  picked: ConcreteBackend;
  requested: BackendRequest;
  tried: BackendAttempt[];
  /** wasm only. */
  simd?: boolean;
  /** wasm only. */
  threads?: number;
  /** wasm only: the native matmul kernels (native-matmul.ts), or why they are off. */
  nativeMatmul?: NativeMatmulStatus;
  /** webgpu only: the adapter it runs on. */
  adapter?: GpuAdapterDescription;
}

/** What `auto` tries, in order (docs/backends-and-encoders.md has the same table; a test compares them). */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

/** Starts one backend and makes it current: null on success, else why it is unavailable. */
export type BackendStarter = (name: ConcreteBackend, requested: BackendRequest) => Promise<string | null>;

export interface BackendOptions {
  /** How the webgpu backend finds its adapter (default: Dawn through npm `webgpu`); for tests. */
  webgpuProbe?: WebGpuProbe;
}

let current: Promise<BackendInfo> | null = null;

export function isBackendRequest(value: string): value is BackendRequest {
  return (BACKEND_CHOICES as readonly string[]).includes(value);
}

/** `--backend <value>` → BackendRequest (undefined → 'auto', which then honours AIMKP_BACKEND). */
export function parseBackendFlag(value: string | undefined): BackendRequest {
  if (value === undefined) return 'auto';
  if (!isBackendRequest(value))
    throw new CoreError('BAD_INPUT', `--backend ${value}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  return value;
}

/**
 * Picks and initialises a backend. `requested` defaults to env AIMKP_BACKEND, then 'auto'.
 * Idempotent: later calls return the first call's info; a later explicit request for a different backend
 * is an error (tf cannot safely switch backends under live tensors).
 */
export function initBackend(requested?: BackendRequest, options: BackendOptions = {}): Promise<BackendInfo> {
  if (current) {
    // No argument / 'auto' after initialisation: whatever was picked (library code calls it that way).
    if (requested === undefined || requested === 'auto') return current;
    return current.then((info) => {
      if (info.picked !== requested) {
        throw new CoreError(
          'BACKEND_UNAVAILABLE',
          `backend already initialised as ${info.picked}; cannot switch to ${requested}`,
        );
      }
      return info;
    });
  }
  let req: BackendRequest;
  try {
    req = resolveBackendRequest(requested, process.env.AIMKP_BACKEND);
  } catch (err) {
    return Promise.reject(err);
  }
  current = pick(req, options);
  current.catch(() => {
    current = null;
  });
  return current;
}

/** An explicit (non-auto) request wins; otherwise AIMKP_BACKEND if set; otherwise 'auto'. */
export function resolveBackendRequest(
  requested: BackendRequest | undefined,
  envValue: string | undefined,
): BackendRequest {
  if (requested !== undefined && requested !== 'auto') return requested;
  const env = envValue?.trim();
  if (env) {
    if (!isBackendRequest(env)) {
      throw new CoreError('BAD_INPUT', `AIMKP_BACKEND=${env}: expected one of ${BACKEND_CHOICES.join(', ')}`);
    }
    return env;
  }
  return 'auto';
}

async function pick(req: BackendRequest, options: BackendOptions): Promise<BackendInfo> {
  const { picked, tried } = await walkBackends(req, (name, requested) => startBackend(name, requested, options));
  return describeCurrent(picked, req, tried);
}

/**
 * Tries `auto`'s order (or only the requested backend) with `start` until one starts. Throws BACKEND_UNAVAILABLE with
 * every reason in one line when none does.
 */
export async function walkBackends(
  req: BackendRequest,
  start: BackendStarter,
): Promise<{ picked: ConcreteBackend; tried: BackendAttempt[] }> {
  const order = req === 'auto' ? AUTO_ORDER : [req];
  const tried: BackendAttempt[] = [];
  for (const candidate of order) {
    let failure: string | null;
    try {
      failure = await start(candidate, req);
    } catch (err) {
      failure = errorReason(err);
    }
    tried.push(failure === null ? { name: candidate, ok: true } : { name: candidate, ok: false, reason: failure });
    if (failure === null) return { picked: candidate, tried };
  }
  const detail = tried.map((t) => `${t.name}: ${t.reason ?? 'failed'}`).join('; ');
  const hint = req === 'auto' ? '' : ' — use --backend auto (or unset AIMKP_BACKEND) to fall back to wasm/cpu';
  throw new CoreError('BACKEND_UNAVAILABLE', `no TensorFlow.js backend could be initialised (${detail})${hint}`);
}

/**
 * Starts `name` (or returns to it when it was started before) and makes it tf's current backend: null on success,
 * else why not. initBackend is the way for library code; tools that compare backends in one process
 * (scripts/gpu-check.ts) switch with this.
 */
export function switchBackend(name: ConcreteBackend, options: BackendOptions = {}): Promise<string | null> {
  return startBackend(name, name, options);
}

/** Returns null on success, or why the backend is unavailable. */
async function startBackend(
  name: ConcreteBackend,
  requested: BackendRequest,
  options: BackendOptions,
): Promise<string | null> {
  try {
    switch (name) {
      case 'tfjs-node-gpu':
      case 'tfjs-node': {
        const pkg = name === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        // Without CUDA/cuDNN, tfjs-node-gpu imports fine and TensorFlow silently runs on the CPU: check first and
        // name what is missing (gpu-requirements.ts). AIMKP_GPU_CHECK=off skips the check (libraries found by rpath).
        if (name === 'tfjs-node-gpu' && isInstalled(pkg) && process.env.AIMKP_GPU_CHECK !== 'off') {
          const missing = checkGpuLibraries();
          if (missing !== null) return missing;
        }
        const loaded = await importOptional(pkg);
        if (loaded !== true) return loaded;
        if (!(await tf.setBackend('tensorflow'))) return 'imported but the tensorflow backend did not initialise';
        break;
      }
      case 'webgpu': {
        // The automatic choice skips software adapters (slower than wasm); asking for webgpu by name takes one.
        const started = await startWebGpuBackend(options.webgpuProbe ?? (() => probeWebGpuAdapter()), {
          allowSoftware: requested === 'webgpu',
        });
        if (!started.ok) return started.reason;
        break;
      }
      case 'wasm': {
        const ok = await withoutNewProcessHandlers(async () => {
          await import('@tensorflow/tfjs-backend-wasm');
          registerWasmFallbackKernels();
          // The optional N-API addon; without it (not built, AIMKP_NATIVE_MATMUL=off) the wasm kernels stay.
          registerNativeMatmul();
          // Identity shares its input instead of copying it (every tensor the gradient tape saves; wasm-identity.ts).
          registerSharedIdentity();
          return tf.setBackend('wasm');
        });
        if (!ok) return 'the wasm backend did not initialise';
        break;
      }
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return 'the cpu backend did not initialise';
        silenceCpuNodeHint();
        break;
    }
    await tf.ready();
    return null;
  } catch (err) {
    return errorReason(err);
  }
}

/**
 * The emscripten glue of tfjs-backend-wasm installs process 'uncaughtException' / 'unhandledRejection'
 * handlers that rethrow, which makes Node print a whole minified line of the wasm glue with every
 * uncaught error. Remove just the handlers added during wasm start-up, restoring Node's defaults.
 */
async function withoutNewProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const events = ['uncaughtException', 'unhandledRejection'];
  const current = (event: string): Listener[] => process.listeners(event as 'uncaughtException') as Listener[];
  const before = events.map((event) => new Set(current(event)));
  try {
    return await start();
  } finally {
    events.forEach((event, i) => {
      for (const listener of current(event)) if (!before[i].has(listener)) process.removeListener(event, listener);
    });
  }
}

/** The cpu backend prints a "install tfjs-node" banner on first use; describeBackend already says that. */
export function silenceCpuNodeHint(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/** Whether an optional package resolves from here (without loading it). */
function isInstalled(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Dynamic import of an optional package: true, or a short reason ('not installed' for the common case). */
async function importOptional(pkg: string): Promise<true | string> {
  try {
    // A variable specifier keeps bundlers / tsc from resolving the optional package at build time.
    const specifier: string = pkg;
    await import(specifier);
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = errorReason(err);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg)) {
      return 'not installed';
    }
    return message;
  }
}

function errorReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 200);
}

async function describeCurrent(
  picked: ConcreteBackend,
  requested: BackendRequest,
  tried: BackendAttempt[],
): Promise<BackendInfo> {
  const info: BackendInfo = { name: tf.getBackend(), picked, requested, tried };
  if (picked === 'webgpu') {
    const adapter = activeWebGpuAdapter();
    if (adapter !== null) info.adapter = adapter;
  }
  if (picked === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    info.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    info.threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? wasm.getThreadsCount() : 1;
    const native = selfTestNativeMatmul();
    if (native !== null) info.nativeMatmul = native;
  }
  return info;
}

/** The GPU a backend runs on, for "accelerator" fields; null for the CPU backends. */
export function acceleratorOf(info: BackendInfo): string | null {
  if (info.picked === 'tfjs-node-gpu') return 'CUDA GPU (tfjs-node-gpu)';
  if (info.picked === 'webgpu') return `WebGPU: ${info.adapter ? adapterLabel(info.adapter) : 'adapter'}`;
  return null;
}

/**
 * One line for CLIs and the UI, e.g. "backend: wasm + native matmul (AVX2) (SIMD on, 1 thread) — tfjs-node-gpu: not
 * installed; tfjs-node: not installed"; plain "wasm" when the native matmuls are off (then the reason is listed).
 */
export function describeBackend(info: BackendInfo): string {
  let head = `backend: ${info.picked}`;
  if (info.picked === 'wasm' && info.nativeMatmul?.enabled) head += ` + ${describeNativeMatmul(info.nativeMatmul)}`;
  if (info.picked === 'wasm') {
    const threads = info.threads ?? 1;
    head += ` (SIMD ${info.simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'})`;
  }
  if (info.picked === 'tfjs-node-gpu') {
    head += ` (libtensorflow ${GPU_REQUIREMENTS.libtensorflow}: CUDA ${GPU_REQUIREMENTS.cuda}, cuDNN ${GPU_REQUIREMENTS.cudnn})`;
  }
  if (info.picked === 'webgpu' && info.adapter) head += ` (${adapterLabel(info.adapter)})`;
  const notes = info.tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason ?? 'failed'}`);
  if (info.picked === 'wasm' && info.nativeMatmul && !info.nativeMatmul.enabled)
    notes.push(`native matmul: ${info.nativeMatmul.reason ?? 'off'}`);
  if (notes.length === 0) return head;
  return `${head} — ${notes.join('; ')}`;
}
