// One optimizer step's gradient: the standard (token-weighted) path and the AimKP path (row planning,
// per-row gradients, cosine filter, weighting, stride transitions). Returns the summed gradient; the
// caller applies it with AdamW.
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, EvalMode, KeyphraseLM, PerRowGradients, RowVariant } from '../lm/contract';
import type { StepEvent, StepSampleRecord } from '../../shared/training-events';
import { accumulateGrads } from '../lm/ops';
import { hashSeed } from './rng';
import { aimkpWeights, type PlannedRow, type RowKind } from './aimkp-weights';
import type { StrideState } from './stride-state';
import type { AimkpSettings } from '../run/train-config';

/** A step's gradient plus the per-step record the trainer emits (the step event's fields of the same names). */
export interface StepGradient extends Pick<
  StepEvent,
  'loss' | 'variantLoss' | 'samples' | 'accepted' | 'checked' | 'rows'
> {
  /** Gradient of the step objective, one tensor per trainable variable (caller disposes). */
  grads: tf.Tensor[];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function scaleAll(grads: tf.Tensor[], factor: number): tf.Tensor[] {
  return grads.map((g) => {
    const s = tf.mul(g, factor);
    g.dispose();
    return s;
  });
}

class LossMeans {
  private sum: Record<RowKind, number> = { original: 0, text: 0, image: 0 };
  private count: Record<RowKind, number> = { original: 0, text: 0, image: 0 };
  add(kind: RowKind, loss: number): void {
    this.sum[kind] += loss;
    this.count[kind] += 1;
  }
  means(): StepGradient['variantLoss'] {
    const m = (k: RowKind) => (this.count[k] === 0 ? null : this.sum[k] / this.count[k]);
    return { original: m('original') ?? 0, text: m('text'), image: m('image') };
  }
}

/**
 * Standard fine-tuning: one row per sample, weights n_i / N (token-weighted mean of the row losses).
 * `total`: N when `batch` is one shard of a larger batch (data parallelism); default the batch's own.
 */
export function standardStep(
  model: KeyphraseLM,
  batch: EncodedExample[],
  mode: EvalMode,
  samplesPerCall: number,
  total: number = answerTokensOf(batch),
): StepGradient {
  let grads: tf.Tensor[] | null = null;
  let loss = 0;
  const means = new LossMeans();
  try {
    for (const part of chunks(batch, samplesPerCall)) {
      const variants: RowVariant[] = part.map(() => ({
        mode,
        textStride: 1,
        imageStride: 1,
        kind: 'structured',
        seed: 0,
      }));
      const weights = part.map((e) => e.answer.length / total);
      const { result, grads: g } = model.weightedGradients(part, variants, weights, true);
      // Accumulated before the check, so that a failing check frees this call's gradient with the rest.
      grads = accumulateGrads(grads, g);
      checkAnswerTokens(part, result.answerTokens);
      part.forEach((_, i) => {
        loss += weights[i] * result.losses[i];
        means.add('original', result.losses[i]);
      });
    }
  } catch (err) {
    if (grads) tf.dispose(grads);
    throw err;
  }
  return {
    grads: grads ?? [],
    loss,
    variantLoss: means.means(),
    samples: [],
    accepted: { text: 0, image: 0 },
    checked: { text: 0, image: 0 },
    rows: batch.length,
  };
}

function answerTokensOf(batch: readonly EncodedExample[]): number {
  return batch.reduce((s, e) => s + e.answer.length, 0);
}

/** The token weighting assumes the model scores every answer token; a silent truncation would skew it. */
function checkAnswerTokens(part: EncodedExample[], answerTokens: Int32Array): void {
  part.forEach((e, i) => {
    if (answerTokens[i] !== e.answer.length) {
      throw new Error(
        `sample "${e.id}": the model scored ${answerTokens[i]} answer tokens, expected ${e.answer.length}`,
      );
    }
  });
}

/** What a step reads and moves of the stride maps (a shard's step records the moves for rank 0 to apply). */
export type StrideView = Pick<StrideState, 'get' | 'update'>;

export interface AimkpStepContext {
  settings: AimkpSettings;
  strides: StrideView;
  /** Seeds random masks: hash(seed, epoch, sample index, modality). */
  seed: number;
  epoch: number;
  samplesPerCall: number;
  /** N when `batch` is one shard of a larger batch (data parallelism); default the batch's own. */
  total?: number;
}

/** The AimKP step (SPEC §1): plans ≤3 rows per sample, filters by gradient cosine, updates strides. */
export function aimkpStep(model: KeyphraseLM, batch: EncodedExample[], ctx: AimkpStepContext): StepGradient {
  const { settings, strides } = ctx;
  const total = ctx.total ?? answerTokensOf(batch);
  let grads: tf.Tensor[] | null = null;
  let loss = 0;
  let rowCount = 0;
  const means = new LossMeans();
  const samples: StepSampleRecord[] = [];
  const accepted = { text: 0, image: 0 };
  const checked = { text: 0, image: 0 };

  // A call that fails (bad row, out of memory) frees the gradient accumulated over the earlier calls.
  try {
    for (const part of chunks(batch, ctx.samplesPerCall)) {
      const rows: PlannedRow[] = [];
      const variants: RowVariant[] = [];
      const examples: EncodedExample[] = [];
      const plan = part.map((e, i) => {
        const sT = strides.get('text', e.index);
        const sV = strides.get('image', e.index);
        const textRow = settings.maskText && sT > 1 && e.text.length > 0;
        const imageRow = settings.maskImage && sV > 1 && e.image !== null;
        const push = (kind: RowKind, variant: RowVariant) => {
          rows.push({ sample: i, kind });
          variants.push(variant);
          examples.push(e);
        };
        push('original', { mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 });
        if (textRow)
          push('text', {
            mode: 'multimodal',
            textStride: sT,
            imageStride: 1,
            kind: settings.maskKind,
            seed: hashSeed(ctx.seed, ctx.epoch, e.index, 1),
          });
        if (imageRow)
          push('image', {
            mode: 'multimodal',
            textStride: 1,
            imageStride: sV,
            kind: settings.maskKind,
            seed: hashSeed(ctx.seed, ctx.epoch, e.index, 2),
          });
        return { sT, sV, textRow, imageRow };
      });

      // Only the diagonal and each sample's (original, masked) entries are read: ask for just those.
      const origRow = new Map<number, number>();
      rows.forEach((r, i) => r.kind === 'original' && origRow.set(r.sample, i));
      const pairs = rows.flatMap((r, i): [number, number][] =>
        r.kind === 'original' ? [] : [[origRow.get(r.sample)!, i]],
      );
      const prg = rowGradients(model, examples, variants, pairs);
      try {
        const origIdx = rows.map((r, i) => (r.kind === 'original' ? i : -1)).filter((i) => i >= 0);
        checkAnswerTokens(
          part,
          Int32Array.from(origIdx, (i) => prg.answerTokens[i]),
        );
        // totalTokens = 1: weights n_i / k_i; the sum over all calls is divided by N below.
        const w = aimkpWeights(rows, prg.gram, prg.answerTokens, settings, 1);
        rows.forEach((r, i) => {
          means.add(r.kind, prg.losses[i]);
          loss += (w.weights[i] * prg.losses[i]) / total;
        });
        grads = accumulateGrads(grads, prg.combine(w.weights));
        rowCount += rows.length;

        part.forEach((e, i) => {
          const d = w.decisions[i];
          const p = plan[i];
          samples.push({
            index: e.index,
            strideText: p.textRow ? p.sT : 1,
            strideImage: p.imageRow ? p.sV : 1,
            cosText: d.cosText,
            cosImage: d.cosImage,
            acceptText: d.acceptText,
            acceptImage: d.acceptImage,
          });
          if (p.textRow) {
            checked.text += 1;
            if (d.acceptText) accepted.text += 1;
          }
          if (p.imageRow) {
            checked.image += 1;
            if (d.acceptImage) accepted.image += 1;
          }
          // Stride transitions (advance = cos > tau strictly; a row at cos == tau is kept but does not advance): a warm-up visit (s = 1) moves to the first masked stride without a check;
          // a disabled or absent modality keeps its stride.
          if (settings.maskText && e.text.length > 0 && (p.sT === 1 || p.textRow))
            strides.update('text', e.index, d.advanceText ?? true);
          if (settings.maskImage && e.image !== null && (p.sV === 1 || p.imageRow))
            strides.update('image', e.index, d.advanceImage ?? true);
        });
      } finally {
        prg.dispose();
      }
    }
  } catch (err) {
    if (grads) tf.dispose(grads);
    throw err;
  }
  return {
    grads: scaleAll(grads ?? [], 1 / total),
    loss,
    variantLoss: means.means(),
    samples,
    accepted,
    checked,
    rows: rowCount,
  };
}

/**
 * Per-row gradients for one call. With no masked row (the warm-up epoch) the filter has no cosine to compute and
 * every sample's weight is its answer-token count, so one plain weighted backward gives the same update at the
 * baseline's cost.
 */
function rowGradients(
  model: KeyphraseLM,
  examples: EncodedExample[],
  variants: RowVariant[],
  pairs: [number, number][],
): PerRowGradients {
  if (pairs.length > 0) return model.perRowGradients(examples, variants, true, pairs);
  const planned = examples.map((e) => e.answer.length);
  const { result, grads } = model.weightedGradients(examples, variants, planned, true);
  let handedOver = false;
  return {
    ...result,
    gram: new Float64Array(examples.length * examples.length),
    combine(weights: ArrayLike<number>): tf.Tensor[] {
      if (handedOver) throw new Error('rowGradients: combine() may be called once on an unmasked call');
      for (let i = 0; i < planned.length; i++) {
        if (Math.abs(weights[i] - planned[i]) > 1e-9 * Math.max(1, planned[i])) {
          throw new Error(
            `rowGradients: weight ${weights[i]} of unmasked row ${i} differs from its token count ${planned[i]}`,
          );
        }
      }
      handedOver = true;
      return grads;
    },
    dispose(): void {
      if (!handedOver) tf.dispose(grads);
    },
  };
}
