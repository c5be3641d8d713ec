// Issue 19 item 6 in Chromium against `npm run web`: the Study view of a workspace holding a study with known
// numbers (test/fixtures/study-runs.ts: copies of one tiny real training with hand-set scores and filter records,
// tagged study:premise). The page must show the service's means, CIs, Welch Δ and pooled acceptance beside the
// paper's Fig. 7, list what it left out, follow the metric and baseline pickers, and save a glob's runs as a study.
// Screenshots go to AIMKP_E2E_SHOTS (default test/e2e/screenshots/); study.png is the README's provisional one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { STUDY_RUNS, trainTemplate, writeRunFromTemplate } from '../fixtures/study-runs';
import { tempDir } from '../fixtures/temp-dirs';
import { chromiumAvailable } from './browser';
import { SHOTS } from './new-run-form';
import { openWorkbench, stepsWithFailureShots, type WorkbenchSession } from './session';
import type { WebServer } from './web-server';

describe(
  'the Study view in Chromium',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;

    const it = stepsWithFailureShots('study-', () => page);
    // innerText: what a reader sees, cells apart (textContent runs a row's cells together).
    const text = async (sel: string) => (await page.innerText(sel)).replace(/\s+/g, ' ').trim();

    before(async () => {
      const dir = tempDir('aimkp-e2e-study-');
      const template = trainTemplate(dir);
      const workspace = join(dir, 'workspace');
      for (const r of STUDY_RUNS)
        writeRunFromTemplate(template, join(workspace, 'runs', r.id), r, r.id === 'solo' ? [] : ['study:premise']);
      session = await openWorkbench(workspace);
      ({ web, page } = session);
    });

    after(() => session?.close());

    it('a study picked from the nav: arms with mean ± std, CI and n; Δ with Welch; acceptance beside Fig. 7', async () => {
      await page.goto(`${web.url}#/runs`);
      await page.click('nav >> text=Study');
      await page.waitForSelector('[data-testid="study-empty"]');
      await page.selectOption('[data-testid="study-pick"]', 'premise');
      await page.waitForSelector('[data-testid="study-arms"]');
      assert.match(page.url(), /#\/study\?study=premise/);
      assert.match(await text('[data-testid="study-facts"]'), /^7 runs selected, 6 with scores, 2 arms · split test/);
      // 10, 12, 14: 12 ± 2, CI 12 ± 4.302653 · 2/√3.
      assert.equal(
        await text('tr[data-arm="baseline-e6"] td[data-mode="multimodal"]'),
        '12.00 ± 2.00 [7.03, 16.97] · n = 3',
      );
      assert.equal(
        await text('tr[data-arm="baseline-e6"] td[data-mode="image"]'),
        '6.00 ± 1.41 [-6.71, 18.71] · n = 2',
      );
      assert.equal(
        await text('tr[data-arm="aimkp-e4"] td[data-mode="multimodal"]'),
        '16.00 ± 3.00 [8.55, 23.45] · n = 3',
      );
      // Welch: Δ 4, CI [−2.13, 10.13], t 1.92, df 3.48, p 0.138 (scipy ttest_ind(equal_var=False)).
      assert.equal(
        await text('tr[data-delta="aimkp-e4:multimodal"]'),
        'aimkp-e4 multimodal 3 vs 3 +4.00 [-2.13, 10.13] 1.92 3.48 0.138',
      );
      assert.equal(
        await text('tr[data-delta="aimkp-e4:image"]'),
        'aimkp-e4 image only 3 vs 2 +3.00 [-2.98, 8.98] 2.60 1.68 0.144',
      );
      // Pooled over seeds 1 and 2 (seed 3 has no filter record): 5/8 and 7/8, then 2/8 and 6/8.
      assert.equal(
        await text('[data-acceptance="aimkp-e4"] tr[data-epoch="2"]'),
        '2 62.5 % 5/8 87.5 % 7/8 87.0 % / 96.0 % (first masked epoch)',
      );
      assert.equal(
        await text('[data-acceptance="aimkp-e4"] tr[data-epoch="3"]'),
        '3 25.0 % 2/8 75.0 % 6/8 62.0 % / 77.0 % (last epoch)',
      );
      assert.equal(await page.$('[data-acceptance="baseline-e6"]'), null);
      const left = await text('[data-testid="study-left-out"]');
      assert.match(left, /aimkp-e4-s4: not evaluated on test with greedy decoding/);
      assert.match(left, /baseline-e6-s3 \(image only\): not evaluated/);
      assert.equal(await page.getAttribute('[data-testid="study-chart-multimodal"]', 'data-seeds'), '6');
      assert.equal(await page.getAttribute('[data-testid="study-chart-image"]', 'data-seeds'), '5');
      // <main> scrolls, not the page: a tall viewport photographs the whole view.
      await page.setViewportSize({ width: 1400, height: 1400 });
      await page.screenshot({ path: join(SHOTS, 'study.png') });
      await page.setViewportSize({ width: 1400, height: 1000 });
    });

    it('metric and baseline pickers: MAP@5, the other arm pinned, then none', async () => {
      await page.selectOption('[data-testid="study-metric"]', 'map@5');
      await page.waitForFunction(() =>
        document.querySelector('tr[data-arm="baseline-e6"] td[data-mode="multimodal"]')?.textContent?.includes('14.00'),
      );
      await page.selectOption('[data-testid="study-baseline"]', 'aimkp-e4');
      await page.waitForSelector('tr[data-delta="baseline-e6:multimodal"]');
      assert.match(
        await text('tr[data-delta="baseline-e6:multimodal"]'),
        /^baseline-e6 multimodal 3 vs 3 −4\.00 \[-10\.13, 2\.13\]/,
      );
      assert.match(page.url(), /baseline=aimkp-e4/);
      assert.match(page.url(), /metric=map(@|%40)5/);
      // the URL reopens the view with its metric
      await page.reload();
      await page.waitForFunction(() =>
        document.querySelector('tr[data-arm="baseline-e6"] td[data-mode="multimodal"]')?.textContent?.includes('14.00'),
      );
      assert.equal(await page.$eval('[data-testid="study-metric"]', (e) => (e as HTMLSelectElement).value), 'map@5');
      await page.selectOption('[data-testid="study-baseline"]', '');
      await page.waitForSelector('[data-testid="study-no-baseline"]');
      assert.equal(await page.$('[data-testid="study-deltas"]'), null);
    });

    it('runs by a glob, saved as a study (tags), reopened from the study list', async () => {
      await page.fill('[data-testid="study-pattern"]', 'sol?');
      await page.click('[data-testid="study-pattern-show"]');
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="study-facts"]')?.textContent?.trim().startsWith('1 runs'),
      );
      assert.equal(await text('tr[data-arm="solo"] td[data-mode="multimodal"]'), '13.00 — · n = 1');
      await page.fill('[data-testid="study-save-name"]', 'lone');
      await page.click('[data-testid="study-save"]');
      await page.waitForURL(/study=lone/);
      await page.waitForSelector('[data-testid="study-pick"] >> option[value="lone"]', { state: 'attached' });
      const options = await page.$$eval('[data-testid="study-pick"] option', (os) =>
        os.map((o) => o.textContent?.trim()),
      );
      assert.deepEqual(options, ['—', 'lone (1 runs)', 'premise (7 runs)']);
      assert.deepEqual(session?.errors, []);
    });
  },
);
