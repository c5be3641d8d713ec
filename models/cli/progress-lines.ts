// The CLI's view of a core job's typed progress: lines on stderr, with elapsed time and an ETA for
// counted phases.
import type { ProgressListener } from '../../shared/training-events';

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Prints progress events as lines: phase changes always, counted updates every `everyMs` and the last one. */
export function progressLinePrinter(
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  everyMs = 2000,
): ProgressListener {
  let lastPhase = '';
  let lastLine = 0;
  let phaseStart = 0;
  return (e) => {
    const now = performance.now();
    const isNewPhase = e.phase !== lastPhase;
    lastPhase = e.phase;
    if (isNewPhase) phaseStart = now;
    if (e.phase === 'done' || e.phase === 'failed' || e.phase === 'stopped') return;
    const counted = e.done !== null && e.total !== null;
    const final = counted && e.done! >= e.total!;
    if (!isNewPhase && !final && now - lastLine < everyMs) return;
    lastLine = now;
    if (!counted || e.done === 0) {
      write(counted ? `${e.message}: 0/${e.total} ${e.unit ?? ''}`.trimEnd() : e.message);
      return;
    }
    const elapsed = (now - phaseStart) / 1000;
    const eta = final ? '' : `, ETA ${formatSeconds((elapsed / e.done!) * (e.total! - e.done!))}`;
    write(
      `${e.message}: ${e.done}/${e.total}${e.unit ? ` ${e.unit}` : ''} (${((100 * e.done!) / e.total!).toFixed(0)}%), ${formatSeconds(elapsed)} elapsed${eta}`,
    );
  };
}
