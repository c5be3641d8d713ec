// Compare's masking preview follows the compared runs: their image-token grid (7×7 for mobilenet-v2, 16×16 for
// mobilenet-v2-s16) and their post-text cut, as runs.get reports them (imageGrid, maxTextTokens from config.json).
import type { CommandResponse } from '@shared/contract/service';
import { shallowRef, type ShallowRef } from 'vue';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';

type RunDetail = Pick<CommandResponse<'runs.get'>, 'imageGrid' | 'maxTextTokens'>;

export interface MaskView {
  /** G of the G×G grid the preview draws. */
  grid: number;
  maxTextTokens: number;
  /** Set when the two runs' grids differ (the preview shows the other run's). */
  note: string | null;
}

/** What a run made before runs.get reported its grid used: MobileNetV2's 7×7 and the presets' 48-token cut. */
export const DEFAULT_MASK_VIEW: MaskView = { grid: 7, maxTextTokens: 48, note: null };

/**
 * The preview's grid and text cut for a comparison: the other run's (AimKP, the run that masks while training), else
 * the baseline's; a different baseline grid is named in `note`.
 */
export function maskViewOf(baseline: RunDetail | null, other: RunDetail | null): MaskView {
  const main = other ?? baseline;
  const grid = main?.imageGrid ?? DEFAULT_MASK_VIEW.grid;
  const maxTextTokens = main?.maxTextTokens ?? DEFAULT_MASK_VIEW.maxTextTokens;
  const baseGrid = baseline?.imageGrid ?? DEFAULT_MASK_VIEW.grid;
  const note =
    other !== null && baseline !== null && baseGrid !== grid
      ? `the other run's ${grid}×${grid} grid; the baseline run uses ${baseGrid}×${baseGrid}`
      : null;
  return { grid, maxTextTokens, note };
}

export interface CompareMaskView {
  view: ShallowRef<MaskView>;
  /** Reads both runs' details again (after the comparison changes). */
  load(): Promise<void>;
}

export function useCompareMaskView(): CompareMaskView {
  const store = useCompareStore();
  const runs = useRunsStore();
  const view = shallowRef<MaskView>(DEFAULT_MASK_VIEW);

  async function load(): Promise<void> {
    if (!store.ready) return;
    // A run whose folder cannot be read counts as unknown (the default grid), not as an error of the view.
    const detail = (id: string) => runs.detail(id).catch(() => null);
    const [a, b] = await Promise.all([detail(store.query.baseline), detail(store.query.other)]);
    view.value = maskViewOf(a, b);
  }

  return { view, load };
}
