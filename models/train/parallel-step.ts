// One optimizer step over K ranks. The batch is cut into K contiguous shards by sample (AimKP's filter is per
// sample, so a shard holds whole samples with all their rows); every rank computes its shard's gradient sum with the
// GLOBAL answer-token total N (standard: w_i = n_i / N; AimKP: Σ w_i g_i / N), so the shards' gradients add up to
// the whole batch's. Each rank writes its gradient into its shared slot; once all are written (step-barrier.ts),
// each sums one range of the slots in rank order (0, 1, …; float32 after each addition: the same bits whichever rank
// sums which range); once every range is in, each rank applies the same AdamW update to its own replica from the
// same sum, so all replicas stay bit-identical and no weights travel. The per-sample results are concatenated in
// batch order, and the AimKP stride moves are applied after the step in batch order.
// Rank 0 computes its shard on this thread while the workers compute theirs.
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, EvalMode, KeyphraseLM } from '../lm/contract';
import type { AimkpSettings } from '../run/train-config';
import { CoreError } from '../core-error';
import type { AdamW, StepInfo } from './adamw';
import { hashSeed } from './rng';
import type { StrideState } from './stride-state';
import { aimkpStep, standardStep, type StepGradient } from './train-step';
import { layoutIndices, sumSlots, tensorsOfFlat, writeFlat } from '../parallel/flat-vars';
import type { StepMethod, StepReply, StrideUpdate } from '../parallel/pool-protocol';
import type { Replicas } from '../parallel/replicas';
import { shardRanges } from '../parallel/shard-ranges';
import { abortStep, arrive, STEP_ABORTED, SUMMED, WRITTEN } from '../parallel/step-barrier';

export type ParallelStepMethod =
  | { kind: 'standard'; mode: EvalMode }
  | { kind: 'aimkp'; settings: AimkpSettings; strides: StrideState; seed: number; epoch: number };

export interface ParallelStepInput {
  /** Rank 0's model; its dropout stream was reseeded for this step by the caller. */
  model: KeyphraseLM;
  /** Rank 0's optimizer: the one the replicas were given (Replicas.setModel with its setup()). */
  optimizer: AdamW;
  /** The learning-rate factor of this step (the schedule's). */
  lrFactor: number;
  /** The example set the workers hold the batch's samples in, and each sample's position in it. */
  set: string;
  positions: number[];
  /** Rank 0's copies of the samples, in batch order. */
  batch: EncodedExample[];
  samplesPerCall: number;
  /** Dropout of rank r > 0: hashSeed(seed, step, 0xd5, r) (rank 0 keeps the single-thread seed). */
  seed: number;
  step: number;
  method: ParallelStepMethod;
}

/** The step's record (as a single-thread step's, without the gradient: it was applied) and the update's info. */
export interface ParallelStepResult extends Omit<StepGradient, 'grads'> {
  info: StepInfo;
}

export { shardRanges };

