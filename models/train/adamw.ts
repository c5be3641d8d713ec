// AdamW (decoupled weight decay, as torch.optim.AdamW) with two parameter groups — the image adapter and
// the LM (or its LoRA matrices) — and clipping by global gradient norm (as torch.nn.utils.clip_grad_norm_).
import * as tf from '@tensorflow/tfjs';
import type { OptimizerSetup } from '../parallel/pool-protocol';

export interface AdamWOptions {
  /** Learning rate of the LM / LoRA group (paper: 2e-4). */
  lr: number;
  /** Learning rate of the adapter group (paper: 2e-5). */
  adapterLr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Clip the global gradient norm to this; null = no clipping. */
  clipNorm: number | null;
}

export const ADAMW_DEFAULTS: Omit<AdamWOptions, 'lr' | 'adapterLr'> = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  clipNorm: 1,
};

export interface ParamSlot {
  name: string;
  variable: tf.Variable;
  group: 'adapter' | 'lm';
}

/** Serializable state: the step count and the two moments of every parameter, in slot order. */
export interface AdamWStateData {
  step: number;
  names: string[];
  m: Float32Array[];
  v: Float32Array[];
}

/**
 * How the update is computed. 'tf-ops': about a dozen tensor ops per parameter (each a kernel launch; the right
 * choice where the tensors live on a GPU). 'fused': one JavaScript loop per parameter over its values, with every
 * intermediate rounded to float32 in the tf-ops order, so both give the same bits (test/train/optim.test.ts) —
 * on the CPU backends the ops' launch overhead, not the arithmetic, was the cost (≈ 1 ms per sample at batch 16).
 */
export type AdamWKernel = 'fused' | 'tf-ops';

/** 'fused' where tensors live in this process's memory (wasm, cpu), 'tf-ops' elsewhere (webgpu, tfjs-node). */
export function defaultAdamWKernel(backend = tf.getBackend()): AdamWKernel {
  return backend === 'wasm' || backend === 'cpu' ? 'fused' : 'tf-ops';
}

export interface StepInfo {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  adapterLr: number;
}

export class AdamW {
  step = 0;
  readonly kernel: AdamWKernel;
  /** The moments: tensors for 'tf-ops', plain arrays for 'fused' (one of the two pairs is empty). */
  private readonly m: tf.Variable[] = [];
  private readonly v: tf.Variable[] = [];
  private readonly mHost: Float32Array[] = [];
  private readonly vHost: Float32Array[] = [];

  constructor(
    readonly slots: ParamSlot[],
    readonly options: AdamWOptions,
    kernel: AdamWKernel = defaultAdamWKernel(),
  ) {
    this.kernel = kernel;
    if (kernel === 'fused') {
      for (const s of slots) {
        this.mHost.push(new Float32Array(s.variable.size));
        this.vHost.push(new Float32Array(s.variable.size));
      }
    } else {
      for (const s of slots) {
        this.m.push(zeroVariable(s.variable));
        this.v.push(zeroVariable(s.variable));
      }
    }
  }

  /**
   * One update with learning rates scaled by `lrFactor` (from the schedule). `grads` are in slot order and
   * are not disposed here.
   */
  apply(grads: tf.Tensor[], lrFactor: number): StepInfo {
    if (grads.length !== this.slots.length)
      throw new Error(`AdamW: ${grads.length} gradients for ${this.slots.length} parameters`);
    const o = this.options;
    const sumSq = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    const gradNorm = Math.sqrt(sumSq.dataSync()[0]);
    sumSq.dispose();
    // torch: clip_coef = max_norm / (total_norm + 1e-6), applied only when < 1.
    const clip = o.clipNorm !== null && gradNorm > 0 ? Math.min(1, o.clipNorm / (gradNorm + 1e-6)) : 1;
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - Math.pow(o.beta1, t);
    const bc2 = 1 - Math.pow(o.beta2, t);
    const lr = o.lr * lrFactor;
    const adapterLr = o.adapterLr * lrFactor;
    if (this.kernel === 'fused') {
      this.slots.forEach((slot, i) =>
        this.fusedUpdate(i, grads[i], clip, slot.group === 'adapter' ? adapterLr : lr, bc1, bc2),
      );
      return { gradNorm, lr, adapterLr };
    }
    tf.tidy(() => {
      this.slots.forEach((slot, i) => {
        const rate = slot.group === 'adapter' ? adapterLr : lr;
        const g = clip === 1 ? grads[i] : tf.mul(grads[i], clip);
        const m = tf.add(tf.mul(this.m[i], o.beta1), tf.mul(g, 1 - o.beta1));
        const v = tf.add(tf.mul(this.v[i], o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        // Decoupled weight decay first (torch order: p ← p·(1 − lr·wd)), then the Adam step.
        let p: tf.Tensor = slot.variable;
        if (o.weightDecay !== 0) p = tf.mul(p, 1 - rate * o.weightDecay);
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), o.epsilon);
        p = tf.sub(p, tf.mul(tf.div(m, denom), rate / bc1));
        slot.variable.assign(p);
      });
    });
    return { gradNorm, lr, adapterLr };
  }

