/**
 * Synchronous reads (`dataSync()`, `arraySync()`) on the WebGPU backend in Node.
 *
 * tfjs-backend-webgpu reads synchronously through an OffscreenCanvas, which only browsers have; in Node its readSync
 * throws. The model reads a few values synchronously inside a step (losses, per-row gradient parts), so without this the
 * WebGPU backend could not train. The replacement does what the async read does — copy into a mappable buffer,
 * mapAsync — and then drives Dawn's event processing itself until the map has completed.
 *
 * How: dawn.node completes mapAsync when its instance processes events, and it schedules that processing through the
 * global `setImmediate` (looked up at each call). A wrapper around setImmediate remembers the callbacks dawn.node
 * schedules (native functions); the sync read runs them in a loop until the buffer is mapped. Every other setImmediate
 * call passes through unchanged, and a remembered callback that the event loop reaches first runs only once. Checked
 * with dawn.node 0.6.2 (npm `webgpu`); if a later binding schedules differently the read fails with a message saying so.
 */

type Callback = (...args: unknown[]) => void;

/** Dawn callbacks scheduled through setImmediate and not yet run. */
const pendingDawnCallbacks = new Set<Callback>();
let pumpInstalled = false;

/**
 * Dawn's scheduled callbacks are unnamed native functions without parameters; bound JS functions also print
 * "[native code]" but are named "bound …". (The cheap checks first: toString of a JS function copies its source.)
 */
function isNativeCallback(fn: unknown): fn is Callback {
  return (
    typeof fn === 'function' &&
    fn.length === 0 &&
    fn.name === '' &&
    /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
  );
}

/** Node (no OffscreenCanvas) needs the sync read below; a browser-like runtime does not. */
export function needsNodeSyncRead(): boolean {
  return typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined';
}

/** Wraps globalThis.setImmediate once (idempotent). */
export function installDawnEventPump(): void {
  if (pumpInstalled) return;
  pumpInstalled = true;
  const original = globalThis.setImmediate;
  const wrapped = ((fn: unknown, ...args: unknown[]) => {
    if (!isNativeCallback(fn)) return (original as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
    pendingDawnCallbacks.add(fn);
    return original(() => {
      if (pendingDawnCallbacks.delete(fn)) fn(...args);
    });
  }) as typeof setImmediate;
  // Keep setImmediate's own properties (util.promisify.custom: timers/promises relies on it).
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(wrapped, key, descriptor);
  }
  globalThis.setImmediate = wrapped;
}

/**
 * Runs Dawn's event processing until `done()` is true. Throws when Dawn has nothing scheduled (it would never complete)
 * or after `timeoutMs`.
 */
export function pumpDawnEventsUntil(done: () => boolean, what: string, timeoutMs = 120_000): void {
  if (!pumpInstalled) throw new Error(`${what}: the Dawn event pump is not installed`);
  const start = performance.now();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let round = 0; !done(); round++) {
    const callbacks = [...pendingDawnCallbacks];
    pendingDawnCallbacks.clear();
    if (callbacks.length === 0)
      throw new Error(`${what}: Dawn scheduled no event processing (a dawn.node that schedules differently?)`);
    for (const fn of callbacks) fn();
    if (done()) return;
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: the GPU did not answer in ${timeoutMs} ms`);
    // Spin briefly (short kernels), then yield the core in 50 µs naps while the GPU works.
    if (round > 64) Atomics.wait(sleeper, 0, 0, 0.05);
  }
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend the replacement uses (tfjs 4.22). */
interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): WebGpuTensorData };
  bufferManager: {
    acquireBuffer(size: number, usage: number): DawnMappableBuffer;
    releaseBuffer(buffer: DawnMappableBuffer): void;
  };
  commandEncoder: {
    copyBufferToBuffer(src: unknown, srcOffset: number, dst: unknown, dstOffset: number, size: number): void;
  };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: unknown): unknown;
}
interface WebGpuTensorData {
  values: unknown;
  dtype: string;
  resource: unknown;
}
interface DawnMappableBuffer {
  readonly size: number;
  readonly mapState: string;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

export interface SyncReadDeps {
  /** Dawn's GPUBufferUsage / GPUMapMode constants and GPUBuffer class. */
  globals: Record<string, unknown>;
  /** tf.util.convertBackendValuesAndArrayBuffer. */
  convert: (data: ArrayBuffer, dtype: string) => unknown;
}

/**
 * Replaces WebGPUBackend.prototype.readSync when the platform has no OffscreenCanvas (Node). Idempotent. Strings,
 * complex64 and values already on the CPU keep the original path (which handles them without a canvas).
 */
export function patchWebGpuReadSync(prototype: object, deps: SyncReadDeps): boolean {
  if (!needsNodeSyncRead()) return false;
  const proto = prototype as { readSync: (dataId: object) => unknown; __aimkpSyncRead?: true };
  if (proto.__aimkpSyncRead) return false;
  installDawnEventPump();
  const usage = deps.globals.GPUBufferUsage as { COPY_DST: number; MAP_READ: number };
  const mapMode = deps.globals.GPUMapMode as { READ: number };
  const GpuBuffer = deps.globals.GPUBuffer as abstract new () => unknown;
  const original = proto.readSync;
  proto.readSync = function readSyncNode(this: WebGpuBackendInternals, dataId: object): unknown {
    const data = this.tensorMap.get(dataId);
    if (
      data.values != null ||
      data.dtype === 'string' ||
      data.dtype === 'complex64' ||
      !(data.resource instanceof GpuBuffer)
    )
      return original.call(this, dataId);
    const source = data.resource as DawnMappableBuffer;
    const staging = this.bufferManager.acquireBuffer(source.size, usage.COPY_DST | usage.MAP_READ);
    this.ensureCommandEncoderReady();
    this.endComputePassEncoder();
    this.commandEncoder.copyBufferToBuffer(source, 0, staging, 0, source.size);
    this.submitQueue();
    // A failed map settles its promise only in a later microtask; mapState leaves 'pending' at once either way.
    staging.mapAsync(mapMode.READ).catch(() => {});
    pumpDawnEventsUntil(() => staging.mapState !== 'pending', 'webgpu dataSync');
    if (staging.mapState !== 'mapped') {
      this.bufferManager.releaseBuffer(staging);
      throw new Error('webgpu dataSync: mapping the read-back buffer failed (device lost?)');
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    this.bufferManager.releaseBuffer(staging);
    return this.convertAndCacheOnCPU(dataId, deps.convert(bytes, data.dtype));
  };
  proto.__aimkpSyncRead = true;
  return true;
}
