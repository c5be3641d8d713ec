// A sweep end to end in Debian's Chromium against `npm run web`: in the New run view's sweep mode, a 2×2 sweep
// (a grid axis of two values × two seeds, tiny models, one epoch) shows how many runs it makes; launched, its group
// in Runs fills in (queued → running → done) and shows one row per cell with mean ± std over the seeds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../fixtures/temp-dirs';
import { aimkpCli } from '../fixtures/tiny-cli-training';
import { chromiumAvailable } from './browser';
import { fillNewRun, SHOTS, TINY_MODEL } from './new-run-form';
import { openWorkbench, stepsWithFailureShots, type WorkbenchSession } from './session';
import type { WebServer } from './web-server';

const TINY = { ...TINY_MODEL, epochs: '1' };

describe(
  'a sweep launched from the New run view, its group in Runs',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;

    const it = stepsWithFailureShots('sweep-', () => page);

    before(async () => {
      const workspace = join(tempDir('aimkp-e2e-sweep-'), 'workspace');
      // The data set straight into the workspace's data sets (what an import makes).
      aimkpCli(['data', 'synth', '--n', '40', '--seed', '2', '--out', join(workspace, 'datasets', 'sw')]);
      // Uncaught page errors only: console errors were never asserted here.
      session = await openWorkbench(workspace, { collect: 'page-only' });
      ({ web, page } = session);
    });

    after(() => session?.close());

    it('sweep mode counts the runs; the launched 2×2 sweep fills in its group with mean ± std per cell', async () => {
      await page.goto(`${web.url}#/new`);
      await page.check('[data-testid="preset-aimkp"]');
      await page.waitForSelector('[data-testid="hp-epochs"]');
      await page.check('[data-testid="new-mode-sweep"]');
      await page.fill('[data-testid="new-grid"]', 'aimkp.tauText = 0.5, 0.25');
      await page.fill('[data-testid="new-seeds"]', '1, 2');
      await page.selectOption('[data-testid="new-dataset"]', 'sw');
      await fillNewRun(page, TINY, 'e2e');
      assert.match((await page.textContent('[data-testid="new-sweep-count"]')) ?? '', /4 run\(s\)/);
      assert.match((await page.textContent('[data-testid="new-launch"]')) ?? '', /Launch sweep \(4 runs\)/);
      await page.screenshot({ path: join(SHOTS, 'e2e-sweep-new.png') });
      await page.click('[data-testid="new-launch"]');
      await page.waitForURL(/#\/runs$/);
      await page.waitForSelector('[data-testid="sweep-group"]');
      assert.match((await page.textContent('[data-testid="sweep-progress"]')) ?? '', /of 4/);
      assert.equal(await page.locator('[data-testid="sweep-cell"]').count(), 2, 'two cells (tauText 0.5, 0.25)');
      await page.waitForFunction(
        () => /4 done/.test(document.querySelector('[data-testid="sweep-progress"]')?.textContent ?? ''),
        null,
        { timeout: 400_000 },
      );
      const cells = await page.locator('[data-testid="sweep-cell"]').allTextContents();
      for (const c of cells) assert.match(c, /aimkp tauText=0\.(5|25)\s*2\s*[\d.]+ ± [\d.]+/, c);
      await page.screenshot({ path: join(SHOTS, 'e2e-sweep-runs.png') });
      assert.deepEqual(session?.errors, []);
    });
  },
);
