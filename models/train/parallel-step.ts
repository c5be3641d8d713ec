// One optimizer step's gradient over K ranks. The batch is cut into K contiguous shards by sample (AimKP's
// filter is per sample, so a shard holds whole samples with all their rows); every rank computes its shard's
// gradient sum with the GLOBAL answer-token total N (standard: w_i = n_i / N; AimKP: Σ w_i g_i / N), so the
// shards' gradients add up to the whole batch's. Sums are taken in a fixed order (rank 0, 1, …; each rank adds a
// range of the floats, so rank 0 does not add all K slots alone), the per-sample results are concatenated in batch
// order, and the AimKP stride moves are applied after the step in batch order.
// Rank 0 computes its shard on this thread while the workers compute theirs.
import * as tf from '@tensorflow/tfjs';
import type { EncodedExample, EvalMode, KeyphraseLM } from '../lm/contract';
import type { AimkpSettings } from '../run/train-config';
import { hashSeed } from './rng';
import type { StrideState } from './stride-state';
import { aimkpStep, standardStep, type StepGradient } from './train-step';
import { sumSlots, tensorsOfFlat, writeFlat } from '../parallel/flat-vars';
import type { StepMethod, StepReply, StrideUpdate } from '../parallel/pool-protocol';
import type { Replicas } from '../parallel/replicas';
import { shardRanges } from '../parallel/shard-ranges';

export type ParallelStepMethod =
  | { kind: 'standard'; mode: EvalMode }
  | { kind: 'aimkp'; settings: AimkpSettings; strides: StrideState; seed: number; epoch: number };

export interface ParallelStepInput {
  /** Rank 0's model; its dropout stream was reseeded for this step by the caller. */
  model: KeyphraseLM;
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

export { shardRanges };

export async function parallelStep(replicas: Replicas, input: ParallelStepInput): Promise<StepGradient> {
  const { batch, method } = input;
  const shards = shardRanges(batch.length, replicas.ranks);
  const total = batch.reduce((s, e) => s + e.answer.length, 0);
  const version = replicas.version;
  const pending: { rank: number; reply: Promise<StepReply> }[] = [];
  for (let rank = 1; rank < replicas.ranks; rank++) {
    const [start, end] = shards[rank];
    if (start === end) continue;
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
    const { reply } = replicas.request<StepReply>(rank, {
      t: 'step',
      set: input.set,
      samples: input.positions.slice(start, end),
      total,
      samplesPerCall: input.samplesPerCall,
      dropoutSeed: hashSeed(input.seed, input.step, 0xd5, rank),
      version,
      method: m,
    });
    pending.push({ rank, reply });
  }

  // Rank 0's shard, here, while the workers compute theirs.
  const [s0, e0] = shards[0];
  const own: StrideUpdate[] = [];
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

  let replies: StepReply[];
  try {
    writeFlat(g0.grads, replicas.layout, replicas.gradient(0));
    replies = await Promise.all(pending.map((p) => p.reply));
  } finally {
    tf.dispose(g0.grads);
  }
  const acc = await reduceSlots(
    replicas,
    pending.map((p) => p.rank),
  );
  const parts: StepReply[] = [{ ...g0, strideUpdates: own }, ...replies];
  if (method.kind === 'aimkp')
    for (const part of parts)
      for (const u of part.strideUpdates) method.strides.update(u.modality, u.index, u.accepted);
  return { grads: tensorsOfFlat(acc, replicas.layout), ...combine(parts, shards) };
}

/**
 * Σ of the slots of rank 0 and `ranks` (in that fixed order, float32 after each addition), computed by every rank
 * on its own range of the floats (rank 0 on the first, here): the same bits as one thread adding them in turn.
 * Returns the shared sum itself: read it before the next step overwrites it.
 */
async function reduceSlots(replicas: Replicas, ranks: number[]): Promise<Float32Array> {
  const slots = [0, ...ranks].map((r) => replicas.gradient(r));
  const ranges = shardRanges(replicas.layout.total, replicas.ranks);
  const replies: Promise<unknown>[] = [];
  for (let rank = 1; rank < replicas.ranks; rank++) {
    const [start, end] = ranges[rank];
    if (start < end) replies.push(replicas.request(rank, { t: 'reduce', start, end, ranks: [0, ...ranks] }).reply);
  }
  sumSlots(slots, replicas.sum, ranges[0][0], ranges[0][1]);
  await Promise.all(replies);
  return replicas.sum;
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
