// UI benchmark in a real browser (Debian Chromium via playwright-core), against the built renderer served by the
// browser-mode server (electron/server) over the real WebSocket transport. The backend here answers from recorded
// data instead of training for hours: a 20,000-step history made by repeating the step events of a real tiny
// AimKP training (templates from `aimkp train`), streamed live afterwards, and 1,000 Compare cases built from
// ClipArt-KP test items. Prints one JSON object; docs/benchmarks.md records it.
//
//   npm run build:renderer && node --import tsx scripts/ui-bench.ts [--steps 20000] [--cases 1000]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceBackend, ServiceHandlers } from '../shared/contract/handlers';
import { wrapTrainingEvent, type EventBatch, type ServiceEvent } from '../shared/contract/events';
import type { CompareCase, RunSummary } from '../shared/contract/service';
import {
  parseTrainingEvent,
  type EpochEndEvent,
  type RunStartEvent,
  type StepEvent,
  type TrainingEvent,
} from '../shared/training-events';
import { NEEDS_BASE, PRESETS } from '../models/train/presets';
import { startWorkbenchServer } from '../electron/server/server';
import { RunHistoryCache } from '../electron/service/run-history';
import { launchChromium } from '../test/e2e/browser';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const HISTORY = arg('steps', 20_000);
const LIVE_STEPS = arg('live', 1_000);
const CASES = arg('cases', 1_000);
const RUN = 'bench-aimkp';
const BASE = 'bench-baseline';

/** Step and epoch events of one real tiny AimKP training, the templates of the long history. */
function templates(): { start: RunStartEvent; steps: StepEvent[]; epochEnd: EpochEndEvent } {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-uibench-'));
  try {
    const cli = (args: string[]) =>
      execFileSync(process.execPath, [join(root, 'bin/aimkp.mjs'), ...args], { cwd: root, stdio: 'pipe' });
    cli(['data', 'synth', '--n', '200', '--seed', '1', '--out', join(dir, 'd')]);
    // batch 16 as the presets: each step event carries 16 per-sample records, as a real run's would.
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 }, maxValid: 8 }),
    );
    cli([
      'train',
      '--data',
      join(dir, 'd'),
      '--preset',
      'aimkp',
      '--out',
      join(dir, 'r'),
      '--epochs',
      '3',
      '--encoder',
      'patch:7:4',
      '--config',
      join(dir, 'c.json'),
      '--quiet',
    ]);
    const events = readFileSync(join(dir, 'r', 'events.jsonl'), 'utf8')
      .split('\n')
      .map(parseTrainingEvent)
      .filter((e): e is TrainingEvent => e !== null);
    const start = events.find((e): e is RunStartEvent => e.type === 'run-start')!;
    const steps = events.filter((e): e is StepEvent => e.type === 'step' && e.samples.some((s) => s.cosText !== null));
    const epochEnd = events.filter((e): e is EpochEndEvent => e.type === 'epoch-end').at(-1)!;
    return { start, steps, epochEnd };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A long run's events: `total` steps over 4 epochs, the template steps repeated with a decaying loss. */
function makeHistory(
  t: ReturnType<typeof templates>,
  total: number,
): { history: TrainingEvent[]; live: TrainingEvent[] } {
  const epochs = 4;
  const all = total + LIVE_STEPS;
  const perEpoch = Math.ceil(all / epochs);
  const t0 = Date.now() - total * 200;
  const out: TrainingEvent[] = [
    {
      ...t.start,
      run: RUN,
      epochs,
      stepsPerEpoch: perEpoch,
      totalSteps: perEpoch * epochs,
      time: new Date(t0).toISOString(),
    },
  ];
  for (let step = 1; step <= all; step++) {
    const tpl = t.steps[step % t.steps.length];
    const epoch = Math.floor((step - 1) / perEpoch);
    const decay = 1 + 3 * Math.exp(-step / 4000);
    const time = new Date(t0 + step * 200).toISOString();
    out.push({
      ...tpl,
      run: RUN,
      time,
      step,
      epoch,
      stepInEpoch: step - epoch * perEpoch,
      stepsPerEpoch: perEpoch,
      loss: (tpl.loss * decay) / 4,
      variantLoss: {
        original: (tpl.variantLoss.original * decay) / 4,
        text: ((tpl.variantLoss.text ?? 1) * decay) / 4,
        image: ((tpl.variantLoss.image ?? 1) * decay) / 4,
      },
    });
    if (step % perEpoch === 0)
      out.push({
        ...t.epochEnd,
        run: RUN,
        time,
        epoch,
        epochs,
        step,
        improved: epoch === 2,
        best: { epoch: Math.min(epoch, 2), score: 0.5 + 0.05 * Math.min(epoch, 2) },
      });
  }
  const cut = out.findIndex((e) => e.type === 'step' && e.step > total);
  return { history: out.slice(0, cut), live: out.slice(cut) };
}

