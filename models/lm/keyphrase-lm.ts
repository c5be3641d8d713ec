// The multimodal keyphrase LM (implements models/lm/contract.ts): adapter + causal transformer, AimKP rows.
import * as tf from '@tensorflow/tfjs';
import type {
  DecodeOptions,
  EncodedExample,
  EvalMode,
  KeyphraseLM,
  LmConfig,
  PerRowGradients,
  PromptTemplate,
  RowLosses,
  RowVariant,
} from './contract';
import { validateLmConfig } from './config';
import { decode, type DecodeSession } from './decode';
import type { ForwardOptions } from './forward';
import type { KvCache } from './forward';
import {
  forwardHidden,
  forwardLastLogits,
  forwardPromptCache,
  forwardRowLosses,
  forwardStepCache,
  gatherInputs,
} from './forward';
import type { BatchLayout, RowLayout } from './layout';
import { buildBatchLayout, buildRowLayout, MASKED } from './layout';
import { accumulateGrads, gatherRows } from './ops';
import { createParams, type ModelParams } from './params';
import {
  assemblePerRowGradients,
  capturePass,
  disposePassCapture,
  pairGroups,
  type PassCapture,
} from './per-row-grads';
import { DEFAULT_PASS_BYTES, planPasses } from './call-plan';
import { StagingF32 } from '../tf/staging';

/** The step's distinct images stacked for the adapter's first layer, reused (models/tf/staging.ts). */
const STACKED_IMAGES = new StagingF32();

export interface LayoutChoice {
  /** true (default): masked tokens are physically dropped (positions kept) — exact and faster. false: reference. */
  compact?: boolean;
  /** true (default with compact): run the rows in length-homogeneous passes (call-plan.ts); false: one pass. */
  split?: boolean;
  /** The planner's fixed cost per pass in forward FLOPs (default DEFAULT_PASS_OVERHEAD_FLOPS; 0 splits the most). */
  passOverheadFlops?: number;
  /** The most bytes one pass may hold (call-plan.ts passBytes); default by backend, DEFAULT_PASS_BYTES. */
  passBytesBudget?: number;
}

/** The contract's interface plus reference paths used by tests and benchmarks. */
export interface KeyphraseLMCore extends KeyphraseLM {
  /** Row losses on either layout (no gradient). */
  rowLosses(examples: EncodedExample[], variants: RowVariant[], choice?: LayoutChoice): RowLosses;
  /** weightedGradients on either layout. */
  weightedGradientsWith(
    examples: EncodedExample[],
    variants: RowVariant[],
    weights: ArrayLike<number>,
    training: boolean,
    choice?: LayoutChoice,
  ): { result: RowLosses; grads: tf.Tensor[] };
  /** Reference per-row gradients: one tf.variableGrads per row (brute force). */
  perRowGradientsBruteForce(examples: EncodedExample[], variants: RowVariant[], training: boolean): PerRowGradients;
  /** perRowGradients with a layout choice (split: false = the whole call in one pass). */
  perRowGradientsWith(
    examples: EncodedExample[],
    variants: RowVariant[],
    training: boolean,
    pairs?: ReadonlyArray<readonly [number, number]>,
    choice?: LayoutChoice,
  ): PerRowGradients;
  /** Final hidden states at every slot, with the row layouts (for masking tests). */
  hiddenStates(
    examples: EncodedExample[],
    variants: RowVariant[],
    choice?: LayoutChoice,
  ): { rows: RowLayout[]; T: number; values: Float32Array };
  /** Log-probabilities of the next token after each (example, answer prefix), N × V. */
  nextLogProbs(examples: EncodedExample[], mode: EvalMode, prefixes: number[][], reserve: number[]): Float32Array;
  /** Incremental (KV-cached) decoder used by generate(). */
  decodeSession(examples: EncodedExample[], mode: EvalMode, maxNewTokens: number): DecodeSession;
}

export function createKeyphraseLM(config: LmConfig, template: PromptTemplate, seed: number): KeyphraseLMCore {
  validateLmConfig(config);
  for (const id of [...template.prefix, ...template.instruction, template.eos, template.pad]) {
    if (!(id >= 0 && id < config.vocabSize))
      throw new RangeError(`prompt template id ${id} outside the vocabulary (0..${config.vocabSize - 1})`);
  }
  return new LmCore(config, template, seed);
}

