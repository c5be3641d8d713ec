// Rank 0's handle on the data-parallel workers of a job: starts the pool, gives every worker a replica of rank 0's
// model (and, for training, its optimizer with the same state) and the job's example sets, and holds the shared
// step buffers: every rank's gradient slot, the summed gradient and the step barrier's counters. Every rank applies
// the same AdamW update to its own replica from the same summed gradient, so the replicas stay equal to rank 0's bit
// for bit without the weights ever travelling. The step, decoding and encoding drivers (parallel-step.ts,
// parallel-decode.ts, parallel-encode.ts) are built on it. close() ends every worker; call it on every exit path.
import type { EncodedExample, KeyphraseLM } from '../lm/contract';
import type { BackendInfo } from '../tf/backend';
import { flatLayout, type FlatLayout } from './flat-vars';
import { WorkerPool } from './pool';
import type { OptimizerSetup, PoolRequest } from './pool-protocol';
import type { EncodeProgress } from '../vision/feature-cache';
import { FeatureSharer } from './shared-examples';
import { newStepControl } from './step-barrier';

export class Replicas {
  readonly ranks: number;
  readonly pool: WorkerPool;
  private readonly sharer = new FeatureSharer();
  private flat: FlatLayout | null = null;
  private control = newStepControl();
  private slots: Float32Array[] = [];
  private summed: Float32Array = new Float32Array(0);
  private updates = 0;
  private seq = 0;

  private constructor(ranks: number, backend: BackendInfo['picked']) {
    this.ranks = ranks;
    this.pool = new WorkerPool({ ranks, backend });
  }

  /** Starts K-1 worker threads on rank 0's backend (they initialise while rank 0 goes on preparing). */
  static start(ranks: number, backend: BackendInfo['picked']): Replicas {
    if (ranks < 2) throw new Error(`Replicas: ${ranks} rank(s): data parallelism needs at least 2`);
    return new Replicas(ranks, backend);
  }

  /** The flat layout of the optimizer's variables (gradient slots, summed gradient). */
  get layout(): FlatLayout {
    if (!this.flat) throw new Error('Replicas: no model with an optimizer yet (setModel with one first)');
    return this.flat;
  }

  /** Optimizer updates every replica has applied since setModel: requests name it, workers check theirs equals. */
  get version(): number {
    return this.updates;
  }

  /** Rank r's gradient slot (rank 0's too: parallel-step.ts writes its shard's gradient there). */
  gradient(rank: number): Float32Array {
    return this.slots[rank];
  }

  /** The shared buffer the ranks write the step's gradient sum into, a range each. */
  get sum(): Float32Array {
    return this.summed;
  }

  /** The step barrier's shared counters (step-barrier.ts). */
  get stepControl(): Int32Array {
    return this.control;
  }

  /** The barrier generation of the next optimizer step (1, 2, … since setModel). */
  nextStep(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Every rank has applied the step's update (parallel-step.ts, once all replied). */
  stepped(): void {
    this.updates += 1;
  }

  /**
   * Every worker gets a replica of `model` (built from the same config, template and seed, then rank 0's values)
   * and, for training, `optimizer` (rank 0's settings and current state: a resumed run's is restored everywhere).
   */
  async setModel(model: KeyphraseLM, seed: number, optimizer: OptimizerSetup | null = null): Promise<void> {
    const named = model.namedVariables();
    this.flat = null;
    this.slots = [];
    this.summed = new Float32Array(0);
    this.control = newStepControl();
    this.updates = 0;
    this.seq = 0;
    if (optimizer) {
      const vars = optimizer.slots.map(({ name }) => {
        const v = named.get(name);
        if (!v) throw new Error(`Replicas: the optimizer's parameter "${name}" is not a variable of the model`);
        return v;
      });
      const layout = flatLayout(vars, named);
      this.flat = layout;
      const shared = () => new Float32Array(new SharedArrayBuffer(layout.total * 4));
      for (let r = 0; r < this.ranks; r++) this.slots.push(shared());
      this.summed = shared();
    }
    const variables = [...named].map(([name, v]) => ({ name, values: v.dataSync() as Float32Array }));
    await this.broadcast(() => ({
      t: 'model',
      lm: model.config,
      template: model.template,
      seed,
      variables,
      optimizer,
      control: this.control.buffer as SharedArrayBuffer,
      slots: this.slots.map((s) => s.buffer as SharedArrayBuffer),
      sum: this.summed.buffer as SharedArrayBuffer,
    }));
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
}
