// Row layout: which tokens a row carries, in which order, with which position ids and which keys are visible.
// Pure JS (no tensors) so the masking semantics are testable on their own.
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from './contract';
import {
  keptImageIndices,
  keptTextIndices,
  mixSeed,
  pooledImageGroups,
  pooledTextGroups,
  randomKeptImageIndices,
  randomKeptTextIndices,
} from './masking';

/** A run of consecutive slots of a row; `start`/`len` index the row's token list or image list. */
export type Segment =
  | { kind: 'tok'; start: number; len: number }
  | { kind: 'img'; start: number; len: number }
  /** Feature compression: each group (indices relative to `start`) is averaged into one slot. */
  | { kind: 'tokPool'; start: number; len: number; groups: number[][] }
  | { kind: 'imgPool'; start: number; len: number; groups: number[][] };

export interface RowLayout {
  /** Token ids whose embeddings the row uses, in sequence order. */
  tokIds: number[];
  /** Image grid indices whose features the row uses, in sequence order (empty: no image span). */
  imgIdx: number[];
  segments: Segment[];
  /** Number of slots (sequence length of this row). */
  length: number;
  /** Position id of each slot (un-compacted row positions; pooled spans are compacted). */
  positions: number[];
  /** false = the slot's key is masked out (reference layout only; compacted rows drop masked slots). */
  keyValid: boolean[];
  /** Target answer ids; answer slot a sits at slot answerStart + a and is predicted from the slot before it. */
  answer: number[];
  answerStart: number;
  /** Slot indices of the post-text span (after masking/compaction) — for tests and diagnostics. */
  textSlots: number[];
  imageSlots: number[];
}

export interface LayoutOptions {
  /** true: drop masked tokens (positions kept); false: keep them as masked keys (reference semantics). */
  compact: boolean;
  /** Slots to leave free after the answer (decoding); the post text is truncated to fit maxPositions. */
  reserve?: number;
}

/** Builds one row: [prefix][image G²][text][instruction][answer], absent modality removed, spans masked. */
export function buildRowLayout(
  example: EncodedExample,
  variant: RowVariant,
  template: PromptTemplate,
  config: LmConfig,
  options: LayoutOptions,
): RowLayout {
  const grid = config.imageGrid;
  const hasImage = variant.mode !== 'text' && example.image !== null;
  const hasText = variant.mode !== 'image';
  if (hasImage && example.image!.length !== grid * grid * config.imageFeatureDim) {
    throw new RangeError(
      `example ${example.id}: image features have ${example.image!.length} values, expected G*G*C = ${grid}*${grid}*${config.imageFeatureDim}`,
    );
  }
  const answer = Array.from(example.answer);
  const fixed = template.prefix.length + template.instruction.length + answer.length + (options.reserve ?? 0);
  const imageLen = hasImage ? grid * grid : 0;
  let text = hasText ? Array.from(example.text) : [];
  const budget = config.maxPositions - fixed - imageLen;
  if (budget < 0 || (hasText && budget < 1 && text.length > 0)) {
    throw new RangeError(
      `example ${example.id}: prompt + answer need ${fixed + imageLen + Math.min(1, text.length)} positions, maxPositions is ${config.maxPositions}`,
    );
  }
  // Over-long posts keep their beginning: the prompt, image and answer never move.
  if (text.length > budget) text = text.slice(0, budget);

  const pool = variant.kind === 'pool';
  const tStride = hasText ? variant.textStride : 1;
  const iStride = hasImage ? variant.imageStride : 1;

  const row: RowLayout = {
    tokIds: [],
    imgIdx: [],
    segments: [],
    length: 0,
    positions: [],
    keyValid: [],
    answer,
    answerStart: 0,
    textSlots: [],
    imageSlots: [],
  };
  let pos = 0;
  const pushTokens = (ids: ArrayLike<number>): void => {
    if (ids.length === 0) return;
    row.segments.push({ kind: 'tok', start: row.tokIds.length, len: ids.length });
    for (let i = 0; i < ids.length; i++) {
      row.tokIds.push(ids[i]);
      row.positions.push(pos++);
      row.keyValid.push(true);
      row.length++;
    }
  };

  pushTokens(template.prefix);

  if (hasImage) {
    const all = grid * grid;
    if (pool && iStride > 1) {
      const groups = pooledImageGroups(grid, iStride);
      row.segments.push({ kind: 'imgPool', start: 0, len: all, groups });
      for (let i = 0; i < all; i++) row.imgIdx.push(i);
      for (let g = 0; g < groups.length; g++) pushSlot(row, pos++, true, row.imageSlots);
    } else {
      const kept = iStride > 1 ? keptImageSet(grid, iStride, variant) : null;
      const start = row.imgIdx.length;
      for (let i = 0; i < all; i++) {
        const visible = kept === null || kept.has(i);
        if (options.compact && !visible) {
          pos++;
          continue;
        }
        row.imgIdx.push(i);
        pushSlot(row, pos++, visible, row.imageSlots);
      }
      row.segments.push({ kind: 'img', start, len: row.imgIdx.length - start });
    }
  }

  if (hasText && text.length > 0) {
    if (pool && tStride > 1) {
      const groups = pooledTextGroups(text.length, tStride);
      row.segments.push({ kind: 'tokPool', start: row.tokIds.length, len: text.length, groups });
      row.tokIds.push(...text);
      for (let g = 0; g < groups.length; g++) pushSlot(row, pos++, true, row.textSlots);
    } else {
      const kept = tStride > 1 ? keptTextSet(text.length, tStride, variant) : null;
      const start = row.tokIds.length;
      for (let i = 0; i < text.length; i++) {
        const visible = kept === null || kept.has(i);
        if (options.compact && !visible) {
          pos++;
          continue;
        }
        row.tokIds.push(text[i]);
        pushSlot(row, pos++, visible, row.textSlots);
      }
      row.segments.push({ kind: 'tok', start, len: row.tokIds.length - start });
    }
  }

  pushTokens(template.instruction);
  row.answerStart = row.length;
  pushTokens(answer);
  return row;
}

