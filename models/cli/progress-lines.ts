// The CLI's view of a core job's typed progress: lines on stderr.
import type { ProgressListener } from '../../shared/training-events';

/** Prints progress events as lines (the CLI's view): phase changes always, counted updates every `everyMs`. */
export function progressLinePrinter(write: (line: string) => void = (line) => process.stderr.write(line + '\n'), everyMs = 2000): ProgressListener {
  let lastPhase = '';
  let lastLine = 0;
  return (e) => {
    const now = performance.now();
    const isNewPhase = e.phase !== lastPhase;
    lastPhase = e.phase;
    const final = e.done !== null && e.total !== null && e.done >= e.total;
    if (e.phase === 'done' || e.phase === 'failed' || e.phase === 'stopped') return;
    if (!isNewPhase && !final && now - lastLine < everyMs) return;
    lastLine = now;
    const count = e.done !== null && e.total !== null ? `: ${e.done}/${e.total}${e.unit ? ` ${e.unit}` : ''}` : '';
    write(`${e.message}${count}`);
  };
}
