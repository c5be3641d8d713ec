// The percent axis the acceptance and study charts share (charts/axes.ts): a share is pinned to 0–100, a score is
// left to chart.js's fit, and both carry the title and the theme's colours.
import { describe, expect, it } from 'vitest';
import { legendLabelOptions, percentAxisOptions, themedAxisOptions } from '../src/charts/axes';

const theme = { text: '#111111', grid: '#eeeeee', series: ['#2563eb'] };

describe('percent axis options', () => {
  it('a share spans 0–100 with its title and the theme colours', () => {
    expect(percentAxisOptions(theme, 'accepted %', 'share')).toEqual({
      min: 0,
      max: 100,
      title: { display: true, text: 'accepted %', color: '#111111' },
      ticks: { color: '#111111' },
      grid: { color: '#eeeeee' },
    });
  });

  it('a fitted score sets no bounds, so seeds bunched near each other stay apart', () => {
    const y = percentAxisOptions(theme, 'F1@1 %', 'fitted');
    expect('min' in y || 'max' in y).toBe(false);
    expect(y.title.text).toBe('F1@1 %');
    expect({ ticks: y.ticks, grid: y.grid }).toEqual(themedAxisOptions(theme));
  });

  it('legend labels use the text colour and small boxes', () => {
    expect(legendLabelOptions(theme)).toEqual({ color: '#111111', boxWidth: 12 });
  });
});
