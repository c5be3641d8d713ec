// A data-parallel worker thread (rank 1..K-1): its own TF.js backend (the one rank 0 picked), a replica of the
// job's model, the job's example sets in shared memory. It answers requests one at a time, in the order sent:
// a training step's shard (gradient into its shared slot, per-sample results and stride moves as the reply),
// decoding a range of a set, encoding a share of the images. Bundled as dist-electron/pool-worker.js; from
// source through pool-worker-dev.mjs.
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { isCoreError } from '../core-error';
import type { KeyphraseLM } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import { wasmKernelCalls } from '../lm/wasm-kernels';
import { initBackend } from '../tf/backend';
import { aimkpStep, standardStep, type StepGradient, type StrideView } from './train-step';
import { encodeImages } from '../vision/feature-cache';
import { loadImageEncoder } from '../vision/load-image-encoder';
import { assignFlat, flatLayout, sumSlots, writeFlat, type FlatLayout } from '../parallel/flat-vars';
import type {
  DecodeRequest,
  EncodeReply,
  EncodeRequest,
  FromPoolWorker,
  MemoryReply,
  ModelRequest,
  PoolRequest,
  PoolWorkerInit,
  StepReply,
  StepRequest,
  StrideUpdate,
  ToPoolWorker,
} from '../parallel/pool-protocol';
import { SharedExampleStore } from '../parallel/shared-examples';

const port = parentPort;
if (!port) throw new Error('pool-worker.ts must run in a worker thread');
const init = workerData as PoolWorkerInit;
const post = (m: FromPoolWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

interface Replica {
  model: KeyphraseLM;
  trainable: tf.Variable[];
  layout: FlatLayout;
  weights: Float32Array;
  control: Int32Array;
  gradient: Float32Array;
  /** Every rank's gradient slot (by rank) and the shared sum (reduce requests). */
  slots: Float32Array[];
  sum: Float32Array;
  version: number;
}

let replica: Replica | null = null;
const store = new SharedExampleStore();
const cancels = new Map<number, AbortController>();

const started = initBackend(init.backend).then(
  (info) => post({ t: 'ready', backend: info.picked }),
  (err: unknown) => {
    post({ t: 'init-failed', error: errorOf(err) });
    throw err;
  },
);

// One request at a time, in order (they share the replica); cancels are seen at once.
let chain: Promise<unknown> = started;
port.on('message', (m: ToPoolWorker) => {
  if (m.t === 'cancel') {
    cancels.get(m.id)?.abort();
    return;
  }
  chain = chain.then(async () => {
    try {
      const { value, transfer } = await handle(m.id, m.request);
      post({ t: 'reply', id: m.id, ok: true, value }, transfer);
    } catch (err) {
      post({ t: 'reply', id: m.id, ok: false, error: errorOf(err) });
    }
  });
});

async function handle(id: number, r: PoolRequest): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (r.t) {
    case 'model':
      setModel(r);
      return { value: null };
    case 'examples':
      store.add(r.name, r.set);
      return { value: null };
    case 'drop':
      store.drop(r.name, r.buffers);
      return { value: null };
    case 'step':
      return { value: step(r) };
    case 'reduce': {
      if (!replica) throw new Error('no model on this worker yet');
      const { slots, sum } = replica;
      sumSlots(
        r.ranks.map((k) => slots[k]),
        sum,
        r.start,
        r.end,
      );
      return { value: null };
    }
    case 'decode':
      return { value: decode(r) };
    case 'encode':
      return encode(id, r);
    case 'memory': {
      const value: MemoryReply = {
        numTensors: tf.memory().numTensors,
        backend: tf.getBackend(),
        wasmKernelCalls: wasmKernelCalls(),
      };
      return { value };
    }
  }
}

