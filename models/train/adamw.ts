// AdamW (decoupled weight decay, as torch.optim.AdamW) with two parameter groups — the image adapter and
// the LM (or its LoRA matrices) — and clipping by global gradient norm (as torch.nn.utils.clip_grad_norm_).
import * as tf from '@tensorflow/tfjs';
import type { OptimizerSetup } from '../parallel/pool-protocol';
import { fusedAdamW, wasmAdamWReady } from '../lm/ops';

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
 * How the update is computed. 'tf-ops': about a dozen tensor ops per parameter, each a kernel launch and a pass over
 * memory (the choice where no fused kernel exists: webgpu, tfjs-node, cpu). 'fused': one wasm SIMD kernel per
 * parameter (models/lm/wasm-simd.ts) doing the same float32 operations in the same order, so the bits are the same
 * (test/train/optim.test.ts); on the wasm backend it took the update from ~12 ms to ~3 ms for the presets' model.
 */
export type AdamWKernel = 'fused' | 'tf-ops';

/** 'fused' where the wasm backend's fused kernel can run, 'tf-ops' elsewhere. */
export function defaultAdamWKernel(): AdamWKernel {
  return wasmAdamWReady() ? 'fused' : 'tf-ops';
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
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    readonly slots: ParamSlot[],
    readonly options: AdamWOptions,
    kernel: AdamWKernel = defaultAdamWKernel(),
  ) {
    if (kernel === 'fused' && !wasmAdamWReady())
      throw new Error(`AdamW: the fused kernel needs the wasm backend's kernels (backend: ${tf.getBackend()})`);
    this.kernel = kernel;
    this.m = slots.map((s) => zeroVariable(s.variable));
    this.v = slots.map((s) => zeroVariable(s.variable));
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
   * One parameter's update in the fused kernel. Each scalar is rounded to float32 as tf rounds a scalar operand;
   * clip = 1 and decay = 1 (no clipping, no weight decay) multiply exactly, as the skipped ops would not change a bit.
   */
  private fusedUpdate(i: number, grad: tf.Tensor, clip: number, rate: number, bc1: number, bc2: number): void {
    const o = this.options;
    const scalars = Float32Array.of(
      clip,
      o.beta1,
      1 - o.beta1,
      o.beta2,
      1 - o.beta2,
      1 - rate * o.weightDecay,
      Math.sqrt(bc2),
      o.epsilon,
      rate / bc1,
    );
    const [p, m, v] = fusedAdamW(this.slots[i].variable, grad, this.m[i], this.v[i], scalars);
    this.slots[i].variable.assign(p);
    this.m[i].assign(m);
    this.v[i].assign(v);
    tf.dispose([p, m, v]);
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
      m: this.m.map(hostCopy),
      v: this.v.map(hostCopy),
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
