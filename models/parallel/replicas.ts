// Rank 0's handle on the data-parallel workers of a job: starts the pool, gives every worker a replica of rank 0's
// model and the job's example sets, publishes the trainable weights after each optimizer update (workers load
// them before their next request, so every replica equals rank 0's by construction), and holds each rank's
// gradient slot. The step, decoding and encoding drivers (parallel-step.ts, parallel-decode.ts,
// parallel-encode.ts) are built on it. close() ends every worker; call it on every exit path.
import type * as tf from '@tensorflow/tfjs';
import type { EncodedExample, KeyphraseLM } from '../lm/contract';
import type { BackendInfo } from '../tf/backend';
import { flatLayout, writeFlat, type FlatLayout } from './flat-vars';
import { WorkerPool } from './pool';
import type { PoolRequest } from './pool-protocol';
import type { EncodeProgress } from '../vision/feature-cache';
import { FeatureSharer } from './shared-examples';

export class Replicas {
  readonly ranks: number;
  readonly pool: WorkerPool;
  private readonly sharer = new FeatureSharer();
  private trainable: tf.Variable[] = [];
  private flat: FlatLayout | null = null;
  private weights: Float32Array = new Float32Array(0);
  private control = new Int32Array(new SharedArrayBuffer(4));
  private slots: Float32Array[] = [];
  private summed: Float32Array = new Float32Array(0);
  private published = 0;
  private changed = false;

  private constructor(ranks: number, backend: BackendInfo['picked']) {
    this.ranks = ranks;
    this.pool = new WorkerPool({ ranks, backend });
  }

  /** Starts K-1 worker threads on rank 0's backend (they initialise while rank 0 goes on preparing). */
  static start(ranks: number, backend: BackendInfo['picked']): Replicas {
    if (ranks < 2) throw new Error(`Replicas: ${ranks} rank(s): data parallelism needs at least 2`);
    return new Replicas(ranks, backend);
  }

  /** The flat layout of the trainable variables (gradient slots, shared weights). */
  get layout(): FlatLayout {
    if (!this.flat) throw new Error('Replicas: no model yet');
    return this.flat;
  }

  /** The weights version the workers must compute with (published first if rank 0's changed). */
  get version(): number {
    this.publishIfChanged();
    return this.published;
  }

  /** Rank r's gradient slot (rank 0's too: parallel-step.ts writes its shard's gradient there). */
  gradient(rank: number): Float32Array {
    return this.slots[rank];
  }

  /** The shared buffer the reduce requests write the step's gradient sum into. */
  get sum(): Float32Array {
    return this.summed;
  }

  /** Every worker gets a replica of `model` (built from the same config, template and seed, then rank 0's values). */
  async setModel(model: KeyphraseLM, seed: number): Promise<void> {
    const named = model.namedVariables();
    this.trainable = model.trainableVariables();
    const layout = flatLayout(this.trainable, named);
    this.flat = layout;
    this.weights = new Float32Array(new SharedArrayBuffer(layout.total * 4));
    this.slots = [];
    for (let r = 0; r < this.ranks; r++) this.slots.push(new Float32Array(new SharedArrayBuffer(layout.total * 4)));
    this.summed = new Float32Array(new SharedArrayBuffer(layout.total * 4));
    this.changed = true;
    this.publishIfChanged();
    const variables = [...named].map(([name, v]) => ({ name, values: v.dataSync() as Float32Array }));
    await this.broadcast((rank) => ({
      t: 'model',
      lm: model.config,
      template: model.template,
      seed,
      variables,
      trainable: layout.names,
      weights: this.weights.buffer as SharedArrayBuffer,
      control: this.control.buffer as SharedArrayBuffer,
      gradient: this.slots[rank].buffer as SharedArrayBuffer,
      slots: this.slots.map((s) => s.buffer as SharedArrayBuffer),
      sum: this.summed.buffer as SharedArrayBuffer,
    }));
  }

  /** Rank 0's trainable weights changed (an optimizer update): published before the workers' next request. */
  weightsChanged(): void {
    this.changed = true;
  }

  /**
   * Sends example set `name` to every worker (features into shared memory once). `replaceImages`: rank 0's own
   * examples then point at the shared copies, so the features are held once.
   */
  async shareExamples(name: string, examples: EncodedExample[], replaceImages: boolean): Promise<void> {
    const set = this.sharer.pack(name, examples, replaceImages);
    await this.broadcast(() => ({ t: 'examples', name, set }));
  }

  async dropExamples(name: string): Promise<void> {
    const buffers = this.sharer.drop(name);
    await this.broadcast(() => ({ t: 'drop', name, buffers }));
  }

  request<T>(
    rank: number,
    request: PoolRequest,
    options?: { transfer?: ArrayBuffer[]; onProgress?: (p: EncodeProgress) => void },
  ): { id: number; reply: Promise<T> } {
    return this.pool.request<T>(rank, request, options);
  }

  /** Ends every worker (idempotent). */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async broadcast(make: (rank: number) => PoolRequest): Promise<void> {
    const replies: Promise<unknown>[] = [];
    for (let r = 1; r < this.ranks; r++) replies.push(this.pool.request(r, make(r)).reply);
    await Promise.all(replies);
  }

  private publishIfChanged(): void {
    if (!this.changed || !this.flat) return;
    writeFlat(this.trainable, this.flat, this.weights);
    this.published += 1;
    // Atomic store after the plain writes: a worker that reads this version sees the weights written before it.
    Atomics.store(this.control, 0, this.published);
    this.changed = false;
  }
}
