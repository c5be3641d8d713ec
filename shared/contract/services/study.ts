// The study domain (issue 19): a set of runs as the Study view shows it. A study is the runs tagged
// `study:<name>` (set in Runs → Manage → Tags, or for many runs at once from the Study view); the view can also show
// runs picked ad hoc (ticked in Runs) or by a glob on their ids. Arms = run ids without the "-s<seed>" tail (as
// `aimkp report --group-by folder`); every statistic is the core's (models/evaluate/study.ts, metrics/welch.ts).
import { z } from 'zod';
import { Convention, DecodeStrategy, EvalMode, EvalSplit, ReportMetric, RunId } from '../common';
import { command, Empty } from './define';

/** The tag prefix that makes a run part of a study. */
export const STUDY_TAG_PREFIX = 'study:';
/** A study's name: what follows "study:" in a tag (a tag is ≤ 63 characters without a comma). */
export const StudyName = z
  .string()
  .regex(/^[^\s,][^,]{0,56}$/, 'a study name: 1–57 characters, no comma, not starting with a space');
/** A glob over run ids: `*` any run of characters, `?` one character; otherwise the characters of a run id. */
export const RunIdPattern = z
  .string()
  .regex(/^[A-Za-z0-9._*?-]{1,128}$/, 'a pattern over run ids: letters, digits, ".", "_", "-", "*" and "?"');

export const StudySelection = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('study'), name: StudyName }),
  z.strictObject({ kind: z.literal('runs'), ids: z.array(RunId).min(1).max(1000) }),
  z.strictObject({ kind: z.literal('pattern'), glob: RunIdPattern }),
]);
export type StudySelection = z.infer<typeof StudySelection>;

const Interval = z.tuple([z.number(), z.number()]);
const SeedValue = z.object({
  run: RunId,
  seed: z.int().nullable(),
  /** Percent. */
  value: z.number(),
  /** Test items the evaluation scored. */
  items: z.int(),
});
export const StudyCell = z.object({
  n: z.int(),
  mean: z.number(),
  std: z.number().nullable(),
  /** mean ± t₀.₉₇₅,n−1 · std/√n; null when n < 2. */
  ci95: Interval.nullable(),
  seeds: z.array(SeedValue),
});
export type StudyCell = z.infer<typeof StudyCell>;

const Modality = z.enum(['text', 'image']);
export const StudyAcceptance = z.object({
  /** 1-based epoch (epoch 1 is the unmasked warm-up). */
  epoch: z.int(),
  modality: Modality,
  checks: z.int(),
  accepted: z.int(),
  /** Fraction. */
  acceptedShare: z.number(),
  cosMedian: z.number(),
});
export type StudyAcceptance = z.infer<typeof StudyAcceptance>;

export const StudyArm = z.object({
  arm: z.string(),
  runs: z.array(z.object({ run: RunId, seed: z.int().nullable(), preset: z.string() })),
  cells: z.record(EvalMode, z.partialRecord(ReportMetric, StudyCell)),
  acceptance: z.array(StudyAcceptance),
  /** How many of the arm's runs the acceptance pools (runs trained with the filter). */
  filterRuns: z.int(),
});
export type StudyArm = z.infer<typeof StudyArm>;

export const StudyDelta = z.object({
  arm: z.string(),
  mode: EvalMode,
  metric: ReportMetric,
  nArm: z.int(),
  nBaseline: z.int(),
  meanArm: z.number(),
  meanBaseline: z.number(),
  /** meanArm − meanBaseline, percent points. */
  delta: z.number(),
  /** Welch's test; null when a side has fewer than 2 seeds. t, df, p are null when both sides are constant. */
  welch: z
    .object({
      se: z.number(),
      t: z.number().nullable(),
      df: z.number().nullable(),
      p: z.number().nullable(),
      ci95: Interval,
    })
    .nullable(),
});
export type StudyDelta = z.infer<typeof StudyDelta>;

export const StudyResult = z.object({
  /** The runs the selection named (in id order), before any was left out. */
  selected: z.array(RunId),
  split: EvalSplit,
  decode: DecodeStrategy,
  convention: Convention,
  modes: z.array(EvalMode),
  arms: z.array(StudyArm),
  /** The pinned baseline arm (null: none; no Δ). */
  baseline: z.string().nullable(),
  deltas: z.array(StudyDelta),
  /** Runs (or modes of runs) not counted, with why: not trained yet, failed, not evaluated, unreadable. */
  leftOut: z.array(z.object({ run: RunId, reason: z.string(), modes: z.array(EvalMode) })),
  /** The paper's Fig. 7: share of masked rows accepted in the first masked epoch and in the last (fractions). */
  paperAcceptance: z.record(Modality, z.object({ first: z.number(), last: z.number() })),
});
export type StudyResult = z.infer<typeof StudyResult>;

export const STUDY_COMMANDS = {
  'study.list': command(
    Empty,
    z.object({ studies: z.array(z.object({ name: StudyName, runs: z.int() })) }),
    'The studies of the workspace: every name of a `study:<name>` tag with its number of runs, by name.',
  ),
  'study.get': command(
    z.strictObject({
      select: StudySelection,
      /** The pinned baseline arm; omitted = the first arm whose name contains "baseline"; null = no Δ. */
      baseline: z.string().min(1).max(128).nullable().optional(),
      split: EvalSplit.default('test'),
      decode: DecodeStrategy.default('greedy'),
      convention: Convention.default('aimkp'),
    }),
    StudyResult,
    "A study's arms (mean, std, t-based 95 % CI and each seed per mode and metric, percent), Δ against the baseline arm with Welch's t, df, p and 95 % CI, the filter's acceptance per epoch pooled per arm beside the paper's Fig. 7, and the runs left out with why.",
  ),
};
