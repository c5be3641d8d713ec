// The test-time robustness suite: named conditions that perturb encoded examples, and their scores.
import type { EncodedExample, EvalMode } from '../lm/contract';
import type { ReportMetric } from '../../shared/vocabulary';
import { createRng, type Rng } from './rng';
import {
  addGaussianNoise,
  featureStd,
  gridStridePositions,
  keepPositionsForRatio,
  keepTextTokens,
  shiftDerangement,
  textStridePositions,
  zeroImageTokens,
  type KeepPattern,
} from './perturb';
import { aimkpHeadline, type HeadlineScores } from './score-predictions';

export type ConditionFamily =
  | 'clean'
  | 'image-mask'
  | 'text-mask'
  | 'image-stride'
  | 'text-stride'
  | 'image-removed'
  | 'text-removed'
  | 'image-swap'
  | 'text-swap'
  | 'image-noise';

export interface RobustnessCondition {
  /** e.g. "image-mask@0.5", "image-noise@1". */
  name: string;
  family: ConditionFamily;
  /** Mask ratio, stride or σ (relative to the feature std); null for the others. */
  level: number | null;
  /** The prompt the LM decodes with. */
  mode: EvalMode;
  /** Builds the perturbed copies (lazily: one condition's features in memory at a time). */
  build(): EncodedExample[];
}

export interface SuiteOptions {
  /** Mask ratios for both modalities (0 is the clean condition). */
  ratios: number[];
  /** Training-style structured strides, both modalities. */
  strides: number[];
  /** Gaussian noise σ as multiples of the features' std. */
  sigmas: number[];
  pattern: KeepPattern;
  seed: number;
  /** G of the G×G image grid. */
  grid: number;
}

export const DEFAULT_SUITE: Omit<SuiteOptions, 'grid'> = {
  ratios: [0, 0.25, 0.5, 0.75, 0.9],
  strides: [2, 4],
  sigmas: [0.5, 1, 2],
  pattern: 'random',
  seed: 1,
};

/**
 * The suite's settings: DEFAULT_SUITE with the fields that are given. A field present but undefined (a request
 * that passes `{ ratios: o.ratios }` through without setting it) keeps its default: spreading the partial over the
 * defaults would let `undefined` replace them.
 */
export function suiteWithDefaults(given: Partial<Omit<SuiteOptions, 'grid'>> = {}): Omit<SuiteOptions, 'grid'> {
  return {
    ratios: given.ratios ?? DEFAULT_SUITE.ratios,
    strides: given.strides ?? DEFAULT_SUITE.strides,
    sigmas: given.sigmas ?? DEFAULT_SUITE.sigmas,
    pattern: given.pattern ?? DEFAULT_SUITE.pattern,
    seed: given.seed ?? DEFAULT_SUITE.seed,
  };
}

/** A seed per condition name, so that adding a condition does not change the others' draws. */
function conditionRng(seed: number, name: string): Rng {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return createRng(h >>> 0);
}

const withImage = (e: EncodedExample, image: Float32Array | null): EncodedExample => ({ ...e, image });
const withText = (e: EncodedExample, text: Int32Array): EncodedExample => ({ ...e, text });

/**
 * The suite's conditions for `examples` (the clean, encoded split). Every condition decodes the
 * multimodal prompt except "text-only" / "image-only" (a modality removed from the prompt).
 */
export function buildConditions(examples: readonly EncodedExample[], o: SuiteOptions): RobustnessCondition[] {
  const tokens = o.grid * o.grid;
  const list: RobustnessCondition[] = [];
  const add = (
    name: string,
    family: ConditionFamily,
    level: number | null,
    mode: EvalMode,
    build: (rng: Rng) => EncodedExample[],
  ) => list.push({ name, family, level, mode, build: () => build(conditionRng(o.seed, name)) });

  add('clean', 'clean', null, 'multimodal', () => [...examples]);
  // Grouped by family so that each curve reads top to bottom.
  const ratios = o.ratios.filter((x) => x > 0);
  const strides = o.strides.filter((x) => x > 1);
  for (const r of ratios) {
    add(`image-mask@${r}`, 'image-mask', r, 'multimodal', (rng) =>
      examples.map((e) =>
        e.image === null
          ? e
          : withImage(e, zeroImageTokens(e.image, tokens, keepPositionsForRatio(tokens, r, o.pattern, rng))),
      ),
    );
  }
  for (const s of strides) {
    add(`image-stride@${s}`, 'image-stride', s, 'multimodal', () =>
      examples.map((e) =>
        e.image === null ? e : withImage(e, zeroImageTokens(e.image, tokens, gridStridePositions(o.grid, s))),
      ),
    );
  }
  for (const r of ratios) {
    add(`text-mask@${r}`, 'text-mask', r, 'multimodal', (rng) =>
      examples.map((e) => withText(e, keepTextTokens(e.text, keepPositionsForRatio(e.text.length, r, o.pattern, rng)))),
    );
  }
  for (const s of strides) {
    add(`text-stride@${s}`, 'text-stride', s, 'multimodal', () =>
      examples.map((e) => withText(e, keepTextTokens(e.text, textStridePositions(e.text.length, s)))),
    );
  }
  add('text-only', 'image-removed', null, 'text', () => [...examples]);
  add('image-only', 'text-removed', null, 'image', () => [...examples]);
  add('image-swap', 'image-swap', null, 'multimodal', (rng) => swapImages(examples, rng));
  add('text-swap', 'text-swap', null, 'multimodal', (rng) => swapTexts(examples, rng));
  if (o.sigmas.length > 0) {
    const std = featureStd(examples.flatMap((e) => (e.image ? [e.image] : [])));
    for (const sigma of o.sigmas) {
      add(`image-noise@${sigma}`, 'image-noise', sigma, 'multimodal', (rng) =>
        examples.map((e) => (e.image === null ? e : withImage(e, addGaussianNoise(e.image, sigma * std, rng)))),
      );
    }
  }
  return list;
}

