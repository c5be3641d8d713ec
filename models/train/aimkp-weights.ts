// The AimKP update rule (SPEC §1, as released), as pure functions of the per-row Gram matrix:
// - cos(g_orig, g_masked) = G[o,m] / sqrt(G[o,o]·G[m,m]) over all trainable parameters;
// - a masked row is kept when cos ≥ tau (tau_t text, tau_v image), or always when the filter is off; its
//   stride advances (doubles) only when cos > tau strictly — at cos == tau the row counts but the stride takes
//   the rejection transition (the released code's two comparisons; docs/training.md "Tie rule");
// - a sample's update is the mean of its kept rows' gradients (original always kept) times its answer
//   tokens n_i; the batch sum is divided by the batch's total answer tokens N.
// So row r of sample i gets weight w_r = n_i / (k_i · N) when kept (k_i = kept rows of i), 0 when rejected.

export type RowKind = 'original' | 'text' | 'image';

export interface PlannedRow {
  /** Position of the sample in the batch. */
  sample: number;
  kind: RowKind;
}

export interface FilterSettings {
  filter: boolean;
  tauText: number;
  tauImage: number;
}

export interface SampleDecision {
  cosText: number | null;
  cosImage: number | null;
  /** The masked row counts in the update (cos ≥ tau, or filter off); null = no such row. */
  acceptText: boolean | null;
  acceptImage: boolean | null;
  /** The stride moves up after this visit (cos > tau strictly, or filter off); null = no such row. */
  advanceText: boolean | null;
  advanceImage: boolean | null;
  /** Rows that count (1–3). */
  kept: number;
  /** Answer tokens of the sample (its original row). */
  answerTokens: number;
}

export interface AimkpWeighting {
  /** One weight per row, for combine(weights) (already divided by the total answer tokens). */
  weights: Float64Array;
  decisions: SampleDecision[];
  totalAnswerTokens: number;
}

/** Cosine of rows a and b from a row-major R×R Gram matrix; 0 when a gradient is zero (torch's eps rule). */
export function gramCosine(gram: ArrayLike<number>, rows: number, a: number, b: number): number {
  const denom = Math.sqrt(gram[a * rows + a] * gram[b * rows + b]);
  return gram[a * rows + b] / Math.max(denom, 1e-8);
}

/** Whether the masked row counts in the update: cos ≥ tau (or always, with the filter off). */
export function keepMasked(cos: number, tau: number, filter: boolean): boolean {
  return !filter || cos >= tau;
}

/** Whether the masked row's stride advances after the visit: cos > tau strictly (or always, with the filter off). */
export function advanceStride(cos: number, tau: number, filter: boolean): boolean {
  return !filter || cos > tau;
}

/**
 * Row weights for a batch. `rows` lists every row (each sample exactly one 'original' row), `gram` is the
 * R×R Gram matrix of their gradients and `answerTokens` the per-row answer-token counts. `totalTokens`
 * defaults to the sum of the samples' answer tokens; pass 1 to get the un-normalized weights n_i / k_i
 * (the trainer does, when a batch is split over several calls, and divides the summed gradient by N).
 */
export function aimkpWeights(
  rows: readonly PlannedRow[],
  gram: ArrayLike<number>,
  answerTokens: ArrayLike<number>,
  settings: FilterSettings,
  totalTokens?: number,
): AimkpWeighting {
  const R = rows.length;
  if (gram.length !== R * R) throw new Error(`aimkpWeights: Gram matrix has ${gram.length} entries for ${R} rows`);
  const nSamples = rows.reduce((m, r) => Math.max(m, r.sample + 1), 0);
  const original = new Array<number>(nSamples).fill(-1);
  rows.forEach((r, i) => {
    if (r.kind === 'original') {
      if (original[r.sample] !== -1) throw new Error(`aimkpWeights: sample ${r.sample} has two original rows`);
      original[r.sample] = i;
    }
  });
  if (original.some((o) => o === -1)) throw new Error('aimkpWeights: every sample needs an original row');

  const decisions: SampleDecision[] = original.map((o) => ({
    cosText: null,
    cosImage: null,
    acceptText: null,
    acceptImage: null,
    advanceText: null,
    advanceImage: null,
    kept: 1,
    answerTokens: answerTokens[o],
  }));
  const kept = new Array<boolean>(R).fill(false);
  rows.forEach((r, i) => {
    const d = decisions[r.sample];
    if (r.kind === 'original') {
      kept[i] = true;
      return;
    }
    const cos = gramCosine(gram, R, original[r.sample], i);
    const tau = r.kind === 'text' ? settings.tauText : settings.tauImage;
    const accept = keepMasked(cos, tau, settings.filter);
    const advance = advanceStride(cos, tau, settings.filter);
    if (r.kind === 'text') {
      d.cosText = cos;
      d.acceptText = accept;
      d.advanceText = advance;
    } else {
      d.cosImage = cos;
      d.acceptImage = accept;
      d.advanceImage = advance;
    }
    kept[i] = accept;
    if (accept) d.kept += 1;
  });
  const total = totalTokens ?? decisions.reduce((s, d) => s + d.answerTokens, 0);
  const weights = new Float64Array(R);
  rows.forEach((r, i) => {
    if (!kept[i]) return;
    const d = decisions[r.sample];
    weights[i] = d.answerTokens / (d.kept * total);
  });
  return { weights, decisions, totalAnswerTokens: total };
}
