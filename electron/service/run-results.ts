// What a run folder holds beyond training: the evaluations in metrics/, the robustness reports in robustness/,
// and the state of its checkpoints (runs.get, and the test scores of every run summary).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetricsFile, RUN_FILES } from '../../models/index';
import type { CommandResponse, RunSummary } from '../../shared/contract/service';
import { DECODE_STRATEGIES, EVAL_MODES, type DecodeStrategy, type EvalMode } from '../../shared/vocabulary';

type ModeScores = RunSummary['test'][number];
type RunGet = CommandResponse<'runs.get'>;
export type RunMetrics = RunGet['metrics'][number];

const isEvalMode = (v: string): v is EvalMode => (EVAL_MODES as readonly string[]).includes(v);
const isDecodeStrategy = (v: string): v is DecodeStrategy => (DECODE_STRATEGIES as readonly string[]).includes(v);

/** metrics/<split>.<mode>.<decode>.json files of a run. */
function metricsFiles(dir: string): { split: string; mode: EvalMode; decode: DecodeStrategy; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, 'metrics'));
  } catch {
    return [];
  }
  const out: { split: string; mode: EvalMode; decode: DecodeStrategy; path: string }[] = [];
  for (const n of names) {
    const m = /^([a-z]+)\.([a-z]+)\.([a-z-]+)\.json$/.exec(n);
    if (!m || !isEvalMode(m[2]) || !isDecodeStrategy(m[3])) continue;
    out.push({ split: m[1], mode: m[2], decode: m[3], path: join(dir, 'metrics', n) });
  }
  return out;
}

/** Every evaluation of the run (split × mode × decode), with its decoding settings and time. */
export function allMetrics(dir: string): RunMetrics[] {
  const out: RunMetrics[] = [];
  for (const f of metricsFiles(dir)) {
    let m;
    try {
      m = readMetricsFile(f.path);
    } catch {
      continue;
    }
    if (!m) continue;
    out.push({
      mode: f.mode,
      split: f.split,
      decode: f.decode,
      scores: { 'f1@1': m.aimkp['f1@1'], 'f1@3': m.aimkp['f1@3'], 'map@5': m.aimkp['map@5'] },
      n: m.n,
      decodeSettings: m.decoding ?? null,
      createdAt: m.createdAt ?? null,
    });
  }
  return out;
}

/** The latest test evaluation of each mode × decoding (a table must not mix greedy on 319 items with beam-sample on 100). */
export function testScores(dir: string): ModeScores[] {
  const best = new Map<string, RunMetrics>();
  for (const m of allMetrics(dir)) {
    if (m.split !== 'test') continue;
    const key = `${m.mode}|${m.decode}`;
    const had = best.get(key);
    if (!had || (m.createdAt ?? '') > (had.createdAt ?? '')) best.set(key, m);
  }
  return [...best.values()].map(({ mode, split, decode, scores, n }) => ({ mode, split, decode, scores, n }));
}

export function robustnessReports(dir: string): RunGet['robustness'] {
  let names: string[];
  try {
    names = readdirSync(join(dir, 'robustness')).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: RunGet['robustness'] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(readFileSync(join(dir, 'robustness', n), 'utf8')) as RunGet['robustness'][number];
      if (Array.isArray(r.conditions)) out.push(r);
    } catch {
      /* a half-written or foreign file */
    }
  }
  return out;
}

export function checkpointsOf(dir: string): RunGet['checkpoints'] {
  const state = (sub: string) => {
    try {
      return JSON.parse(readFileSync(join(dir, sub, 'state.json'), 'utf8')) as {
        epoch?: number;
        globalStep?: number;
        bestEpoch?: number | null;
        bestScore?: number | null;
      };
    } catch {
      return null;
    }
  };
  const last = state(RUN_FILES.last);
  const best = state(RUN_FILES.best);
  return {
    last:
      last && typeof last.epoch === 'number' && typeof last.globalStep === 'number'
        ? { epoch: last.epoch, step: last.globalStep }
        : null,
    best:
      best && typeof best.bestEpoch === 'number' && typeof best.bestScore === 'number'
        ? { epoch: best.bestEpoch, score: best.bestScore }
        : null,
  };
}
