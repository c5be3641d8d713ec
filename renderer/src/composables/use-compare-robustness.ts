// Compare's robustness table: each run's latest robustness report (the suite over the whole split), the conditions
// side by side for the chosen mode.
import type { CommandResponse } from '@shared/contract/service';
import type { EvalMode } from '@shared/vocabulary';
import { computed, shallowRef, type ComputedRef } from 'vue';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';

export type RobustnessReports = CommandResponse<'runs.get'>['robustness'];

/** One condition of the suite: F1@1 over the split for the baseline (a) and the other run (b); null where missing. */
export interface RobustnessRow {
  name: string;
  a: number | null;
  b: number | null;
}

/**
 * The conditions of both runs' latest reports that apply to `mode`: the multimodal ones, and the chosen mode's own
 * (named with their mode); in the order the reports list them.
 */
export function robustnessRows(baseline: RobustnessReports, other: RobustnessReports, mode: EvalMode): RobustnessRow[] {
  const rows = new Map<string, RobustnessRow>();
  for (const [side, report] of [
    ['a', baseline.at(-1)],
    ['b', other.at(-1)],
  ] as const) {
    for (const cond of report?.conditions ?? []) {
      if (cond.mode !== mode && cond.mode !== 'multimodal') continue;
      const key = `${cond.name}|${cond.mode}`;
      const row = rows.get(key) ?? {
        name: `${cond.name}${cond.mode !== 'multimodal' ? ` (${cond.mode})` : ''}`,
        a: null,
        b: null,
      };
      row[side] = cond.aimkp['f1@1'];
      rows.set(key, row);
    }
  }
  return [...rows.values()];
}

export interface CompareRobustness {
  rows: ComputedRef<RobustnessRow[]>;
  /** Reads both runs' reports again (after a comparison changes, or the suite ran). */
  load(): Promise<void>;
}

export function useCompareRobustness(): CompareRobustness {
  const store = useCompareStore();
  const runs = useRunsStore();
  const reports = shallowRef<{ baseline: RobustnessReports; other: RobustnessReports }>({ baseline: [], other: [] });

  async function load(): Promise<void> {
    if (!store.ready) return;
    try {
      const [a, b] = await Promise.all([runs.detail(store.query.baseline), runs.detail(store.query.other)]);
      reports.value = { baseline: a.robustness, other: b.robustness };
    } catch {
      // A run without a readable folder has no report to show.
      reports.value = { baseline: [], other: [] };
    }
  }

  return {
    rows: computed(() => robustnessRows(reports.value.baseline, reports.value.other, store.query.mode)),
    load,
  };
}