function pushSlot(row: RowLayout, pos: number, visible: boolean, spanSlots: number[]): void {
  spanSlots.push(row.length);
  row.positions.push(pos);
  row.keyValid.push(visible);
  row.length++;
}

function keptTextSet(len: number, stride: number, v: RowVariant): Set<number> {
  return new Set(
    v.kind === 'random' ? randomKeptTextIndices(len, stride, mixSeed(v.seed, 1)) : keptTextIndices(len, stride),
  );
}

function keptImageSet(grid: number, stride: number, v: RowVariant): Set<number> {
  return new Set(
    v.kind === 'random' ? randomKeptImageIndices(grid, stride, mixSeed(v.seed, 2)) : keptImageIndices(grid, stride),
  );
}

/** Everything a batched forward needs, as flat typed arrays (row-major). */
export interface BatchLayout {
  rows: RowLayout[];
  R: number;
  /** Max slots per row. */
  T: number;
  /** Max token-list length per row. */
  tokLen: number;
  /** Batch rows that carry an image span, and the max image-list length. */
  imageRows: number[];
  imgLen: number;
  /** Max answer length (loss positions per row). */
  A: number;
  tokIds: Int32Array; // R × tokLen (pad id beyond each row)
  posIds: Int32Array; // R × T
  /** Additive attention bias R × T × T: 0 where query i may see key j (valid key, pos_j ≤ pos_i), else -1e9. */
  attnBias: Float32Array;
  /** One-hot R × A × T selecting the slot that predicts answer token a. */
  lossSelect: Float32Array;
  targets: Int32Array; // R × A
  /** 1 for real answer positions, divided by the row's answer count (so the masked sum is the row mean). */
  lossWeight: Float32Array; // R × A
  answerTokens: Int32Array;
}

export const MASKED = -1e9;

export function buildBatchLayout(rows: RowLayout[], pad: number): BatchLayout {
  const R = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.length));
  const tokLen = Math.max(1, ...rows.map((r) => r.tokIds.length));
  const imageRows = rows.flatMap((r, i) => (r.imgIdx.length > 0 ? [i] : []));
  const imgLen = Math.max(0, ...rows.map((r) => r.imgIdx.length));
  const A = Math.max(1, ...rows.map((r) => r.answer.length));
  const tokIds = new Int32Array(R * tokLen).fill(pad);
  const posIds = new Int32Array(R * T);
  const attnBias = new Float32Array(R * T * T).fill(MASKED);
  const lossSelect = new Float32Array(R * A * T);
  const targets = new Int32Array(R * A);
  const lossWeight = new Float32Array(R * A);
  const answerTokens = new Int32Array(R);
  rows.forEach((row, r) => {
    row.tokIds.forEach((id, i) => (tokIds[r * tokLen + i] = id));
    for (let i = 0; i < row.length; i++) posIds[r * T + i] = row.positions[i];
    for (let i = 0; i < T; i++) {
      const base = (r * T + i) * T;
      if (i >= row.length) {
        // Pad query: let it see itself only (finite softmax); it never reaches a loss.
        attnBias[base + i] = 0;
        continue;
      }
      let any = false;
      for (let j = 0; j < row.length; j++) {
        if (row.keyValid[j] && row.positions[j] <= row.positions[i]) {
          attnBias[base + j] = 0;
          any = true;
        }
      }
      // A masked query with no visible key (empty prefix) attends to itself; it never reaches a visible slot.
      if (!any) attnBias[base + i] = 0;
    }
    answerTokens[r] = row.answer.length;
    for (let a = 0; a < row.answer.length; a++) {
      const predictor = row.answerStart + a - 1;
      if (predictor < 0) throw new RangeError('an answer needs at least one prompt token before it');
      lossSelect[(r * A + a) * T + predictor] = 1;
      targets[r * A + a] = row.answer[a];
      lossWeight[r * A + a] = 1 / row.answer.length;
    }
  });
  return {
    rows,
    R,
    T,
    tokLen,
    imageRows,
    imgLen,
    A,
    tokIds,
    posIds,
    attnBias,
    lossSelect,
    targets,
    lossWeight,
    answerTokens,
  };
}
