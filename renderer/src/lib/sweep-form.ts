// The New run view's sweep mode: the grid as the user types it, one axis per line ("aimkp.tauText = 0.05, 0.1"),
// parsed into the sweep spec's grid with an error naming the line; and the time a sweep would take, estimated from
// the last finished runs' steps per second.
import type { RunSummary } from '@shared/contract/service';
import type { SweepValue } from '@shared/sweep';

export type GridParse = { grid: Record<string, SweepValue[]> } | { error: string };

function parseValue(text: string): SweepValue {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t.replace(/^"(.*)"$/, '$1');
}

export function parseGrid(text: string): GridParse {
  const grid: Record<string, SweepValue[]> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) return { error: `line ${i + 1}: expected "config.path = value, value, …"` };
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key))
      return { error: `line ${i + 1}: "${key}" is not a config path (e.g. aimkp.tauText)` };
    if (key in grid) return { error: `line ${i + 1}: ${key} is given twice` };
    const values = line
      .slice(eq + 1)
      .split(',')
      .filter((v) => v.trim() !== '')
      .map(parseValue);
    if (values.length === 0) return { error: `line ${i + 1}: give at least one value for ${key}` };
    grid[key] = values;
  }
  return { grid };
}

export interface SweepEstimate {
  seconds: number;
  stepsPerSecond: number;
  from: number;
}

/**
 * The sweep's time: runs × steps per run / the last finished runs' mean steps per second / runs at once; null
 * without a finished run to measure.
 */
export function estimateSweep(
  recentRuns: readonly RunSummary[],
  runCount: number,
  stepsPerRun: number,
  concurrency: number,
): SweepEstimate | null {
  const rates = recentRuns
    .filter((r) => (r.status === 'completed' || r.status === 'stopped') && r.createdAt && r.updatedAt && r.step > 0)
    .sort((a, b) => Date.parse(b.updatedAt!) - Date.parse(a.updatedAt!))
    .slice(0, 5)
    .map((r) => r.step / Math.max(1, (Date.parse(r.updatedAt!) - Date.parse(r.createdAt!)) / 1000));
  if (rates.length === 0) return null;
  const stepsPerSecond = rates.reduce((a, b) => a + b, 0) / rates.length;
  return {
    seconds: (runCount * stepsPerRun) / stepsPerSecond / Math.max(1, concurrency),
    stepsPerSecond,
    from: rates.length,
  };
}
