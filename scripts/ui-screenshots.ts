// The README's screenshots (docs/screenshots/), taken in Chromium on the bundled ClipArt-KP data set: starts
// `npm run web` on a workspace, trains a small baseline and a small AimKP run on ClipArt-KP through the API
// (the same calls the UI makes), evaluates both, then opens every view and saves it at 1400×1000.
//
//   node --import tsx scripts/ui-screenshots.ts [--workspace DIR] [--max-train N] [--encoder SPEC] [--d-model D]
//                                               [--baseline-epochs E] [--aimkp-epochs E]
//                                               [--baseline-preset P] [--aimkp-preset P]
//   node --import tsx scripts/ui-screenshots.ts --workspace DIR --study NAME [--baseline ARM] [--metric M] [--height PX]
// With --study, only the Study view of the workspace's study NAME (runs tagged study:NAME, e.g. a scripts/study.sh
// OUT=<workspace>/runs, tagged in the Study view) is photographed, as docs/screenshots/study.png; nothing is trained.
// Re-running with the same workspace reuses its finished runs: a workspace whose runs/ holds finished runs of the
// two presets (e.g. copies of the paper-setting study's paper-baseline-s1 and paper-aimkp-s1, with
// --baseline-preset paper-baseline --aimkp-preset paper-aimkp) is photographed without training.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { createClient, createPortTransport, type ApiClient } from '../shared/contract/client';
import { createWebSocketPort, type WebSocketLike } from '../shared/contract/ws-port';
import type { RunSummary } from '../shared/contract/service';
import { launchChromium } from '../test/e2e/browser';
import { ROOT, startWeb } from '../test/e2e/web-server';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const workspace = resolve(opt('workspace', join(ROOT, '.cache/ui-screenshots-workspace')));
const maxTrain = Number(opt('max-train', '600'));
const OUT = join(ROOT, 'docs/screenshots');
const encoder = opt('encoder', 'patch:7:16');
const dModel = Number(opt('d-model', '64'));
const SMALL = {
  maxTrain,
  maxValid: 120,
  encoder,
  model: { dModel, nLayers: 2, nHeads: 4, dFF: 2 * dModel, adapterHidden: 2 * dModel },
};
const EPOCHS = { baseline: Number(opt('baseline-epochs', '4')), aimkp: Number(opt('aimkp-epochs', '4')) };
const PRESET = { baseline: opt('baseline-preset', 'baseline'), aimkp: opt('aimkp-preset', 'aimkp') };

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function ensureRun(api: ApiClient, preset: string, epochs: number): Promise<RunSummary> {
  const done = (await api.call('runs.list', { preset })).runs.find(
    (r) => r.dataset === 'clipart-kp' && (r.status === 'completed' || r.status === 'running' || r.status === 'queued'),
  );
  const id =
    done?.id ??
    (
      await api.call('runs.start', {
        preset,
        dataset: 'clipart-kp',
        overrides: { ...SMALL, epochs },
        seeds: [1],
        name: `${preset} (ClipArt-KP, ${maxTrain} items)`,
      })
    ).runs[0].id;
  return waitFor(
    `${preset} to finish`,
    async () => {
      const r = (await api.call('runs.list', {})).runs.find((x) => x.id === id);
      if (!r) return null;
      if (r.status === 'failed') throw new Error(`${preset} failed: ${r.error?.message}`);
      return r.status === 'completed' ? r : null;
    },
    60 * 60_000,
  );
}

async function ensureEvaluated(api: ApiClient, id: string): Promise<void> {
  const has = () =>
    api
      .call('runs.get', { id })
      .then((g) => (g.metrics.filter((m) => m.split === 'test' && m.decode === 'greedy').length >= 3 ? true : null));
  if (await has()) return;
  await api.call('runs.evaluate', { id, decode: { strategy: 'greedy' } });
  await waitFor(`evaluation of ${id}`, has, 30 * 60_000);
}

