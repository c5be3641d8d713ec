// What AimKP's gradient filter did, read from runs' events.jsonl: per epoch and modality the checks, the accepted
// share, cosine quantiles, the share of checks whose masked row equalled the original (cos = 1 exactly: the text was
// too short for the stride to drop a token) and the strides used. Runs are pooled. Read by
// scripts/filter-stats.ts (the Markdown table of docs/results.md) and by the workbench's Study view.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingEvent, type StepEvent } from '../../shared/training-events';
import { CoreError } from '../core-error';

export type FilterModality = 'text' | 'image';
export const FILTER_MODALITIES: readonly FilterModality[] = ['text', 'image'];

/** One run's filter checks of one epoch and modality. */
export interface FilterChecks {
  /** 0-based epoch, as in the events. */
  epoch: number;
  modality: FilterModality;
  cos: number[];
  accepted: number;
  /** Checks with cos = 1 exactly (nothing was masked away). */
  identical: number;
  /** stride → checks made at it. */
  strides: Record<string, number>;
}

/**
 * Every filter check of one run (epoch × modality), from RUN/events.jsonl. A step logged twice (a run stopped after
 * a step and resumed from an earlier checkpoint redoes it) counts once, as its last record. A run trained without
 * AimKP has none ([]); a run folder without events.jsonl is an error naming the file.
 */
export function readFilterChecks(runDir: string): FilterChecks[] {
  const file = join(runDir, 'events.jsonl');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CoreError('NOT_FOUND', `${file}: cannot read (${(err as Error).message})`);
  }
  const lastOfStep = new Map<number, StepEvent>();
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    // Cheap pre-filter: only step lines with samples are parsed (a long run has ~10⁵ lines).
    if (!line.includes('"type":"step"') || line.includes('"samples":[]')) continue;
    const e = parseTrainingEvent(line);
    if (e === null || e.type !== 'step') {
      // The last line may be half-written while the run trains; anything else is a damaged file.
      if (i >= lines.length - 2) continue;
      throw new CoreError('BAD_INPUT', `${file}:${i + 1}: not a valid step event (damaged events.jsonl?)`);
    }
    lastOfStep.set(e.step, e);
  }
  const by = new Map<string, FilterChecks>();
  for (const e of lastOfStep.values())
    for (const s of e.samples)
      for (const [modality, cos, ok, stride] of [
        ['text', s.cosText, s.acceptText, s.strideText],
        ['image', s.cosImage, s.acceptImage, s.strideImage],
      ] as const) {
        if (cos === null) continue;
        const key = `${e.epoch}:${modality}`;
        let c = by.get(key);
        if (!c) by.set(key, (c = { epoch: e.epoch, modality, cos: [], accepted: 0, identical: 0, strides: {} }));
        c.cos.push(cos);
        if (ok === true) c.accepted++;
        if (cos === 1) c.identical++;
        c.strides[stride] = (c.strides[stride] ?? 0) + 1;
      }
  return [...by.values()];
}

/** One epoch × modality of the filter, pooled over runs. */
export interface FilterEpochStat {
  /** 1-based epoch (the first is the unmasked warm-up, so masked epochs start at 2). */
  epoch: number;
  modality: FilterModality;
  checks: number;
  accepted: number;
  /** accepted / checks, fraction. */
  acceptedShare: number;
  cosP10: number;
  cosMedian: number;
  cosP90: number;
  /** Share of checks with cos = 1 exactly. */
  identicalShare: number;
  strides: Record<string, number>;
}

/** The p-quantile by the lower nearest rank (as scripts/filter-stats.ts has always printed it). */
function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
}

/** Pools runs' checks per epoch and modality; sorted by epoch, then modality (image before text). */
export function poolFilterChecks(runs: readonly (readonly FilterChecks[])[]): FilterEpochStat[] {
  const by = new Map<string, FilterChecks[]>();
  for (const run of runs)
    for (const c of run) {
      const key = `${c.epoch}:${c.modality}`;
      by.set(key, [...(by.get(key) ?? []), c]);
    }
  const out: FilterEpochStat[] = [];
  for (const list of by.values()) {
    const cos = list.flatMap((c) => c.cos).sort((a, b) => a - b);
    if (cos.length === 0) continue;
    const accepted = list.reduce((a, c) => a + c.accepted, 0);
    const identical = list.reduce((a, c) => a + c.identical, 0);
    const strides: Record<string, number> = {};
    for (const c of list) for (const [s, k] of Object.entries(c.strides)) strides[s] = (strides[s] ?? 0) + k;
    out.push({
      epoch: list[0].epoch + 1,
      modality: list[0].modality,
      checks: cos.length,
      accepted,
      acceptedShare: accepted / cos.length,
      cosP10: quantile(cos, 0.1),
      cosMedian: quantile(cos, 0.5),
      cosP90: quantile(cos, 0.9),
      identicalShare: identical / cos.length,
      strides,
    });
  }
  return out.sort((a, b) => a.epoch - b.epoch || a.modality.localeCompare(b.modality));
}

/** The runs' filter, pooled: readFilterChecks of each, then poolFilterChecks. */
export function filterStats(runDirs: readonly string[]): FilterEpochStat[] {
  return poolFilterChecks(runDirs.map(readFilterChecks));
}

/**
 * The paper's Fig. 7 (AimKP, §4: "for text-masked samples, it drops from 87% to 62%, and for image-masked samples,
 * from 96% to 77%"): the share of masked rows above the threshold in the first masked epoch and in the last.
 */
export const PAPER_FIG7_ACCEPTANCE: Readonly<Record<FilterModality, { first: number; last: number }>> = {
  text: { first: 0.87, last: 0.62 },
  image: { first: 0.96, last: 0.77 },
};
