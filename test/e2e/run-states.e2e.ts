// Issue 16 in Debian's Chromium against `npm run web`: the Run view follows the job as the supervisor knows it
// (queued → loading the data / encoding images → training → completed) with no error banner at any moment of a
// normal run; a run that fails in its first second shows failed with its reason, without a reload; and Compare's
// "Run the robustness suite on both" ends in the report in the robustness section where it was asked for.
// Tiny models on a 40-item synthetic set; screenshots in AIMKP_E2E_SHOTS (default test/e2e/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../fixtures/temp-dirs';
import { aimkpCli } from '../fixtures/tiny-cli-training';
import { chromiumAvailable } from './browser';
import { fillNewRun, SHOTS, TINY_MODEL } from './new-run-form';
import { openWorkbench, stepsWithFailureShots, type WorkbenchSession } from './session';
import type { WebServer } from './web-server';

const TIMEOUT = 300_000;
const TINY = TINY_MODEL;

/** What the page showed over time, sampled every 50 ms in the page (a state that lasts 100 ms is not missed). */
interface Seen {
  statuses: string[];
  phases: string[];
  errors: string[];
  labels: string[];
}

// Runs in the page: samples the Run view's status, phase, progress labels and every error element.
const RECORDER = `
  globalThis.__seen = { statuses: [], phases: [], errors: [], labels: [] };
  const add = (list, v) => { if (v && list[list.length - 1] !== v) list.push(v); };
  setInterval(() => {
    const s = globalThis.__seen;
    add(s.statuses, document.querySelector('[data-testid="run-status"]')?.textContent?.trim());
    add(s.phases, document.querySelector('[data-testid="run-phase"]')?.textContent?.trim());
    add(s.phases, document.querySelector('[data-testid="phase-progress"]')?.getAttribute('aria-label'));
    for (const p of document.querySelectorAll('[role="progressbar"]')) add(s.labels, p.getAttribute('aria-label'));
    for (const e of document.querySelectorAll('.error, [role="alert"]')) add(s.errors, e.textContent?.trim());
  }, 50);
`;

