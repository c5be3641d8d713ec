// User Timing entries for the UI benchmark (scripts/ui-bench.ts), recorded only when the page was opened with
// ?bench in its URL, so a long-running app does not accumulate entries.
const enabled = typeof location !== 'undefined' && new URLSearchParams(location.search).has('bench');

export function measureSince(name: string, start: number): void {
  if (enabled) performance.measure(name, { start, end: performance.now() });
}