export function plainVariant(mode: EvalMode): RowVariant {
  return { mode, textStride: 1, imageStride: 1, kind: 'structured', seed: 0 };
}

class LmCore implements KeyphraseLMCore {
  private readonly params: ModelParams;
  private calls = 0;
  private dropoutBase: number;
  private disposed = false;

  constructor(
    readonly config: LmConfig,
    readonly template: PromptTemplate,
    private readonly seed: number,
  ) {
    this.params = createParams(config, seed);
    this.dropoutBase = seed;
  }

  reseedDropout(seed: number): void {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`reseedDropout: ${seed} is not an integer`);
    this.dropoutBase = seed;
    this.calls = 0;
  }

  trainableVariables(): tf.Variable[] {
    return this.params.trainable.slice();
  }

  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.params.named);
  }

  /** Checked row layouts of a call. */
  private rowLayouts(examples: EncodedExample[], variants: RowVariant[], compact: boolean): RowLayout[] {
    if (this.disposed) throw new Error('KeyphraseLM used after dispose');
    if (examples.length !== variants.length)
      throw new RangeError(`${examples.length} examples but ${variants.length} variants`);
    if (examples.length === 0) throw new RangeError('empty batch');
    return examples.map((e, i) => buildRowLayout(e, variants[i], this.template, this.config, { compact }));
  }

  private batch(examples: EncodedExample[], variants: RowVariant[], compact: boolean): BatchLayout {
    return buildBatchLayout(this.rowLayouts(examples, variants, compact), this.template.pad);
  }

  private options(batch: BatchLayout, training: boolean): ForwardOptions {
    // Dropout masks: deterministic given the stream seed (the model seed, or the trainer's per-step reseed) and
    // the call count since.
    const dropoutSeed =
      ((((this.dropoutBase % 2147483647) * 9973 + ++this.calls * 104729) % 2147483647) + 2147483647) % 2147483647;
    return { config: this.config, params: this.params, batch, training, dropoutSeed, capture: null };
  }

  losses(examples: EncodedExample[], variants: RowVariant[]): RowLosses {
    return this.rowLosses(examples, variants);
  }

  rowLosses(examples: EncodedExample[], variants: RowVariant[], choice: LayoutChoice = {}): RowLosses {
    const batch = this.batch(examples, variants, choice.compact ?? true);
    const o = { ...this.options(batch, false), inference: true };
    const losses = tf.tidy(() => forwardRowLosses(o, gatherInputs(this.params, this.config, batch, examples)));
    const values = losses.dataSync().slice() as Float32Array;
    losses.dispose();
    return { losses: values, answerTokens: batch.answerTokens.slice() };
  }

  weightedGradients(
    examples: EncodedExample[],
    variants: RowVariant[],
    weights: ArrayLike<number>,
    training: boolean,
  ): { result: RowLosses; grads: tf.Tensor[] } {
    return this.weightedGradientsWith(examples, variants, weights, training);
  }

  /** The call's rows and their passes (one pass unless the layout is compact and splitting is on). */
  private plan(
    examples: EncodedExample[],
    variants: RowVariant[],
    choice: LayoutChoice,
  ): { rows: RowLayout[]; passes: number[][] } {
    const compact = choice.compact ?? true;
    const rows = this.rowLayouts(examples, variants, compact);
    const split = compact && (choice.split ?? true);
    return {
      rows,
      passes: split
        ? planPasses(this.config, rows, {
            passOverheadFlops: choice.passOverheadFlops,
            passBytesBudget:
              choice.passBytesBudget ?? DEFAULT_PASS_BYTES[tf.getBackend() === 'wasm' ? 'wasm' : 'other'],
          })
        : [rows.map((_, i) => i)],
    };
  }

  weightedGradientsWith(
    examples: EncodedExample[],
    variants: RowVariant[],
    weights: ArrayLike<number>,
    training: boolean,
    choice: LayoutChoice = {},
  ): { result: RowLosses; grads: tf.Tensor[] } {
    const { rows, passes } = this.plan(examples, variants, choice);
    if (weights.length !== rows.length) throw new RangeError(`${weights.length} weights for ${rows.length} rows`);
    const vars = this.params.trainable;
    const losses = new Float32Array(rows.length);
    const answerTokens = new Int32Array(rows.length);
    let sum: tf.Tensor[] | null = null;
    for (const pass of passes) {
      const batch = buildBatchLayout(
        pass.map((r) => rows[r]),
        this.template.pad,
      );
      const passExamples = pass.map((r) => examples[r]);
      const o = this.options(batch, training);
      const w = tf.tensor1d(pass.map((r) => weights[r]));
      let passLosses: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const l = forwardRowLosses(o, gatherInputs(this.params, this.config, batch, passExamples));
        passLosses = tf.keep(l);
        return l.mul(w).sum() as tf.Scalar;
      }, vars);
      value.dispose();
      w.dispose();
      const lossTensor = passLosses as unknown as tf.Tensor1D;
      const values = lossTensor.dataSync();
      lossTensor.dispose();
      pass.forEach((r, i) => {
        losses[r] = values[i];
        answerTokens[r] = batch.answerTokens[i];
      });
      sum = accumulateGrads(
        sum,
        vars.map((v) => grads[v.name] ?? tf.zerosLike(v)),
      );
    }
    return { result: { losses, answerTokens }, grads: sum ?? vars.map((v) => tf.zerosLike(v)) };
  }

  perRowGradients(
    examples: EncodedExample[],
    variants: RowVariant[],
    training: boolean,
    pairs?: ReadonlyArray<readonly [number, number]>,
  ): PerRowGradients {
    return this.perRowGradientsWith(examples, variants, training, pairs);
  }

  perRowGradientsWith(
    examples: EncodedExample[],
    variants: RowVariant[],
    training: boolean,
    pairs?: ReadonlyArray<readonly [number, number]>,
    choice: LayoutChoice = {},
  ): PerRowGradients {
    const { rows, passes } = this.plan(examples, variants, { ...choice, compact: true });
    const groups = pairs === undefined ? undefined : pairGroups(rows.length, pairs);
    const captures: PassCapture[] = [];
    const pre = this.adapterFirstLayer(examples, rows);
    try {
      for (const pass of passes) {
        const batch = buildBatchLayout(
          pass.map((r) => rows[r]),
          this.template.pad,
        );
        const passExamples = pass.map((r) => examples[r]);
        const o = this.options(batch, training);
        // The embedding lookups stay outside the differentiated function: their per-row gradients are read off
        // the gradient w.r.t. the looked-up vectors (sparse), so no gather gradient is needed.
        const [tokEmb, posEmb] = tf.tidy(() => {
          const g = gatherInputs(this.params, this.config, batch, passExamples, false);
          return [g.tokEmb, g.posEmb];
        });
        const imgPre = pre === null || batch.imageRows.length === 0 ? undefined : pre.forBatch(batch, passExamples);
        const inputs = { tokEmb, posEmb, imgFeat: null, imgPre };
        try {
          // The outer tidy also frees what customGrad leaves behind in tf 4.22 (one tensor per probe).
          tf.tidy(() => {
            captures.push(
              capturePass(
                o,
                inputs,
                pass,
                passExamples.map((e) => e.image),
              ),
            );
          });
        } finally {
          inputs.tokEmb.dispose();
          inputs.posEmb.dispose();
          inputs.imgPre?.dispose();
        }
      }
    } catch (err) {
      captures.forEach(disposePassCapture);
      throw err;
    } finally {
      pre?.dispose();
    }
    return assemblePerRowGradients(this.params, rows.length, captures, groups);
  }

  /**
   * x·W1 + b1 of the adapter's first layer for every distinct (image, grid cell) of a call, once: a sample's
   * original and masked rows share their image tokens, and that C-wide product is the largest of the step.
   * `forBatch` gathers a pass's image rows from it (|imageRows| × imgLen × H, zero rows as padding).
   */
  private adapterFirstLayer(
    examples: EncodedExample[],
    rows: RowLayout[],
  ): { forBatch(batch: BatchLayout, passExamples: EncodedExample[]): tf.Tensor3D; dispose(): void } | null {
    const C = this.config.imageFeatureDim;
    const gg = this.config.imageGrid * this.config.imageGrid;
    const slot = new Map<Float32Array, number>();
    rows.forEach((row, r) => {
      const image = examples[r].image;
      if (row.imgIdx.length > 0 && image !== null && !slot.has(image)) slot.set(image, slot.size);
    });
    if (slot.size === 0) return null;
    const F = STACKED_IMAGES.take(slot.size * gg * C, false);
    for (const [image, u] of slot) F.set(image, u * gg * C);
    const { fc1 } = this.params;
    const z = tf.tidy(() => {
      const y = tf.matMul(tf.tensor2d(F, [slot.size * gg, C]), fc1.w);
      return fc1.b === null ? y : y.add(fc1.b);
    }) as tf.Tensor2D;
    const H = z.shape[1];
    return {
      forBatch: (batch, passExamples) => {
        const idx = new Int32Array(batch.imageRows.length * batch.imgLen).fill(-1);
        batch.imageRows.forEach((b, i) => {
          const base = slot.get(passExamples[b].image!)! * gg;
          batch.rows[b].imgIdx.forEach((g, j) => (idx[i * batch.imgLen + j] = base + g));
        });
        return tf.tidy(() => gatherRows(z, idx).reshape([batch.imageRows.length, batch.imgLen, H])) as tf.Tensor3D;
      },
      dispose: () => z.dispose(),
    };
  }

  perRowGradientsBruteForce(examples: EncodedExample[], variants: RowVariant[], training: boolean): PerRowGradients {
    const R = examples.length;
    const perRow: tf.Tensor[][] = [];
    const losses = new Float32Array(R);
    const answerTokens = new Int32Array(R);
    for (let r = 0; r < R; r++) {
      const { result, grads } = this.weightedGradientsWith([examples[r]], [variants[r]], [1], training);
      losses[r] = result.losses[0];
      answerTokens[r] = result.answerTokens[0];
      perRow.push(grads);
    }
    const flat = perRow.map((gs) => Float64Array.from(concatData(gs)));
    const gram = new Float64Array(R * R);
    for (let r = 0; r < R; r++) {
      for (let s = r; s < R; s++) {
        let dot = 0;
        for (let k = 0; k < flat[r].length; k++) dot += flat[r][k] * flat[s][k];
        gram[r * R + s] = dot;
        gram[s * R + r] = dot;
      }
    }
    return {
      losses,
      answerTokens,
      gram,
      combine: (weights) =>
        tf.tidy(() =>
          perRow[0].map((_, v) =>
            perRow.reduce((acc, gs, r) => acc.add(gs[v].mul(weights[r])), tf.zerosLike(perRow[0][v])),
          ),
        ),
      dispose: () => perRow.forEach((gs) => gs.forEach((g) => g.dispose())),
    };
  }

  hiddenStates(
    examples: EncodedExample[],
    variants: RowVariant[],
    choice: LayoutChoice = {},
  ): { rows: RowLayout[]; T: number; values: Float32Array } {
    const batch = this.batch(examples, variants, choice.compact ?? true);
    const o = { ...this.options(batch, false), inference: true };
    const h = tf.tidy(() => forwardHidden(o, gatherInputs(this.params, this.config, batch, examples)));
    const values = h.dataSync().slice() as Float32Array;
    h.dispose();
    return { rows: batch.rows, T: batch.T, values };
  }

  nextLogProbs(examples: EncodedExample[], mode: EvalMode, prefixes: number[][], reserve: number[]): Float32Array {
    if (this.disposed) throw new Error('KeyphraseLM used after dispose');
    const variant = plainVariant(mode);
    const rows = examples.map((e, i) =>
      buildRowLayout({ ...e, answer: Int32Array.from(prefixes[i]) }, variant, this.template, this.config, {
        compact: true,
        reserve: reserve[i],
      }),
    );
    const batch = buildBatchLayout(rows, this.template.pad);
    const o = this.options(batch, false);
    const logp = tf.tidy(() =>
      tf.logSoftmax(
        forwardLastLogits(
          o,
          gatherInputs(this.params, this.config, batch, examples),
          rows.map((r) => r.length - 1),
        ),
      ),
    );
    const values = logp.dataSync().slice() as Float32Array;
    logp.dispose();
    return values;
  }

  generate(examples: EncodedExample[], mode: EvalMode, options: DecodeOptions): Int32Array[] {
    return decode(this, examples, mode, options);
  }

  /** Incremental decoding with a key/value cache: the prompt runs once, each step runs one token per hypothesis. */
  decodeSession(examples: EncodedExample[], mode: EvalMode, maxNewTokens: number): DecodeSession {
    if (this.disposed) throw new Error('KeyphraseLM used after dispose');
    const variant = plainVariant(mode);
    const rows = examples.map((e) =>
      buildRowLayout({ ...e, answer: new Int32Array(0) }, variant, this.template, this.config, {
        compact: true,
        reserve: maxNewTokens,
      }),
    );
    const batch = buildBatchLayout(rows, this.template.pad);
    const o = this.options(batch, false);
    const promptLen = rows.map((r) => r.length);
    let cache: KvCache[] = [];
    let hypExample: number[] = examples.map((_, i) => i);
    let step = 0;
    const disposeCache = (): void => cache.forEach((c) => (c.k.dispose(), c.v.dispose()));
    const readLogProbs = (logits: tf.Tensor2D): Float32Array => {
      const logp = tf.tidy(() => tf.logSoftmax(logits));
      const values = logp.dataSync().slice() as Float32Array;
      logp.dispose();
      logits.dispose();
      return values;
    };
    return {
      first: () => {
        const out = tf.tidy(() => {
          const r = forwardPromptCache(
            o,
            gatherInputs(this.params, this.config, batch, examples),
            promptLen.map((n) => n - 1),
          );
          return pack(r.logits, r.cache);
        }) as tf.Tensor[];
        cache = unpackCache(out);
        return readLogProbs(out[0] as tf.Tensor2D);
      },
      next: (parents: number[], tokens: number[]) => {
        const H = parents.length;
        hypExample = parents.map((p) => hypExample[p]);
        const Tpast = batch.T + step;
        const bias = new Float32Array(H * (Tpast + 1));
        hypExample.forEach((e, h) => {
          for (let j = promptLen[e]; j < batch.T; j++) bias[h * (Tpast + 1) + j] = MASKED;
        });
        const positions = Int32Array.from(hypExample, (e) => promptLen[e] + step);
        const out = tf.tidy(() => {
          const past = reorderCache(cache, parents);
          const x = tf
            .gather(this.params.tokEmb, tf.tensor1d(Int32Array.from(tokens), 'int32'))
            .add(tf.gather(this.params.posEmb, tf.tensor1d(positions, 'int32')))
            .reshape([H, 1, this.config.dModel]) as tf.Tensor3D;
          const r = forwardStepCache(o, x, past, tf.tensor4d(bias, [H, 1, 1, Tpast + 1]));
          return pack(r.logits, r.cache);
        }) as tf.Tensor[];
        disposeCache();
        cache = unpackCache(out);
        step++;
        return readLogProbs(out[0] as tf.Tensor2D);
      },
      dispose: disposeCache,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.named.values()) v.dispose();
  }
}

