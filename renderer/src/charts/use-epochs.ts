// Re-runs `onEpochs` whenever the series gains or loses epochs (rare events: rebuilding such a chart's data is cheap).
import { onBeforeUnmount, onMounted, watch } from 'vue';
import type { RunSeries } from '@shared/run-series';

export function useEpochs(series: () => RunSeries, onEpochs: () => void): void {
  let off: (() => void) | null = null;
  const attach = (): void => {
    off?.();
    off = series().onChange((parts) => {
      if (parts.has('epochs') || parts.has('reset')) onEpochs();
    });
  };
  onMounted(attach);
  onBeforeUnmount(() => off?.());
  watch(series, () => {
    attach();
    onEpochs();
  });
}
