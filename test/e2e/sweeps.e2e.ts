// A sweep end to end in Debian's Chromium against `npm run web`: in the New run view's sweep mode, a 2×2 sweep
// (a grid axis of two values × two seeds, tiny models, one epoch) shows how many runs it makes; launched, its group
// in Runs fills in (queued → running → done) and shows one row per cell with mean ± std over the seeds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser';
import { fillNewRun, SHOTS, TINY_MODEL } from './new-run-form';
import { ROOT, startWeb, type WebServer } from './web-server';

const TINY = { ...TINY_MODEL, epochs: '1' };

describe(
  'a sweep launched from the New run view, its group in Runs',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let dir = '';
    let web: WebServer;
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    before(async () => {
      mkdirSync(SHOTS, { recursive: true });
      dir = mkdtempSync(join(tmpdir(), 'aimkp-e2e-sweep-'));
      const workspace = join(dir, 'workspace');
      // The data set straight into the workspace's data sets (what an import makes).
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'bin/aimkp.mjs'),
          'data',
          'synth',
          '--n',
          '40',
          '--seed',
          '2',
          '--out',
          join(workspace, 'datasets', 'sw'),
        ],
        { cwd: ROOT, stdio: 'pipe' },
      );
      web = await startWeb(workspace);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.addInitScript('globalThis.__name = (f) => f;');
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    });

    after(async () => {
      await browser?.close();
      await web?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('sweep mode counts the runs; the launched 2×2 sweep fills in its group with mean ± std per cell', async () => {
      try {
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
        assert.deepEqual(errors, []);
      } catch (e) {
        await page?.screenshot({ path: join(SHOTS, 'failed-sweep.png') }).catch(() => undefined);
        throw e;
      }
    });
  },
);