export async function parallelStep(replicas: Replicas, input: ParallelStepInput): Promise<ParallelStepResult> {
  const { batch, method, optimizer } = input;
  const layout = replicas.layout;
  if (optimizer.slots.length !== layout.names.length || optimizer.slots.some((s, i) => s.name !== layout.names[i]))
    throw new CoreError('INTERNAL', 'data-parallel step: the optimizer is not the one the replicas were given');
  const shards = shardRanges(batch.length, replicas.ranks);
  const ranks = shards.flatMap(([start, end], rank) => (end > start ? [rank] : []));
  const total = batch.reduce((s, e) => s + e.answer.length, 0);
  const version = replicas.version;
  const seq = replicas.nextStep();
  const control = replicas.stepControl;
  const pending: Promise<StepReply>[] = [];
  for (let rank = 1; rank < replicas.ranks; rank++) {
    const [start, end] = shards[rank];
    const shard = batch.slice(start, end);
    const m: StepMethod =
      method.kind === 'standard'
        ? method
        : {
            kind: 'aimkp',
            settings: method.settings,
            seed: method.seed,
            epoch: method.epoch,
            strides: shard.map((e) => [method.strides.get('text', e.index), method.strides.get('image', e.index)]),
          };
    // Every rank takes part, an empty shard too: it sums its range and applies the update like the others.
    const { reply } = replicas.request<StepReply>(rank, {
      t: 'step',
      set: input.set,
      samples: input.positions.slice(start, end),
      total,
      samplesPerCall: input.samplesPerCall,
      dropoutSeed: hashSeed(input.seed, input.step, 0xd5, rank),
      version,
      seq,
      ranks,
      lrFactor: input.lrFactor,
      method: m,
    });
    pending.push(reply);
  }
  // A worker's failure (its error, or WORKER_DIED) ends rank 0's waits at the barrier.
  const failed = new Promise<never>((_, reject) => pending.forEach((p) => p.catch(reject)));
  failed.catch(() => undefined);

  const own: StrideUpdate[] = [];
  let record: StepReply;
  let info: StepInfo;
  let replies: StepReply[];
  try {
    // Rank 0's shard, here, while the workers compute theirs.
    const [s0, e0] = shards[0];
    const g0 =
      method.kind === 'standard'
        ? standardStep(input.model, batch.slice(s0, e0), method.mode, input.samplesPerCall, total)
        : aimkpStep(input.model, batch.slice(s0, e0), {
            settings: method.settings,
            strides: {
              get: (modality, index) => method.strides.get(modality, index),
              update: (modality, index, accepted) => own.push({ modality, index, accepted }),
            },
            seed: method.seed,
            epoch: method.epoch,
            samplesPerCall: input.samplesPerCall,
            total,
          });
    try {
      const pick = layoutIndices(layout, input.model.trainableVariables(), input.model.namedVariables());
      writeFlat(
        pick.map((i) => g0.grads[i]),
        layout,
        replicas.gradient(0),
      );
    } finally {
      tf.dispose(g0.grads);
    }
    await arrive(control, WRITTEN, seq, replicas.ranks, failed);
    const [start, end] = shardRanges(layout.total, replicas.ranks)[0];
    sumSlots(
      ranks.map((r) => replicas.gradient(r)),
      replicas.sum,
      start,
      end,
    );
    await arrive(control, SUMMED, seq, replicas.ranks, failed);
    const grads = tensorsOfFlat(replicas.sum, layout);
    try {
      info = optimizer.apply(grads, input.lrFactor);
    } finally {
      tf.dispose(grads);
    }
    replies = await Promise.all(pending);
    record = {
      loss: g0.loss,
      variantLoss: g0.variantLoss,
      samples: g0.samples,
      accepted: g0.accepted,
      checked: g0.checked,
      rows: g0.rows,
      strideUpdates: own,
      gradNorm: info.gradNorm,
    };
  } catch (err) {
    abortStep(control);
    throw await rootCause(err, pending);
  }
  replicas.stepped();
  for (const [i, r] of replies.entries())
    if (r.gradNorm !== info.gradNorm)
      throw new CoreError(
        'INTERNAL',
        `data-parallel step: rank ${i + 1} applied an update with gradient norm ${r.gradNorm}, rank 0 ${info.gradNorm}: the replicas diverged`,
      );
  // The shards' records in batch order (rank order; empty shards left out).
  const parts = [record, ...replies].filter((_, rank) => ranks.includes(rank));
  if (method.kind === 'aimkp')
    for (const part of parts)
      for (const u of part.strideUpdates) method.strides.update(u.modality, u.index, u.accepted);
  return { info, ...combine(parts, shards) };
}

/**
 * The error to report for a failed step: when this rank only saw that another failed, that rank's own error (every
 * rank wakes once the step is aborted, so the replies settle soon).
 */
async function rootCause(err: unknown, pending: Promise<StepReply>[]): Promise<unknown> {
  const isEcho = (e: unknown) => e instanceof Error && e.message.includes(STEP_ABORTED);
  if (!isEcho(err)) return err;
  const settled = await Promise.allSettled(pending);
  const cause = settled.find((s) => s.status === 'rejected' && !isEcho(s.reason));
  return cause?.status === 'rejected' ? cause.reason : err;
}

/** The step record of the whole batch from its shards' (in rank order = batch order). */
function combine(parts: StepReply[], shards: [number, number][]): Omit<StepGradient, 'grads'> {
  const nonEmpty = shards.filter(([s, e]) => e > s);
  const mean = (kind: 'original' | 'text' | 'image') => {
    let sum = 0;
    let count = 0;
    parts.forEach((p, i) => {
      const n = kind === 'original' ? nonEmpty[i][1] - nonEmpty[i][0] : p.checked[kind];
      const m = p.variantLoss[kind];
      if (m === null || n === 0) return;
      sum += m * n;
      count += n;
    });
    return count === 0 ? null : sum / count;
  };
  return {
    loss: parts.reduce((s, p) => s + p.loss, 0),
    variantLoss: { original: mean('original') ?? 0, text: mean('text'), image: mean('image') },
    samples: parts.flatMap((p) => p.samples),
    accepted: {
      text: parts.reduce((s, p) => s + p.accepted.text, 0),
      image: parts.reduce((s, p) => s + p.accepted.image, 0),
    },
    checked: {
      text: parts.reduce((s, p) => s + p.checked.text, 0),
      image: parts.reduce((s, p) => s + p.checked.image, 0),
    },
    rows: parts.reduce((s, p) => s + p.rows, 0),
  };
}
