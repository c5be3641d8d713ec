// A data-parallel worker thread (rank 1..K-1): its own TF.js backend (the one rank 0 picked), a replica of the
// job's model with its own AdamW (the same settings and state as rank 0's), the job's example sets in shared memory.
// It answers requests one at a time, in the order sent: a training step (its shard's gradient into its shared slot,
// its range of the sum, then the same AdamW update as every rank; per-sample results and stride moves as the reply),
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
import { flatLayout, layoutIndices, sumSlots, tensorsOfFlat, writeFlat, type FlatLayout } from '../parallel/flat-vars';
import { shardRanges } from '../parallel/shard-ranges';
import { abortStep, arriveAndWait, SUMMED, WRITTEN } from '../parallel/step-barrier';
import { AdamW } from './adamw';
import type {
  DecodeRequest,
  EncodeReply,
  EncodeRequest,
  FromPoolWorker,
  MemoryReply,
  ModelRequest,
  PoolRequest,
  PoolWorkerInit,
  StateReply,
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

/** A training replica's optimizer and step buffers. */
interface Training {
  optimizer: AdamW;
  layout: FlatLayout;
  /** Where each layout entry is among a step's gradients (one per trainable variable). */
  pick: number[];
  control: Int32Array;
  /** Every rank's gradient slot (by rank) and the shared sum. */
  slots: Float32Array[];
  sum: Float32Array;
}

interface Replica {
  model: KeyphraseLM;
  /** Null for decoding-only jobs. */
  training: Training | null;
  /** Optimizer updates applied (rank 0 names its own count in every request). */
  updates: number;
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
    case 'state':
      return { value: state() };
  }
}

function setModel(r: ModelRequest): void {
  if (replica) {
    replica.training?.optimizer.dispose();
    replica.model.dispose();
  }
  replica = null;
  const model = createKeyphraseLM(r.lm, r.template, r.seed);
  let optimizer: AdamW | null = null;
  try {
    const named = model.namedVariables();
    for (const { name, values } of r.variables) {
      const v = named.get(name);
      if (!v) throw new Error(`replica: the model has no variable "${name}"`);
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
    }
    let training: Training | null = null;
    if (r.optimizer) {
      const slots = r.optimizer.slots.map(({ name, group }) => {
        const variable = named.get(name);
        if (!variable) throw new Error(`replica: the optimizer's parameter "${name}" is not a variable here`);
        return { name, group, variable };
      });
      optimizer = new AdamW(slots, r.optimizer.options);
      optimizer.importState(r.optimizer.state, `replica of rank ${init.rank}`);
      const layout = flatLayout(
        slots.map((s) => s.variable),
        named,
      );
      training = {
        optimizer,
        layout,
        pick: layoutIndices(layout, model.trainableVariables(), named),
        control: new Int32Array(r.control),
        slots: r.slots.map((b) => new Float32Array(b)),
        sum: new Float32Array(r.sum),
      };
    }
    replica = { model, training, updates: 0 };
  } catch (err) {
    optimizer?.dispose();
    model.dispose();
    throw err;
  }
}

/** The replica, checked to hold rank 0's weights of `version` (the same number of updates applied). */
function current(version: number): Replica {
  if (!replica) throw new Error('no model on this worker yet');
  if (replica.updates !== version)
    throw new Error(`replica of rank ${init.rank} has applied ${replica.updates} updates, rank 0 ${version}`);
  return replica;
}

function step(r: StepRequest): StepReply {
  const rep = current(r.version);
  const t = rep.training;
  if (!t) throw new Error('this replica was set up without an optimizer: it cannot train');
  try {
    const updates: StrideUpdate[] = [];
    const g = r.samples.length > 0 ? shardGradient(rep.model, r, updates) : null;
    if (g) {
      try {
        writeFlat(
          t.pick.map((i) => g.grads[i]),
          t.layout,
          t.slots[init.rank],
        );
      } finally {
        tf.dispose(g.grads);
      }
    }
    arriveAndWait(t.control, WRITTEN, r.seq, init.ranks);
    const [start, end] = shardRanges(t.layout.total, init.ranks)[init.rank];
    sumSlots(
      r.ranks.map((k) => t.slots[k]),
      t.sum,
      start,
      end,
    );
    arriveAndWait(t.control, SUMMED, r.seq, init.ranks);
    const grads = tensorsOfFlat(t.sum, t.layout);
    let gradNorm: number;
    try {
      gradNorm = t.optimizer.apply(grads, r.lrFactor).gradNorm;
    } finally {
      tf.dispose(grads);
    }
    rep.updates += 1;
    return {
      loss: g?.loss ?? 0,
      variantLoss: g?.variantLoss ?? { original: 0, text: null, image: null },
      samples: g?.samples ?? [],
      accepted: g?.accepted ?? { text: 0, image: 0 },
      checked: g?.checked ?? { text: 0, image: 0 },
      rows: g?.rows ?? 0,
      strideUpdates: updates,
      gradNorm,
    };
  } catch (err) {
    // Wake every rank waiting for this one's gradient or range.
    abortStep(t.control);
    throw err;
  }
}

/** This rank's shard's gradient (its stride moves recorded in `updates`). */
function shardGradient(model: KeyphraseLM, r: StepRequest, updates: StrideUpdate[]): StepGradient {
  const set = store.get(r.set);
  const batch = r.samples.map((i) => set[i]);
  model.reseedDropout(r.dropoutSeed);
  if (r.method.kind === 'standard') return standardStep(model, batch, r.method.mode, r.samplesPerCall, r.total);
  const strides = r.method.strides;
  const sent = new Map<number, [number, number]>();
  batch.forEach((e, i) => sent.set(e.index, strides[i]));
  // The coordinator owns the stride maps: this shard reads its samples' strides and records the moves.
  const view: StrideView = {
    get: (modality, index) => {
      const s = sent.get(index);
      if (!s) throw new Error(`stride of sample ${index} was not sent`);
      return modality === 'text' ? s[0] : s[1];
    },
    update: (modality, index, accepted) => updates.push({ modality, index, accepted }),
  };
  return aimkpStep(model, batch, {
    settings: r.method.settings,
    strides: view,
    seed: r.method.seed,
    epoch: r.method.epoch,
    samplesPerCall: r.samplesPerCall,
    total: r.total,
  });
}

/** The replica's optimizer parameters and state (tests compare them with rank 0's). */
function state(): StateReply {
  if (!replica?.training) throw new Error('no training replica on this worker');
  const { optimizer } = replica.training;
  return {
    updates: replica.updates,
    weights: optimizer.slots.map((s) => ({ name: s.name, values: Float32Array.from(s.variable.dataSync()) })),
    optimizer: optimizer.exportState(),
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