/** Each item with an image gets another item's image (a seeded cyclic derangement over the items that have one). */
export function swapImages(examples: readonly EncodedExample[], rng: Rng): EncodedExample[] {
  const pool = examples.map((e, i) => (e.image === null ? -1 : i)).filter((i) => i >= 0);
  const donor = shiftDerangement(pool.length, rng);
  const out = [...examples];
  pool.forEach((target, j) => (out[target] = withImage(examples[target], examples[pool[donor[j]]].image)));
  return out;
}

/** Each item gets another item's post text (a seeded cyclic derangement over all items). */
export function swapTexts(examples: readonly EncodedExample[], rng: Rng): EncodedExample[] {
  const donor = shiftDerangement(examples.length, rng);
  return examples.map((e, i) => withText(e, examples[donor[i]].text));
}

export interface ConditionResult {
  name: string;
  family: ConditionFamily;
  level: number | null;
  mode: EvalMode;
  n: number;
  /** AimKP convention, fractions. */
  aimkp: Pick<HeadlineScores, 'f1@1' | 'f1@3' | 'map@5'>;
  seconds: number;
}

export interface RobustnessReport {
  run: string;
  split: string;
  decode: 'greedy';
  maskPattern: KeepPattern;
  seed: number;
  n: number;
  featureStd: number;
  conditions: ConditionResult[];
  createdAt: string;
}

/** Decodes keyphrase lists for examples with a prompt mode (the model side). */
export type DecodeFn = (examples: EncodedExample[], mode: EvalMode) => Promise<string[][]>;

/** Runs every condition with `decode` and scores it against `gold` (aligned with the examples). */
export async function runSuite(
  conditions: readonly RobustnessCondition[],
  gold: readonly string[][],
  decode: DecodeFn,
  onCondition?: (r: ConditionResult, i: number) => void,
): Promise<ConditionResult[]> {
  const out: ConditionResult[] = [];
  for (const [i, c] of conditions.entries()) {
    const t0 = performance.now();
    const examples = c.build();
    const preds = await decode(examples, c.mode);
    const s = aimkpHeadline(gold, preds);
    const r: ConditionResult = {
      name: c.name,
      family: c.family,
      level: c.level,
      mode: c.mode,
      n: examples.length,
      aimkp: { 'f1@1': s['f1@1'], 'f1@3': s['f1@3'], 'map@5': s['map@5'] },
      seconds: (performance.now() - t0) / 1000,
    };
    out.push(r);
    onCondition?.(r, i);
  }
  return out;
}

/** Markdown table of a report: one row per condition, delta F1@3 against the clean condition. */
export function robustnessMarkdown(r: RobustnessReport): string {
  const clean = r.conditions.find((c) => c.family === 'clean');
  const pct = (x: number) => (100 * x).toFixed(2);
  const lines = [
    `Robustness of ${r.run} on ${r.split} (n=${r.n}; greedy decoding; AimKP convention, %; mask pattern ${r.maskPattern}, seed ${r.seed}; noise σ in units of the feature std ${r.featureStd.toPrecision(4)})`,
    '',
    '| condition | prompt | F1@1 | F1@3 | MAP@5 | ΔF1@3 vs clean |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const c of r.conditions) {
    const delta = clean ? (100 * (c.aimkp['f1@3'] - clean.aimkp['f1@3'])).toFixed(2) : '';
    lines.push(
      `| ${c.name} | ${c.mode} | ${pct(c.aimkp['f1@1'])} | ${pct(c.aimkp['f1@3'])} | ${pct(c.aimkp['map@5'])} | ${c.family === 'clean' ? '—' : delta} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The headline metrics (shared/vocabulary.ts REPORT_METRICS). */
export type RobustnessMetric = ReportMetric;

/** Several runs' suites side by side: one row per condition (union, first report's order), one column per run. */
export function robustnessCompareMarkdown(reports: readonly RobustnessReport[], metric: RobustnessMetric): string {
  const names: string[] = [];
  for (const r of reports) for (const c of r.conditions) if (!names.includes(c.name)) names.push(c.name);
  const label = metric === 'map@5' ? 'MAP@5' : metric.toUpperCase();
  const lines = [
    `${label} by condition (AimKP convention, %, greedy decoding); columns: runs (split, n)`,
    '',
    `| condition | ${reports.map((r) => `${r.run} (${r.split}, n=${r.n})`).join(' | ')} |`,
    `|---|${reports.map(() => '---:').join('|')}|`,
  ];
  for (const name of names) {
    const cells = reports.map((r) => {
      const c = r.conditions.find((x) => x.name === name);
      return c ? (100 * c.aimkp[metric]).toFixed(2) : '—';
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  const seeds = new Set(reports.map((r) => `${r.seed}/${r.maskPattern}/${r.n}`));
  if (seeds.size > 1)
    lines.push(
      '',
      'Warning: the reports differ in seed, mask pattern or item count; their conditions are not the same draws.',
    );
  return lines.join('\n') + '\n';
}
