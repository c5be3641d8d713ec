// Shared by the contract and transport tests: one valid request per command (the type makes a missing or
// stale command a compile error), a seeded random JSON generator for fuzzing, and a small backend whose
// handlers are cheap but check what they receive, plus an in-memory event stream with replay.
import {
  SERVICE,
  type SystemInfo,
  type CommandName,
  type CommandRequest,
  type EventBatch,
  type ServiceEvent,
  type SubscribeRequest,
} from '../../shared/contract/service';
import type { ServiceBackend, ServiceHandlers } from '../../shared/contract/handlers';
import { mulberry32 } from '../../models/random/mulberry32';

export const VALID_REQUESTS: { [C in CommandName]: CommandRequest<C> } = {
  'system.info': {},
  'presets.list': {},
  'datasets.list': {},
  'datasets.import': { name: 'tiny', source: { kind: 'synthetic', items: 30, seed: 2 } },
  'datasets.stats': { id: 'clipart-kp' },
  'datasets.items': { id: 'clipart-kp', split: 'test', offset: 0, limit: 10, search: 'dog' },
  'datasets.issues': { id: 'clipart-kp' },
  'runs.list': { preset: 'aimkp' },
  'runs.bases': {},
  'runs.get': { id: 'aimkp-s1' },
  'runs.history': { id: 'aimkp-s1' },
  'runs.events': { id: 'aimkp-s1', sinceSeq: 10, limit: 100 },
  'runs.start': {
    preset: 'aimkp',
    dataset: 'clipart-kp',
    seeds: [1, 2],
    overrides: { epochs: 2, model: { dModel: 32 } },
    initFrom: 'align-s1',
    tags: ['smoke'],
  },
  'runs.sweep': {
    name: 'tau',
    dataset: 'clipart-kp',
    presets: ['aimkp'],
    seeds: [1, 2],
    grid: { 'aimkp.tauText': [0.05, 0.1] },
    overrides: { epochs: 2 },
    tags: [],
  },
  'runs.stop': { id: 'aimkp-s1' },
  'runs.resume': { id: 'aimkp-s1' },
  'runs.delete': { id: 'aimkp-s1' },
  'runs.rename': { id: 'aimkp-s1', name: 'AimKP seed 1' },
  'runs.tag': { id: 'aimkp-s1', add: ['paper'], remove: ['smoke'] },
  'runs.evaluate': { id: 'aimkp-s1', modes: ['multimodal', 'text'], decode: { strategy: 'beam-sample', repeats: 3 } },
  'runs.robustness': { id: 'aimkp-s1', options: { ratios: [0, 0.5] } },
  'compare.cases': {
    baseline: 'baseline-s1',
    other: 'aimkp-s1',
    mode: 'text',
    filter: 'wins',
    sort: 'diff-desc',
    search: 'cat',
    limit: 20,
  },
  'report.table': { format: 'latex', modes: ['multimodal'] },
  'predict.case': {
    runIds: ['baseline-s1', 'aimkp-s1'],
    input: { kind: 'upload', image: 'data:image/png;base64,iVBORw0KGgo=', text: 'a dog on a beach' },
  },
  'settings.get': {},
  'settings.set': { concurrency: 2, backend: 'wasm' },
  'jobs.list': {},
  'jobs.cancel': { id: 'job-1' },
  'study.list': {},
  'study.get': { select: { kind: 'study', name: 'premise' }, baseline: 'baseline-e6', decode: 'greedy' },
};

/** A complete system.info answer. */
export const SYSTEM_INFO: SystemInfo = {
  app: { name: 'aimkp-workbench', version: '0.1.0' },
  host: 'browser',
  backend: { name: 'wasm', description: 'wasm (test)', requested: 'auto' },
  versions: { node: process.versions.node, electron: null, chrome: null, tfjs: null, zod: null },
  platform: process.platform,
  arch: process.arch,
  cores: 2,
  memoryBytes: 1,
  accelerator: { kind: 'cpu', name: null },
  workspace: '/tmp/ws',
};

/** A small seeded generator (the core's mulberry32), so a failing fuzz case can be replayed from its seed. */
export const rng: (seed: number) => () => number = mulberry32;

const NASTY_STRINGS = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '*',
  '__proto__',
  'constructor',
  'a'.repeat(300),
  '\u0000',
  '😀',
  'aimkp-s1',
  'clipart-kp',
  'multimodal',
  'data:image/png;base64,AAAA',
  'NaN',
  '-1',
];
const NASTY_NUMBERS = [
  0,
  -1,
  1,
  0.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  3,
  16,
  17,
  500,
  501,
  5000,
  5001,
];
const KEYS = [
  'id',
  'name',
  'preset',
  'dataset',
  'seeds',
  'overrides',
  'kind',
  'source',
  'items',
  'split',
  'offset',
  'limit',
  'mode',
  'modes',
  'decode',
  'strategy',
  'filter',
  'sort',
  'input',
  'runIds',
  'image',
  'text',
  '__proto__',
  'constructor',
  'prototype',
  'extra',
];