function summary(
  id: string,
  method: 'aimkp' | 'standard',
  status: RunSummary['status'],
  lastSeq: number,
  step: number,
  total: number,
): RunSummary {
  return {
    id,
    name: id,
    preset: method === 'aimkp' ? 'aimkp' : 'baseline',
    method,
    seed: 1,
    dataset: 'clipart-kp',
    status,
    tags: [],
    createdAt: new Date().toISOString(),
    updatedAt: null,
    epoch: 3,
    epochs: 4,
    step,
    totalSteps: total,
    best: { epoch: 2, score: 0.6 },
    test: [],
    lastSeq,
    error: null,
    origin: 'app',
  };
}

/** 1,000 cases from ClipArt-KP test items (real images, texts, gold), predictions drawn from the gold and distractors. */
function makeCases(n: number): CompareCase[] {
  const dir = join(root, 'data/clipart-kp');
  const items = readFileSync(join(dir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (l) => JSON.parse(l) as { id: string; split: string; text: string; image: string | null; keyphrases: string[] },
    )
    .filter((i) => i.split === 'test');
  const images = new Map<string, string>();
  const side = (gold: string[], k: number) => {
    const preds = [gold[k % gold.length], 'clip art', gold[(k + 1) % gold.length], 'drawing', 'symbol'];
    const hits = preds.map((p) => gold.includes(p));
    const f = (K: number) => {
      const m = new Set(preds.slice(0, K).filter((p) => gold.includes(p))).size;
      const P = m / K,
        R = m / gold.length;
      return P + R > 0 ? (2 * P * R) / (P + R) : 0;
    };
    return {
      predictions: preds.map((phrase, i) => ({ phrase, hit: hits[i] })),
      'f1@1': f(1),
      'f1@3': f(3),
      ap: hits[0] ? 1 : 0.4,
    };
  };
  return Array.from({ length: n }, (_, index) => {
    const it = items[index % items.length];
    let image: string | null = null;
    if (it.image) {
      if (!images.has(it.image))
        images.set(it.image, `data:image/png;base64,${readFileSync(join(dir, it.image)).toString('base64')}`);
      image = images.get(it.image)!;
    }
    const baseline = side(it.keyphrases, index);
    const other = side(it.keyphrases, index + (index % 3));
    const diff = other['f1@3'] - baseline['f1@3'];
    return {
      id: `${it.id}#${index}`,
      index,
      text: it.text,
      image,
      gold: it.keyphrases.map((phrase) => ({ phrase, present: it.text.toLowerCase().includes(phrase) })),
      baseline,
      other,
      diff,
      outcome: diff > 0 ? 'win' : diff < 0 ? 'loss' : 'tie',
    } as CompareCase;
  });
}

async function main(): Promise<void> {
  const rendererDir = join(root, 'dist/renderer');
  if (!existsSync(join(rendererDir, 'index.html')))
    throw new Error('dist/renderer is missing: run npm run build:renderer first');
  const t = templates();
  const { history, live } = makeHistory(t, HISTORY);
  const wrapped = history.map((e, i) => wrapTrainingEvent(RUN, i + 1, e));
  const cases = makeCases(CASES);
  // The history on disk as a run writes it; runs.history folds it with the service's own cache. Three opens:
  // never opened (read, parse and fold every line), after a server restart (the fold saved under cache/ is
  // loaded, nothing new to read), and again in the same server (in memory).
  const histDir = mkdtempSync(join(tmpdir(), 'aimkp-uibench-hist-'));
  writeFileSync(join(histDir, 'events.jsonl'), history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const newCache = () =>
    new RunHistoryCache(() => join(histDir, 'events.jsonl'), { persistDir: () => join(histDir, 'cache') });
  let histories = newCache();
  const serverFoldMs: number[] = [];
  const liveSubs = new Set<(b: EventBatch) => void>();
  let seq = wrapped.length;

  const handlers: Partial<ServiceHandlers> = {
    'system.info': async () => ({
      app: { name: 'AimKP Workbench', version: 'bench' },
      host: 'browser',
      backend: { name: 'wasm', description: 'bench', requested: 'auto' },
      versions: { node: process.version, electron: null, chrome: null, tfjs: null, zod: null },
      platform: process.platform,
      arch: process.arch,
      cores: cpus().length,
      memoryBytes: 0,
      accelerator: { kind: 'cpu', name: null },
      workspace: '(bench)',
    }),
    'presets.list': async () => ({
      presets: [...PRESETS.values()].map((c) => ({
        name: c.preset,
        description: c.description,
        paper: c.paper,
        method: c.method,
        mode: c.mode,
        needsBase: NEEDS_BASE.has(c.preset),
        config: JSON.parse(JSON.stringify(c)),
      })),
    }),
    'settings.get': async () => ({ workspace: '(bench)', backend: 'auto', concurrency: 1, workers: null }),
    'datasets.list': async () => ({ datasets: [] }),
    'runs.list': async () => ({
      runs: [
        summary(RUN, 'aimkp', 'running', seq, HISTORY, HISTORY + LIVE_STEPS),
        summary(BASE, 'standard', 'completed', 0, 100, 100),
      ],
    }),
    'runs.get': async (req) => ({
      run: summary(
        req.id,
        req.id === RUN ? 'aimkp' : 'standard',
        req.id === RUN ? 'running' : 'completed',
        seq,
        HISTORY,
        HISTORY + LIVE_STEPS,
      ),
      dir: '(bench)',
      config: {},
      metrics: [],
      robustness: [],
      checkpoints: { last: null, best: { epoch: 2, score: 0.6 } },
    }),
    'runs.history': async (req) => {
      const t0 = performance.now();
      const h = await histories.history(req.id);
      serverFoldMs.push(performance.now() - t0);
      return h;
    },
    'compare.cases': async (req) => {
      let list = cases;
      const want = { all: null, wins: 'win', losses: 'loss', ties: 'tie' }[req.filter];
      if (want) list = list.filter((c) => c.outcome === want);
      if (req.sort === 'diff-desc') list = [...list].sort((a, b) => b.diff - a.diff);
      const wins = cases.filter((c) => c.outcome === 'win').length;
      const losses = cases.filter((c) => c.outcome === 'loss').length;
      return {
        summary: {
          common: cases.length,
          wins,
          losses,
          ties: cases.length - wins - losses,
          meanF1at3Baseline: 0.3,
          meanF1at3Other: 0.32,
          onlyInBaseline: 0,
          onlyInOther: 0,
          goldMismatch: 0,
        },
        total: list.length,
        offset: req.offset,
        cases: list.slice(req.offset, req.offset + req.limit),
      };
    },
  };
  const backend: ServiceBackend = {
    handlers,
    subscriptions: {
      'events.subscribe': (req, emit) => {
        if (req.runId === '*') return () => {};
        if (req.runId !== RUN) {
          emit({ events: [], replay: false });
          return () => {};
        }
        const since = req.sinceSeq ?? 0;
        // Replay in pages of 5,000 (LIMITS.maxEventsPerPage), as the supervisor does.
        const rest = wrapped.slice(since);
        for (let i = 0; i < rest.length; i += 5000) emit({ events: rest.slice(i, i + 5000), replay: true });
        emit({ events: [], replay: false });
        liveSubs.add(emit);
        return () => liveSubs.delete(emit);
      },
    },
  };
  const server = await startWorkbenchServer({ backend, rendererDir, port: 0 });
  const browser = await launchChromium();
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    browser: browser.version(),
    historySteps: HISTORY,
    cases: CASES,
  };
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // tsx compiles the functions passed to page.evaluate with esbuild's keepNames helper (__name); define it there.
    await page.addInitScript('globalThis.__name = (f) => f;');
    if (process.env.UI_BENCH_TRACE_PARSE)
      await page.addInitScript(
        'const p = JSON.parse; globalThis.__parses = []; JSON.parse = function (t, r) { const s = performance.now(); const v = p.call(JSON, t, r); if (t.length > 1e6) globalThis.__parses.push([Math.round(s), Math.round(performance.now() - s), t.length]); return v; };',
      );
    await page.goto(`${server.url}?bench#/runs`);
    await page.waitForSelector('[data-testid="runs-table"]');
    // 1. first render of the Run view with the long history: from the route change to the frame after the loss
    //    chart holds every step (runs.history over the WebSocket, loaded into the series, five charts built),
    //    with the User Timing entries of that open relative to the route change.
    const openRunView = () =>
      page.evaluate(async (n) => {
        const t0 = performance.now();
        let firstPaint = -1;
        location.hash = '#/runs/bench-aimkp';
        await new Promise<void>((resolve) => {
          const check = () => {
            const c = document.querySelector('[data-testid="chart-loss"]') as HTMLElement | null;
            const points = c ? Number(c.dataset.points) : 0;
            if (points > 0 && firstPaint < 0) firstPaint = performance.now() - t0;
            if (points >= n) requestAnimationFrame(() => resolve());
            else requestAnimationFrame(check);
          };
          check();
        });
        const m = (name: string) =>
          performance.getEntriesByName(name).map((e) => [Math.round(e.startTime - t0), Math.round(e.duration)]);
        const total = (name: string) => performance.getEntriesByName(name).reduce((a, e) => a + e.duration, 0);
        return {
          ms: performance.now() - t0,
          firstPaintMs: firstPaint,
          ingestMs: total('aimkp:history-load') + total('aimkp:ingest-replay'),
          chartMs: total('aimkp:chart-update'),
          call: m('aimkp:history-call'),
          load: m('aimkp:history-load'),
          charts: m('aimkp:chart-update'),
          batches: [...m('aimkp:history-load'), ...m('aimkp:ingest-replay')],
        };
      }, HISTORY);
    const firstRender = await openRunView();
    result.firstRenderMs = Math.round(firstRender.ms);
    result.firstRenderIngestMs = Math.round(firstRender.ingestMs);
    result.firstRenderChartsMs = Math.round(firstRender.chartMs);
    result.firstChartPaintMs = Math.round(firstRender.firstPaintMs);
    result.historyJsonMB = +(Buffer.byteLength(JSON.stringify(wrapped)) / 1e6).toFixed(1);
    result.serverFoldMs = Math.round(serverFoldMs[0] ?? -1);
    result.historyAnswerMB = +(Buffer.byteLength(JSON.stringify(await histories.history(RUN))) / 1e6).toFixed(2);
    const openAgain = async () => {
      await page.evaluate(() => {
        location.hash = '#/runs';
      });
      await page.reload();
      await page.waitForSelector('[data-testid="runs-table"]');
      return openRunView();
    };
    // 1b. the server restarted: a new cache that finds the saved fold (written in the background after the first open).
    for (let i = 0; i < 100 && !existsSync(join(histDir, 'cache')); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    histories = newCache();
    const restarted = await openAgain();
    result.firstRenderAfterRestartMs = Math.round(restarted.ms);
    result.firstRenderAfterRestart = restarted;
    const cdp = process.env.UI_BENCH_PROFILE ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const warm = await openAgain();
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(process.env.UI_BENCH_PROFILE!, JSON.stringify(profile));
    }
    result.firstRenderWarmMs = Math.round(warm.ms);
    result.firstRenderWarm = warm;
    result.serverHistoryMs = serverFoldMs.map((v) => Math.round(v));
    result.firstRenderBatches = firstRender.batches;
    if (process.env.UI_BENCH_TRACE_PARSE) result.parses = await page.evaluate('globalThis.__parses');
    if (process.env.UI_BENCH_ONLY_RENDER) {
      console.log(JSON.stringify(result));
      return;
    }

    // 2. live updates: stream the remaining steps at 20 batches/s (the supervisor's cap) and time the work per frame.
    await page.evaluate(() => {
      performance.clearMeasures();
      (window as unknown as { __long: number[] }).__long = [];
      new PerformanceObserver((l) =>
        l.getEntries().forEach((e) => (window as unknown as { __long: number[] }).__long.push(e.duration)),
      ).observe({ type: 'longtask' });
    });
    const perBatch = Math.max(1, Math.round(LIVE_STEPS / 100));
    for (let i = 0; i < live.length; i += perBatch) {
      const events: ServiceEvent[] = live.slice(i, i + perBatch).map((e) => wrapTrainingEvent(RUN, ++seq, e));
      for (const emit of liveSubs) emit({ events, replay: false });
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.waitForTimeout(300);
    const liveStats = await page.evaluate(() => {
      const ingest = performance.getEntriesByName('aimkp:ingest-live').map((e) => ({ t: e.startTime, d: e.duration }));
      const updates = performance
        .getEntriesByName('aimkp:chart-update')
        .map((e) => ({ t: e.startTime, d: e.duration }));
      // One live update = ingesting a batch + redrawing the charts in the next frame (updates within 8 ms of each other).
      const frames: number[] = [];
      let cur = -1,
        last = -Infinity;
      for (const u of updates) {
        if (u.t - last > 8) {
          frames.push(0);
          cur++;
        }
        frames[cur] += u.d;
        last = u.t;
      }
      const totals = frames.map((f, i) => f + (ingest[i]?.d ?? 0)).sort((a, b) => a - b);
      const q = (p: number) => totals[Math.min(totals.length - 1, Math.floor(p * totals.length))];
      return {
        batches: ingest.length,
        frames: frames.length,
        p50: q(0.5),
        p95: q(0.95),
        max: totals[totals.length - 1],
        longTasks: (window as unknown as { __long: number[] }).__long,
      };
    });
    result.liveUpdate = {
      batches: liveStats.batches,
      frames: liveStats.frames,
      p50Ms: +liveStats.p50.toFixed(2),
      p95Ms: +liveStats.p95.toFixed(2),
      maxMs: +liveStats.max.toFixed(2),
      longTasks: liveStats.longTasks.length,
    };
    await page.screenshot({ path: join(root, 'docs/screenshots/bench-run-20k.png') });

    // 3. Compare: step through all cases with the j key (pages of 50 load as it goes), and scroll each page's list.
    await page.evaluate(() => {
      location.hash = '#/compare?baseline=bench-baseline&other=bench-aimkp&mode=multimodal';
    });
    await page.waitForSelector('[data-testid="cmp-case"]');
    await page.evaluate(() => {
      // The observer of step 2 goes on filling __long (one observer: each long task counted once).
      (window as unknown as { __long: number[] }).__long = [];
      (window as unknown as { __longAt: number[][] }).__longAt = [];
      new PerformanceObserver((l) =>
        l
          .getEntries()
          .forEach((e) =>
            (window as unknown as { __longAt: number[][] }).__longAt.push([
              Math.round(e.startTime),
              Math.round(e.duration),
            ]),
          ),
      ).observe({ type: 'longtask' });
    });
    const cdpCompare = process.env.UI_BENCH_PROFILE_COMPARE ? await page.context().newCDPSession(page) : null;
    if (cdpCompare) {
      await cdpCompare.send('Profiler.enable');
      await cdpCompare.send('Profiler.start');
    }
    const t0 = Date.now();
    for (let i = 1; i < CASES; i++) await page.keyboard.press('j');
    await page.waitForFunction(
      (n) =>
        document
          .querySelector('[data-testid="cmp-case"]')
          ?.getAttribute('data-case')
          ?.endsWith(`#${n - 1}`),
      CASES,
      { timeout: 120_000 },
    );
    const stepMs = Date.now() - t0;
    const scroll = await page.evaluate(async () => {
      const list = document.querySelector('[data-testid="cmp-list"]') as HTMLElement;
      list.scrollTop = 0;
      for (let y = 0; y <= list.scrollHeight; y += 120) {
        list.scrollTop = y;
        await new Promise((r) => requestAnimationFrame(r));
      }
      return (window as unknown as { __long: number[] }).__long;
    });
    if (cdpCompare)
      writeFileSync(
        process.env.UI_BENCH_PROFILE_COMPARE!,
        JSON.stringify((await cdpCompare.send('Profiler.stop')).profile),
      );
    if (process.env.UI_BENCH_LONG_AT) {
      result.compareLongAt = await page.evaluate('globalThis.__longAt');
      result.comparePages = await page.evaluate(() =>
        performance
          .getEntriesByName('aimkp:compare-page')
          .map((e) => [Math.round(e.startTime), Math.round(e.duration)]),
      );
    }
    result.compare = {
      casesStepped: CASES,
      stepWallMs: stepMs,
      longTasks: scroll.length,
      maxLongTaskMs: scroll.length ? Math.round(Math.max(...scroll)) : 0,
    };
    await page.screenshot({ path: join(root, 'docs/screenshots/bench-compare-1000.png') });
  } finally {
    await browser.close();
    await server.close();
    if (process.env.UI_BENCH_KEEP_HISTORY) console.error(`history kept in ${histDir}`);
    else rmSync(histDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result, null, 2));
}

await main();
