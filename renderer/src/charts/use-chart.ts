// Owns one chart.js instance for a component: created on mount from a config factory, destroyed on unmount,
// redrawn at most once per animation frame with update('none') (no animation, no whole re-render per event).
import type { Chart, ChartConfiguration, ChartType } from 'chart.js';
import { onBeforeUnmount, onMounted, shallowRef, type Ref } from 'vue';
import { FrameScheduler } from './frame-scheduler';
import { setupCharts } from './setup';
import { measureSince } from '../lib/timing';

export interface ChartHandle<T extends ChartType> {
  chart: Ref<Chart<T> | null>;
  /** Redraw on the next animation frame (coalesced). */
  requestUpdate(): void;
  /** Destroy and build again (after a change of structure, e.g. the y scale type). */
  rebuild(): void;
}

/**
 * `beforeUpdate` runs in the frame, just before each coalesced redraw: where a component hands chart.js fresh
 * copies of its points (chart.js patches push/splice on the arrays it draws, so it must never hold live ones).
 */
export function useChart<T extends ChartType>(
  canvas: Ref<HTMLCanvasElement | null>,
  config: () => ChartConfiguration<T>,
  onCreated?: (chart: Chart<T>) => void,
  beforeUpdate?: (chart: Chart<T>) => void,
): ChartHandle<T> {
  const chart = shallowRef<Chart<T> | null>(null);
  const scheduler = new FrameScheduler(() => {
    if (!chart.value) return;
    const t0 = performance.now();
    beforeUpdate?.(chart.value);
    chart.value.update('none');
    measureSince('aimkp:chart-update', t0);
  });

  function build(): void {
    const el = canvas.value;
    if (!el) return;
    const ChartCtor = setupCharts();
    chart.value?.destroy();
    chart.value = new ChartCtor(el, config()) as unknown as Chart<T>;
    onCreated?.(chart.value);
  }

  onMounted(build);
  onBeforeUnmount(() => {
    scheduler.cancel();
    chart.value?.destroy();
    chart.value = null;
  });

  return { chart, requestUpdate: () => scheduler.schedule(), rebuild: build };
}