  /**
   * The tf-ops update of one parameter as a single loop. Each scalar is rounded to float32 as tf rounds a scalar
   * operand, and each intermediate as a float32 kernel rounds its output (an IEEE float32 op equals the double op
   * rounded to float32 for + − × ÷ √), in the same order, so the result has the same bits.
   */
  private fusedUpdate(i: number, grad: tf.Tensor, clip: number, rate: number, bc1: number, bc2: number): void {
    const o = this.options;
    const f = Math.fround;
    const slot = this.slots[i];
    const g = grad.dataSync() as Float32Array;
    const p = slot.variable.dataSync() as Float32Array;
    const m = this.mHost[i];
    const v = this.vHost[i];
    const out = new Float32Array(p.length);
    const c = f(clip);
    const b1 = f(o.beta1);
    const c1 = f(1 - o.beta1);
    const b2 = f(o.beta2);
    const c2 = f(1 - o.beta2);
    const decay = f(1 - rate * o.weightDecay);
    const sqrtBc2 = f(Math.sqrt(bc2));
    const eps = f(o.epsilon);
    const stepSize = f(rate / bc1);
    const clipped = clip !== 1;
    const decayed = o.weightDecay !== 0;
    for (let j = 0; j < out.length; j++) {
      const gj = clipped ? f(g[j] * c) : g[j];
      const mj = f(f(m[j] * b1) + f(gj * c1));
      const vj = f(f(v[j] * b2) + f(f(gj * gj) * c2));
      m[j] = mj;
      v[j] = vj;
      const pj = decayed ? f(p[j] * decay) : p[j];
      const denom = f(f(f(Math.sqrt(vj)) / sqrtBc2) + eps);
      out[j] = f(pj - f(f(mj / denom) * stepSize));
    }
    const next = tf.tensor(out, slot.variable.shape, 'float32');
    slot.variable.assign(next);
    next.dispose();
  }

  /** Everything a data-parallel worker needs to run this optimizer on its replica: parameters, settings, state. */
  setup(): OptimizerSetup {
    return {
      slots: this.slots.map((s) => ({ name: s.name, group: s.group })),
      options: { ...this.options },
      state: this.exportState(),
    };
  }

  exportState(): AdamWStateData {
    return {
      step: this.step,
      names: this.slots.map((s) => s.name),
      m: this.kernel === 'fused' ? this.mHost.map((a) => Float32Array.from(a)) : this.m.map(hostCopy),
      v: this.kernel === 'fused' ? this.vHost.map((a) => Float32Array.from(a)) : this.v.map(hostCopy),
    };
  }

  importState(data: AdamWStateData, where = 'optimizer'): void {
    const expected = this.slots.map((s) => s.name);
    if (data.names.length !== expected.length || data.names.some((n, i) => n !== expected[i])) {
      throw new Error(
        `${where}: parameter names do not match the model (${data.names.length} saved, ${expected.length} in the model)`,
      );
    }
    this.slots.forEach((slot, i) => {
      const size = slot.variable.size;
      if (data.m[i].length !== size || data.v[i].length !== size)
        throw new Error(`${where}: moment of "${slot.name}" has the wrong size`);
      if (this.kernel === 'fused') {
        this.mHost[i].set(data.m[i]);
        this.vHost[i].set(data.v[i]);
        return;
      }
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(data.m[i], slot.variable.shape, 'float32'));
        this.v[i].assign(tf.tensor(data.v[i], slot.variable.shape, 'float32'));
      });
    });
    this.step = data.step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Groups trainable variables by name: a variable whose checkpoint name matches `adapterPattern` is in the
 * adapter group, every other one in the LM group.
 */
export function paramSlots(
  trainable: tf.Variable[],
  named: Map<string, tf.Variable>,
  adapterPattern: RegExp,
): ParamSlot[] {
  const nameOf = new Map<tf.Variable, string>();
  for (const [name, v] of named) nameOf.set(v, name);
  return trainable.map((variable) => {
    const name = nameOf.get(variable) ?? variable.name;
    return { name, variable, group: adapterPattern.test(name) ? 'adapter' : 'lm' };
  });
}

function hostCopy(x: tf.Variable): Float32Array {
  return Float32Array.from(x.dataSync() as Float32Array);
}

/** A non-trainable variable of zeros shaped like `like`; the zeros tensor it copies from is freed (it would outlive the run otherwise). */
function zeroVariable(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}
