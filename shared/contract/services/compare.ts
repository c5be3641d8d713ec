// The compare domain: two runs case by case, and the seed-averaged table of many runs (the paper's layout).
import { z } from 'zod';
import { Convention, DecodeStrategy, EvalMode, EvalSplit, ItemId, ReportMetric, RunId } from '../common';
import { command, Offset, pageLimit } from './define';
import { MarkedKeyphrase } from './datasets';

const PredictedPhrase = z.object({ phrase: z.string(), hit: z.boolean() });
const CaseSide = z.object({
  /** First repeat's predictions in order, each marked whether it matches a gold keyphrase. */
  predictions: z.array(PredictedPhrase),
  /** Per-case AimKP scores averaged over repeats, fractions. */
  'f1@1': z.number(),
  'f1@3': z.number(),
  ap: z.number(),
});
export const CompareCase = z.object({
  id: ItemId,
  /** 0-based position in the split (stable; a link to a case uses id). */
  index: z.int(),
  text: z.string().nullable(),
  image: z.string().nullable(),
  gold: z.array(MarkedKeyphrase),
  baseline: CaseSide,
  other: CaseSide,
  /** other F1@3 − baseline F1@3. */
  diff: z.number(),
  /** From the other run's side: win = other better. */
  outcome: z.enum(['win', 'loss', 'tie']),
});
export type CompareCase = z.infer<typeof CompareCase>;

export const ReportStat = z.object({
  n: z.int(),
  mean: z.number(),
  std: z.number().nullable(),
  values: z.array(z.number()),
});
export const ReportGroup = z.object({
  preset: z.string(),
  runs: z.array(z.string()),
  seeds: z.array(z.int().nullable()),
  /** mode → metric → mean ± std in percent (×100). */
  cells: z.partialRecord(EvalMode, z.partialRecord(ReportMetric, ReportStat)),
});

const ReportFormat = z.enum(['md', 'csv', 'latex']);

export const COMPARE_COMMANDS = {
  'compare.cases': command(
    z.strictObject({
      baseline: RunId,
      other: RunId,
      mode: EvalMode.default('multimodal'),
      split: EvalSplit.default('test'),
      decode: DecodeStrategy.default('greedy'),
      // The service's own case filters and orders (from the other run's side), not the core's compare vocabulary.
      filter: z.enum(['all', 'wins', 'losses', 'ties']).default('all'),
      search: z.string().max(200).optional(),
      sort: z.enum(['index', 'diff-desc', 'diff-asc', 'baseline-desc', 'other-desc']).default('index'),
      offset: Offset,
      limit: pageLimit(50),
    }),
    z.object({
      summary: z.object({
        common: z.int(),
        wins: z.int(),
        losses: z.int(),
        ties: z.int(),
        meanF1at3Baseline: z.number(),
        meanF1at3Other: z.number(),
        onlyInBaseline: z.int(),
        onlyInOther: z.int(),
        goldMismatch: z.int(),
      }),
      /** Cases after filter and search (what offset / limit page through). */
      total: z.int(),
      offset: z.int(),
      cases: z.array(CompareCase),
    }),
    "Both runs' predictions case by case (needs both evaluated with that split / mode / decode); wins = the other run better.",
  ),
  'report.table': command(
    z.strictObject({
      runs: z.array(RunId).max(1000).optional(),
      split: EvalSplit.default('test'),
      decode: DecodeStrategy.default('beam-sample'),
      modes: z.array(EvalMode).min(1).max(3).default(['multimodal', 'text', 'image']),
      convention: Convention.default('aimkp'),
      format: ReportFormat.default('md'),
    }),
    z.object({
      groups: z.array(ReportGroup),
      text: z.string(),
      format: ReportFormat,
      /** Runs left out, with why: never evaluated with this split and decoding, failed, or not trained yet. */
      skipped: z.array(z.object({ run: RunId, reason: z.string() })),
    }),
    'Mean ± std over seeds by preset, and the same table as Markdown, CSV or LaTeX text; runs without scores are listed in `skipped`, not counted.',
  ),
};
