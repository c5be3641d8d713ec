// Per-sample masking strides of AimKP (SPEC §1 "Per-sample stride state", as released), plus the stride
// rules of the paper's ablations. One map per modality, indexed by the sample's dense index in the train split.
// The rule names and options are config (models/run/train-config.ts StrideOptions); what they do is here.
import type { StrideOptions } from '../run/train-config';

export type Modality = 'text' | 'image';

export interface StrideStateJson {
  strideText: number[];
  strideImage: number[];
  frozenText: boolean[];
  frozenImage: boolean[];
}

export class StrideState {
  readonly text: Int32Array;
  readonly image: Int32Array;
  readonly frozenText: Uint8Array;
  readonly frozenImage: Uint8Array;

  constructor(
    readonly size: number,
    readonly options: StrideOptions,
  ) {
    if (options.rule === 'fixed' && !(Number.isInteger(options.fixedStride) && options.fixedStride >= 2)) {
      throw new Error(`fixed stride must be an integer ≥ 2, got ${options.fixedStride}`);
    }
    const start = options.warmup ? 1 : firstMasked(options);
    this.text = new Int32Array(size).fill(start);
    this.image = new Int32Array(size).fill(start);
    this.frozenText = new Uint8Array(size);
    this.frozenImage = new Uint8Array(size);
  }

  get(modality: Modality, index: number): number {
    return (modality === 'text' ? this.text : this.image)[index];
  }

  isFrozen(modality: Modality, index: number): boolean {
    return (modality === 'text' ? this.frozenText : this.frozenImage)[index] === 1;
  }

  /**
   * Applies the rule after the sample was seen. `accepted` is whether the stride ADVANCES: cos > tau strictly
   * for its masked row of that modality (aimkp-weights.ts advanceStride; a row at cos == tau is kept in the
   * update but takes the rejection transition here). Ignored when the stride was 1 (no masked row, no check).
   */
  update(modality: Modality, index: number, accepted: boolean): void {
    const map = modality === 'text' ? this.text : this.image;
    const frozen = modality === 'text' ? this.frozenText : this.frozenImage;
    const s = map[index];
    map[index] = nextStride(s, frozen[index] === 1, accepted, this.options);
    // A rejection after a real check freezes the stride (fixed strides never move, so never freeze).
    if (s > 1 && !accepted && this.options.rule !== 'fixed') frozen[index] = 1;
  }

  /** Count of samples per stride value, e.g. { "2": 10, "4": 3 }. */
  histogram(modality: Modality): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of modality === 'text' ? this.text : this.image) out[String(s)] = (out[String(s)] ?? 0) + 1;
    return out;
  }

  frozenCount(modality: Modality): number {
    let n = 0;
    for (const f of modality === 'text' ? this.frozenText : this.frozenImage) n += f;
    return n;
  }

  toJSON(): StrideStateJson {
    return {
      strideText: Array.from(this.text),
      strideImage: Array.from(this.image),
      frozenText: Array.from(this.frozenText, (f) => f === 1),
      frozenImage: Array.from(this.frozenImage, (f) => f === 1),
    };
  }

  static fromJSON(json: StrideStateJson, options: StrideOptions, where = 'state.json'): StrideState {
    const n = json.strideText?.length;
    for (const key of ['strideText', 'strideImage', 'frozenText', 'frozenImage'] as const) {
      if (!Array.isArray(json[key]) || json[key].length !== n)
        throw new Error(`${where}: field "${key}" must be an array of ${n} entries`);
    }
    const state = new StrideState(n, options);
    for (let i = 0; i < n; i++) {
      const t = json.strideText[i];
      const v = json.strideImage[i];
      if (!Number.isInteger(t) || t < 1 || !Number.isInteger(v) || v < 1)
        throw new Error(`${where}: stride of sample ${i} is not a positive integer`);
      state.text[i] = t;
      state.image[i] = v;
      state.frozenText[i] = json.frozenText[i] ? 1 : 0;
      state.frozenImage[i] = json.frozenImage[i] ? 1 : 0;
    }
    return state;
  }
}

function firstMasked(options: StrideOptions): number {
  return options.rule === 'fixed' ? options.fixedStride : 2;
}

/** The stride for the sample's next visit. */
export function nextStride(s: number, frozen: boolean, accepted: boolean, options: StrideOptions): number {
  if (s === 1) return firstMasked(options); // warm-up visit: no check
  if (frozen) return s;
  switch (options.rule) {
    case 'fixed':
      return s;
    case 'progressive':
      return accepted ? 2 * s : Math.max(Math.floor(s / 2), 2);
    case 'linear':
      return accepted ? s + 1 : Math.max(s - 1, 2);
  }
}
