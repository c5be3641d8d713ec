// Registers only the chart.js parts the workbench draws (tree-shaken bundle) and the shared defaults.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

let done = false;

export function setupCharts(): typeof Chart {
  if (done) return Chart;
  Chart.register(
    LineController,
    BarController,
    ScatterController,
    LineElement,
    PointElement,
    BarElement,
    CategoryScale,
    LinearScale,
    LogarithmicScale,
    Decimation,
    Filler,
    Legend,
    Tooltip,
  );
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  done = true;
  return Chart;
}

/** Colours from the page's CSS custom properties, so charts follow light/dark. */
export function themeColors(el: Element): { text: string; grid: string; series: string[] } {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--fg-muted', '#555'),
    grid: v('--border', '#ddd'),
    series: [
      v('--c1', '#2563eb'),
      v('--c2', '#d97706'),
      v('--c3', '#059669'),
      v('--c4', '#db2777'),
      v('--c5', '#7c3aed'),
      v('--c6', '#0891b2'),
    ],
  };
}

/** rgba() with alpha from a #rrggbb colour (other formats pass through). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