/** A random JSON value (depth-limited), biased toward values that sit on the schemas' edges. */
export function randomJson(r: () => number, depth = 0): unknown {
  const pick = r();
  if (depth > 4 || pick < 0.35) {
    const k = Math.floor(r() * 6);
    if (k === 0) return null;
    if (k === 1) return r() < 0.5;
    if (k === 2) return NASTY_NUMBERS[Math.floor(r() * NASTY_NUMBERS.length)];
    if (k === 3) return NASTY_STRINGS[Math.floor(r() * NASTY_STRINGS.length)];
    if (k === 4) return Math.floor(r() * 100);
    return String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => 32 + Math.floor(r() * 95)));
  }
  if (pick < 0.55) return Array.from({ length: Math.floor(r() * 5) }, () => randomJson(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]] = randomJson(r, depth + 1);
  return o;
}

/** A valid request with one random change: a field replaced, removed or added, or a nested value mutated. */
export function mutate(valid: unknown, r: () => number, depth = 0): unknown {
  if (typeof valid !== 'object' || valid === null || depth > 3 || r() < 0.25) return randomJson(r);
  if (Array.isArray(valid)) {
    const copy = [...valid];
    if (copy.length > 0 && r() < 0.7) {
      const i = Math.floor(r() * copy.length);
      copy[i] = mutate(copy[i], r, depth + 1);
    } else copy.push(randomJson(r));
    return copy;
  }
  const copy: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const op = r();
  if (keys.length > 0 && op < 0.5) {
    const k = keys[Math.floor(r() * keys.length)];
    copy[k] = mutate(copy[k], r, depth + 1);
  } else if (keys.length > 0 && op < 0.75) delete copy[keys[Math.floor(r() * keys.length)]];
  else copy[KEYS[Math.floor(r() * KEYS.length)]] = randomJson(r);
  return copy;
}

/** Tells handlers apart from validation in a fuzz run: how often each handler was reached. */
export type HandlerHits = Map<CommandName, number>;

/**
 * A backend whose handlers do no work but check their input: each asserts that its argument is what the
 * schema accepts (so nothing unvalidated ever reaches a handler), counts the hit, and answers a
 * `not-found` error, as a real handler would for the ids the fuzzer makes up.
 */
export function checkingHandlers(hits: HandlerHits, violations: string[]): ServiceHandlers {
  const handlers: Partial<Record<CommandName, (req: unknown) => Promise<never>>> = {};
  for (const name of Object.keys(SERVICE.commands) as CommandName[]) {
    handlers[name] = async (req: unknown) => {
      hits.set(name, (hits.get(name) ?? 0) + 1);
      if (!SERVICE.commands[name].request.safeParse(req).success)
        violations.push(`${name} got ${JSON.stringify(req).slice(0, 200)}`);
      throw Object.assign(new Error(`${name}: nothing here`), { code: 'NOT_FOUND' });
    };
  }
  return handlers as unknown as ServiceHandlers;
}

/** An in-memory stream of numbered events per run, with replay and batched live delivery: a stand-in for the supervisor's hub. */
export class MemoryEventSource {
  private readonly streams = new Map<string, ServiceEvent[]>();
  private readonly subs = new Set<{ runId: string; emit: (b: EventBatch) => void }>();
  readonly requests: SubscribeRequest[] = [];

  append(runId: string, count: number): void {
    const list = this.streams.get(runId) ?? [];
    this.streams.set(runId, list);
    const fresh: ServiceEvent[] = [];
    for (let i = 0; i < count; i++) {
      const seq = list.length + 1;
      const time = new Date(1_700_000_000_000 + seq).toISOString();
      const e: ServiceEvent = {
        v: 1,
        runId,
        seq,
        time,
        kind: 'checkpoint',
        data: {
          type: 'checkpoint',
          time,
          run: runId,
          which: 'last',
          path: 'checkpoints/last',
          epoch: 0,
          step: seq,
          ms: 1,
        },
      };
      list.push(e);
      fresh.push(e);
    }
    for (const s of this.subs) if (s.runId === runId || s.runId === '*') s.emit({ events: fresh, replay: false });
  }

  liveSubscriptions(): number {
    return this.subs.size;
  }

  all(runId: string): ServiceEvent[] {
    return this.streams.get(runId) ?? [];
  }

  backend(handlers: Partial<ServiceHandlers> = {}): ServiceBackend {
    return {
      handlers,
      subscriptions: {
        'events.subscribe': (req, emit) => {
          this.requests.push(req);
          const sub = { runId: req.runId, emit };
          if ('sinceSeq' in req && req.sinceSeq !== undefined) {
            const since = req.sinceSeq;
            emit({ events: this.all(req.runId).filter((e) => e.seq > since), replay: true });
          }
          this.subs.add(sub);
          return () => this.subs.delete(sub);
        },
      },
    };
  }
}