describe(
  'run states in Chromium against npm run web',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;
    const ids: { a?: string; b?: string } = {};

    const it = stepsWithFailureShots('states-', () => page);
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const text = async (testid: string) => ((await page.textContent(`[data-testid="${testid}"]`)) ?? '').trim();
    const seen = () => page.evaluate(() => (globalThis as unknown as { __seen: Seen }).__seen);
    const resetSeen = () =>
      page.evaluate(() => {
        const s = (globalThis as unknown as { __seen: Seen }).__seen;
        for (const k of ['statuses', 'phases', 'errors', 'labels'] as const) s[k].length = 0;
      });
    const waitStatus = (status: string, timeout = TIMEOUT) =>
      page.waitForFunction(
        (s) => document.querySelector('[data-testid="run-status"]')?.textContent?.trim() === s,
        status,
        { timeout },
      );

    before(async () => {
      const workspace = join(tempDir('aimkp-e2e-states-'), 'workspace');
      aimkpCli(['data', 'synth', '--n', '40', '--seed', '3', '--out', join(workspace, 'datasets', 'synth')]);
      // A data set without a train item: a training on it fails while it prepares, in its first second.
      mkdirSync(join(workspace, 'datasets', 'no-train'), { recursive: true });
      writeFileSync(
        join(workspace, 'datasets', 'no-train', 'manifest.jsonl'),
        [1, 2, 3]
          .map((i) =>
            JSON.stringify({ id: `t${i}`, split: 'test', text: `post ${i}`, image: null, keyphrases: ['kp'] }),
          )
          .join('\n') + '\n',
      );
      session = await openWorkbench(workspace, { initScript: RECORDER });
      ({ web, page } = session);
    });

    after(() => session?.close());

    /** Launches a tiny baseline from New run (the view scrolled to its Launch button) and returns the run's id. */
    async function launch(dataset: string, seed: string, name: string): Promise<string> {
      await page.goto(`${web.url}#/new`);
      await page.check('[data-testid="preset-baseline"]');
      await page.waitForSelector('[data-testid="hp-epochs"]');
      await page.selectOption('[data-testid="new-dataset"]', dataset);
      await page.fill('[data-testid="new-seeds"]', seed);
      await page.fill('[data-testid="hp-epochs"]', '2');
      await fillNewRun(page, TINY, name);
      await page.click('[data-testid="new-launch"]');
      await page.waitForURL(/#\/runs\/[^/]+$/);
      return decodeURIComponent(page.url().split('#/runs/')[1]);
    }

    it('a normal run: queued, then its preparation and training, completed, and never an error banner', async () => {
      ids.a = await launch('synth', '1', 'first');
      // The second waits behind the first (one job at a time): queued is a normal state.
      ids.b = await launch('synth', '2', 'second');
      await resetSeen();
      // The Run view opens at its top, though New run was scrolled to its Launch button.
      assert.equal(await page.evaluate(() => document.getElementById('main')?.scrollTop), 0);
      await waitStatus('queued', 30_000);
      assert.match(await text('run-phase'), /Queued/);
      await shot('e2e-states-queued');
      await waitStatus('completed');
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) > 0,
      );
      // The recorder samples every 50 ms: let it take the state the page now shows before reading what it saw.
      await page.waitForFunction(() =>
        (globalThis as unknown as { __seen: Seen }).__seen.statuses.includes('completed'),
      );
      const s = await seen();
      assert.deepEqual(s.errors, [], 'no error banner at any moment');
      const order = ['queued', 'running', 'completed'];
      assert.deepEqual(
        s.statuses.filter((x) => order.includes(x)),
        order,
        `statuses seen: ${s.statuses.join(' → ')}`,
      );
      // The preparation is in the run's stream (the log's lines come from it); the view showed it unless it lasted
      // less than a frame (a warm image cache: all in one batch).
      const log = await text('run-log');
      assert.match(log, /job running[\s\S]*preparing[\s\S]*encoding[\s\S]*started baseline/);
      assert.ok(
        s.phases.some((p) => /Loading the data|Encoding images/.test(p)) ||
          /(\d\d:\d\d:\d\d) preparing[\s\S]*\1 started/.test(log),
        `the preparation is shown: ${s.phases.join(' | ')}`,
      );
      assert.ok(!s.labels.some((l) => /of \?/.test(l)), `no "step 0 of ?": ${s.labels.join(' | ')}`);
      // A baseline's loss legend lists only what it has: no masked rows.
      const legend = (await page.getAttribute('[data-testid="chart-loss"]', 'data-legend')) ?? '';
      assert.match(legend, /objective/);
      assert.doesNotMatch(legend, /masked/);
      assert.notEqual(await text('run-created'), '—');
      assert.ok(Number(await page.getAttribute('[data-testid="run-duration"]', 'data-ms')) > 0);
      await shot('e2e-states-completed');
    });

    it('a run that fails in its first second shows failed with its reason, without a reload', async () => {
      await launch('no-train', '3', 'no train items');
      await page.evaluate(() => ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
      await waitStatus('failed', 120_000);
      assert.match(await text('run-reason'), /no usable train items/);
      assert.doesNotMatch(await text('run-reason'), /TypeError|\bat\b.*\.ts/);
      assert.equal(await page.isDisabled('[data-testid="run-stop"]'), true, 'nothing to stop');
      assert.equal(await page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload), true);
      assert.equal(await page.locator('[data-testid="run-progress"]').count(), 0, 'no "step 0 of ?"');
      await shot('e2e-states-failed');
    });

    it("Compare's robustness suite runs on both and its report appears in the robustness section", async () => {
      await page.goto(
        `${web.url}#/compare?baseline=${encodeURIComponent(ids.a!)}&other=${encodeURIComponent(ids.b!)}&mode=multimodal`,
      );
      await page.click('[data-testid="cmp-evaluate"]', { timeout: 60_000 });
      await page.waitForSelector('[data-testid="cmp-case"]', { timeout: TIMEOUT });
      await page.click('details:has([data-testid="cmp-robustness-none"]) > summary');
      await resetSeen();
      await page.click('[data-testid="cmp-robustness-run"]');
      await page.waitForSelector('[data-testid="cmp-suite-job"]', { timeout: 30_000 });
      await shot('e2e-states-robustness-running');
      // Both suites end (their progress goes; a failure stays, with why) and the table holds both runs' scores.
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="cmp-suite-error"]') !== null ||
          (document.querySelectorAll('[data-testid="cmp-suite-job"]').length === 0 &&
            Array.from(document.querySelectorAll('[data-testid="cmp-robustness"] tbody tr td.num')).every(
              (td) => td.textContent?.trim() !== '—',
            ) &&
            document.querySelectorAll('[data-testid="cmp-robustness"] tbody tr').length > 0),
        null,
        { timeout: TIMEOUT },
      );
      const suiteErrors = await page.locator('[data-testid="cmp-suite-error"]').allTextContents();
      assert.deepEqual(suiteErrors, [], 'the suite completed on both');
      assert.ok((await page.locator('[data-testid="cmp-robustness"] tbody tr').count()) > 3);
      assert.deepEqual((await seen()).errors, []);
      await page.locator('[data-testid="cmp-robustness"]').scrollIntoViewIfNeeded();
      await shot('e2e-states-robustness');
      assert.deepEqual(session?.errors, []);
    });
  },
);