/** The Study view of one study, the page made tall enough for its tables and charts (<main> scrolls, not the page). */
async function shootStudy(name: string): Promise<void> {
  const web = await startWeb(workspace);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: Number(opt('height', '1400')) } });
    await page.addInitScript('globalThis.__name = (f) => f;');
    const q = new URLSearchParams({ study: name });
    const baselineArm = opt('baseline', '');
    if (baselineArm) q.set('baseline', baselineArm);
    const metric = opt('metric', '');
    if (metric) q.set('metric', metric);
    await page.goto(`${web.url}#/study?${q.toString()}`);
    await page.waitForSelector('[data-testid="study-arms"], [data-testid="study-error"]', { timeout: 120_000 });
    const error = await page.$('[data-testid="study-error"]');
    if (error) throw new Error(`the Study view says: ${await error.textContent()}`);
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(OUT, 'study.png') });
    console.log('docs/screenshots/study.png');
  } finally {
    await browser.close();
    await web.stop();
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  const study = opt('study', '');
  if (study) return shootStudy(study);
  const web = await startWeb(workspace);
  const port = createWebSocketPort(new URL('api', web.url).href.replace(/^http/, 'ws'), {
    connect: (u) => new WebSocket(u) as unknown as WebSocketLike,
  });
  const api = createClient(createPortTransport(port));
  try {
    const baseline = await ensureRun(api, PRESET.baseline, EPOCHS.baseline);
    const aimkp = await ensureRun(api, PRESET.aimkp, EPOCHS.aimkp);
    await ensureEvaluated(api, baseline.id);
    await ensureEvaluated(api, aimkp.id);

    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.addInitScript('globalThis.__name = (f) => f;');
    const shoot = async (hash: string, name: string, ready: string, prepare?: () => Promise<void>) => {
      await page.goto(`${web.url}#${hash}`);
      await page.waitForSelector(ready, { timeout: 60_000 });
      await prepare?.();
      await page.waitForTimeout(800);
      await page.screenshot({ path: join(OUT, `${name}.png`) });
      console.log(`docs/screenshots/${name}.png`);
    };
    await shoot('/datasets/clipart-kp', 'datasets', '[data-testid="ds-items"] li');
    await shoot(`/runs/${aimkp.id}`, 'run-aimkp', '[data-testid="chart-strides"]', async () => {
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="chart-validation"]')?.getAttribute('data-epochs')) >= 1,
      );
    });
    await shoot('/runs', 'runs', '[data-testid="runs-table"]', async () => {
      await page.click(`[data-testid="pin-${baseline.id}"]`);
      for (const id of [baseline.id, aimkp.id]) await page.check(`tr[data-run="${id}"] input[type="checkbox"]`);
    });
    await shoot(
      `/compare?baseline=${baseline.id}&other=${aimkp.id}&mode=multimodal&sort=diff-desc`,
      'compare',
      '[data-testid="cmp-case"]',
    );
    await shoot('/new', 'new-run', '[data-testid="hp-epochs"]', async () => {
      await page.check('[data-testid="preset-aimkp-no-filter"]');
      await page.fill('[data-testid="hp-epochs"]', '6');
      await page.evaluate(() => document.querySelector('.hp-group')?.scrollIntoView());
    });
    await shoot('/try', 'try-it', `[data-testid="try-run-${aimkp.id}"]`, async () => {
      await page.check('[data-testid="try-source-item"]');
      await page.selectOption('[data-testid="try-dataset"]', 'clipart-kp');
      await page.fill('[data-testid="try-item-search"]', 'cat');
      await page.click('[data-testid="try-item-find"]');
      await page.locator('input[name="try-item"]').first().check();
      await page.click('[data-testid="try-predict"]');
      await page.waitForSelector('[data-testid="try-results"]', { timeout: 120_000 });
      await page.evaluate(() => document.querySelector('main')?.scrollBy(0, 260));
    });
    await shoot('/settings', 'settings', '[data-testid="set-workspace"]');
    // Dark mode follows the system (prefers-color-scheme).
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(`/runs/${aimkp.id}`, 'run-aimkp-dark', '[data-testid="chart-strides"]');
    await browser.close();
  } finally {
    port.close();
    await web.stop();
  }
}

await main();