function setModel(r: ModelRequest): void {
  replica?.model.dispose();
  replica = null;
  const model = createKeyphraseLM(r.lm, r.template, r.seed);
  try {
    const named = model.namedVariables();
    for (const { name, values } of r.variables) {
      const v = named.get(name);
      if (!v) throw new Error(`replica: the model has no variable "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
    }
    const byName = new Map(model.trainableVariables().map((v) => [nameIn(named, v), v] as const));
    const trainable = r.trainable.map((name) => {
      const v = byName.get(name);
      if (!v) throw new Error(`replica: "${name}" is not trainable here`);
      return v;
    });
    const layout = flatLayout(trainable, named);
    replica = {
      model,
      trainable,
      layout,
      weights: new Float32Array(r.weights),
      control: new Int32Array(r.control),
      gradient: new Float32Array(r.gradient),
      slots: r.slots.map((b) => new Float32Array(b)),
      sum: new Float32Array(r.sum),
      version: Atomics.load(new Int32Array(r.control), 0),
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function nameIn(named: Map<string, tf.Variable>, v: tf.Variable): string {
  for (const [name, x] of named) if (x === v) return name;
  return v.name;
}

/** The replica with rank 0's weights of `version` (loaded from the shared buffer when newer). */
function current(version: number): Replica {
  if (!replica) throw new Error('no model on this worker yet');
  if (replica.version !== version) {
    // The atomic read orders this thread's reads of the buffer after rank 0's writes of that version.
    const published = Atomics.load(replica.control, 0);
    if (published !== version)
      throw new Error(`weights version ${version} requested, ${published} published (rank 0 must publish first)`);
    assignFlat(replica.trainable, replica.weights, replica.layout);
    replica.version = version;
  }
  return replica;
}

function step(r: StepRequest): StepReply {
  const rep = current(r.version);
  const set = store.get(r.set);
  const batch = r.samples.map((i) => set[i]);
  rep.model.reseedDropout(r.dropoutSeed);
  const updates: StrideUpdate[] = [];
  let g: StepGradient;
  if (r.method.kind === 'standard') {
    g = standardStep(rep.model, batch, r.method.mode, r.samplesPerCall, r.total);
  } else {
    const current = new Map<number, [number, number]>();
    batch.forEach((e, i) => current.set(e.index, (r.method as { strides: [number, number][] }).strides[i]));
    // The coordinator owns the stride maps: this shard reads its samples' strides and records the moves.
    const strides: StrideView = {
      get: (modality, index) => {
        const s = current.get(index);
        if (!s) throw new Error(`stride of sample ${index} was not sent`);
        return modality === 'text' ? s[0] : s[1];
      },
      update: (modality, index, accepted) => updates.push({ modality, index, accepted }),
    };
    g = aimkpStep(rep.model, batch, {
      settings: r.method.settings,
      strides,
      seed: r.method.seed,
      epoch: r.method.epoch,
      samplesPerCall: r.samplesPerCall,
      total: r.total,
    });
  }
  try {
    writeFlat(g.grads, rep.layout, rep.gradient);
  } finally {
    tf.dispose(g.grads);
  }
  return {
    loss: g.loss,
    variantLoss: g.variantLoss,
    samples: g.samples,
    accepted: g.accepted,
    checked: g.checked,
    rows: g.rows,
    strideUpdates: updates,
  };
}

function decode(r: DecodeRequest): Int32Array[] {
  const rep = current(r.version);
  const part = store
    .get(r.set)
    .slice(r.start, r.end)
    .map((e) => ({ ...e, answer: new Int32Array(0) }));
  return rep.model.generate(part, r.mode, r.options);
}

async function encode(id: number, r: EncodeRequest): Promise<{ value: EncodeReply; transfer: ArrayBuffer[] }> {
  const controller = new AbortController();
  cancels.set(id, controller);
  const encoder = await loadImageEncoder(r.encoder);
  try {
    const map = await encodeImages(encoder, r.dataDir, r.items, {
      cacheDir: r.cacheDir,
      signal: controller.signal,
      onProgress: (p) => post({ t: 'progress', id, value: p }),
    });
    const features = r.items.map((item) => map.get(item.id) ?? null);
    // Hand the arrays over without a copy where each owns its whole buffer (the same array may serve two items).
    const transfer = new Set<ArrayBuffer>();
    const out = features.map((f) => {
      if (f === null) return null;
      if (f.byteOffset === 0 && f.byteLength === f.buffer.byteLength && f.buffer instanceof ArrayBuffer) {
        transfer.add(f.buffer);
        return f;
      }
      return f.slice();
    });
    return {
      value: { features: out, issues: map.issues, warnings: map.warnings, stats: map.stats },
      transfer: [...transfer],
    };
  } finally {
    encoder.dispose();
    cancels.delete(id);
  }
}

function errorOf(err: unknown): { code: string; message: string; stack?: string } {
  if (isCoreError(err)) return { code: err.code, message: err.message };
  const e = err as Error;
  return { code: 'INTERNAL', message: e?.message ?? String(err), stack: e?.stack };
}