/**
 * The key/value cache for the hypotheses `parents` (hypothesis h continues old hypothesis parents[h]). Greedy
 * decoding (and a beam whose order held) keeps every row where it was: the cache is used as it is. Otherwise whole
 * rows are copied: on wasm by gatherRows (one memcpy per row), as tf's GatherV2 moved ~100 MB/s there and took
 * 75 % of a validation's decoding (13 of 17.5 s for 32 rows of 310 slots, 16 tokens).
 */
function reorderCache(cache: KvCache[], parents: number[]): KvCache[] {
  const rows = cache.length === 0 ? 0 : cache[0].k.shape[0];
  if (parents.length === rows && parents.every((p, h) => p === h)) return cache;
  const idx = Int32Array.from(parents);
  const take = (t: tf.Tensor4D): tf.Tensor4D => {
    const [R, heads, T, dh] = t.shape;
    if (tf.getBackend() !== 'wasm') return tf.gather(t, tf.tensor1d(idx, 'int32'));
    return gatherRows(t.reshape([R, heads * T * dh]), idx).reshape([idx.length, heads, T, dh]);
  };
  return cache.map((c) => ({ k: take(c.k), v: take(c.v) }));
}

/** [logits, k0, v0, k1, v1, …]: a flat list tf.tidy can return. */
function pack(logits: tf.Tensor2D, cache: KvCache[]): tf.Tensor[] {
  return [logits, ...cache.flatMap((c) => [c.k, c.v])];
}

function unpackCache(packed: tf.Tensor[]): KvCache[] {
  const cache: KvCache[] = [];
  for (let i = 1; i < packed.length; i += 2)
    cache.push({ k: packed[i] as tf.Tensor4D, v: packed[i + 1] as tf.Tensor4D });
  return cache;
}

function concatData(tensors: tf.Tensor[]): Float32Array {
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, off);
    off += t.size;
  }
  return out;
}
