// Axis and legend options in the theme's colours for the charts that read in percent (the gradient filter's
// acceptance, a study's per-seed scores): one place decides how such an axis looks, so the charts stay alike.
import type { themeColors } from './setup';

export type ThemeColors = ReturnType<typeof themeColors>;

/** An axis's ticks and grid lines in the theme's colours (the look every chart axis shares). */
export function themedAxisOptions(c: ThemeColors): { ticks: { color: string }; grid: { color: string } } {
  return { ticks: { color: c.text }, grid: { color: c.grid } };
}

export interface PercentAxisOptions extends ReturnType<typeof themedAxisOptions> {
  min?: number;
  max?: number;
  title: { display: true; text: string; color: string };
}

/**
 * A y axis whose values are percent, titled `title`. A share spans 0–100 whatever the data (`share`: accepted rows),
 * a score keeps chart.js's fit to the values (`fitted`: F1 of a few seeds bunched near each other).
 */
export function percentAxisOptions(c: ThemeColors, title: string, range: 'share' | 'fitted'): PercentAxisOptions {
  return {
    ...(range === 'share' ? { min: 0, max: 100 } : {}),
    title: { display: true, text: title, color: c.text },
    ...themedAxisOptions(c),
  };
}

/** Legend labels in the theme's text colour with small boxes. */
export function legendLabelOptions(c: ThemeColors): { color: string; boxWidth: number } {
  return { color: c.text, boxWidth: 12 };
}
