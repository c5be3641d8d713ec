// End to end in Debian's Chromium against `npm run web`, with real training of tiny models on a synthetic data set:
// import the data set in the UI, launch a baseline and an AimKP run, watch the progress bar and every chart update
// from real events, stop and resume the AimKP run, see a run made with `aimkp train` listed, export the Runs table
// as CSV, compare the two runs case by case (keyboard, link to a case), and predict with both in Try it.
// Each step saves a screenshot (AIMKP_E2E_SHOTS, default test/e2e/screenshots/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../fixtures/temp-dirs';
import { aimkpCli, trainTinyWithCli } from '../fixtures/tiny-cli-training';
import { chromiumAvailable } from './browser';
import { fillNewRun, SHOTS, TINY_MODEL } from './new-run-form';
import { openWorkbench, stepsWithFailureShots, type WorkbenchSession } from './session';
import { ROOT, type WebServer } from './web-server';

const TRAIN_TIMEOUT = 300_000;
/** An image file for the drop test (any bundled ClipArt-KP PNG other than the one chosen before it). */
const DROPPED = 'animals-crawfish1-ganson.png';
const TINY = { ...TINY_MODEL, checkpointEvery: '5' };

describe(
  'workbench in Chromium against npm run web',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let dir = '';
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;
    const ids: { baseline?: string; aimkp?: string; dataset?: string } = {};

    const it = stepsWithFailureShots('', () => page);
    const shot = async (name: string) => {
      await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    };
    const attr = (testid: string, name: string) => page.getAttribute(`[data-testid="${testid}"]`, name);
    const waitAttrAtLeast = (testid: string, name: string, min: number, timeout = TRAIN_TIMEOUT) =>
      page.waitForFunction(
        ([t, a, m]) =>
          Number(document.querySelector(`[data-testid="${t}"]`)?.getAttribute(a as string) ?? -1) >= (m as number),
        [testid, name, min] as const,
        { timeout },
      );
    /** Waits for the run's status badge to read `status`; a run that fails instead fails the test at once, with its log. */
    const waitStatus = async (status: string, timeout = TRAIN_TIMEOUT) => {
      const seen = await page.waitForFunction(
        (s) => {
          const t = document.querySelector('[data-testid="run-status"]')?.textContent?.trim();
          return t === s || t === 'failed' ? t : false;
        },
        status,
        { timeout },
      );
      if ((await seen.jsonValue()) === 'failed')
        throw new Error(`the run failed:\n${await page.textContent('[data-testid="run-log"]')}`);
    };
    /** Clicks Evaluate on the open Run view and waits for its test scores (three modes). */
    const evaluateHere = async () => {
      await page.click('[data-testid="run-evaluate"]');
      await page.waitForSelector('[data-testid="eval-progress"]');
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="run-metrics"] tbody tr').length >= 3,
        null,
        { timeout: TRAIN_TIMEOUT },
      );
    };

    before(async () => {
      dir = tempDir('aimkp-e2e-');
      const workspace = join(dir, 'workspace');
      // A run made with the CLI straight into the workspace: the UI must list it like its own.
      const out = join(workspace, 'runs', 'cli-baseline');
      trainTinyWithCli({ dir, out, preset: 'baseline', epochs: 1, items: 40, dataSeed: 2, config: { maxValid: 6 } });
      session = await openWorkbench(workspace);
      ({ web, page } = session);
    });

    after(() => session?.close());

    it('imports a synthetic data set with a progress bar and shows its statistics and items', async () => {
      await page.goto(`${web.url}#/datasets`);
      await page.waitForSelector('[data-testid="ds-stats"]'); // the bundled ClipArt-KP first
      await page.selectOption('[data-testid="imp-kind"]', 'synthetic');
      await page.fill('[data-testid="imp-name"]', 'synth-e2e');
      await page.fill('[data-testid="imp-items"]', '60');
      await page.click('[data-testid="imp-start"]');
      await page.waitForSelector('[data-testid="imp-progress"]');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="imp-job"]')?.textContent?.includes('completed'),
        null,
        { timeout: 120_000 },
      );
      await page.waitForURL(/#\/datasets\/.+/, { timeout: 30_000 });
      ids.dataset = decodeURIComponent(page.url().split('#/datasets/')[1]);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ds-items"] li').length > 0);
      const stats = await page.textContent('[data-testid="ds-stats"]');
      assert.match(stats ?? '', /train\s*4\d/); // 8:1:1 of 60
      assert.equal(await page.getAttribute('[data-testid="imp-progress"]', 'aria-valuenow'), '100');
      await shot('e2e-datasets');
    });

    it('imports CMKP release files (the bundled test split) and lists their items', async () => {
      await page.goto(`${web.url}#/datasets`);
      await page.waitForSelector('[data-testid="ds-stats"]');
      await page.evaluate(() => ((document.querySelector('details.import-box') as HTMLDetailsElement).open = true));
      await page.selectOption('[data-testid="imp-kind"]', 'cmkp');
      await page.fill('[data-testid="imp-name"]', 'cmkp-e2e');
      await page.fill('[data-testid="imp-path"]', join(ROOT, 'data/cmkp/test_src.txt'));
      await page.click('[data-testid="imp-start"]');
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('[data-testid="imp-job"]')).some(
            (j) => j.textContent?.includes('cmkp-e2e') && j.textContent.includes('completed'),
          ),
        null,
        { timeout: 120_000 },
      );
      await page.goto(`${web.url}#/datasets/cmkp-e2e`);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="ds-items"] li').length > 0, null, {
        timeout: 30_000,
      });
      // Every line of test_src.txt is a test item (images are not shipped: each item is text-only, reported as such).
      assert.match((await page.textContent('[data-testid="ds-stats"]')) ?? '', /test\s*\d+/);
    });

    async function launch(preset: string, epochs: string): Promise<string> {
      await page.goto(`${web.url}#/new`);
      await page.check(`[data-testid="preset-${preset}"]`);
      await page.waitForSelector('[data-testid="hp-epochs"]');
      await page.selectOption('[data-testid="new-dataset"]', ids.dataset!);
      await page.fill('[data-testid="hp-epochs"]', epochs);
      await fillNewRun(page, TINY, `${preset} e2e`);
      // Changed fields are highlighted with the preset's value next to them.
      assert.ok((await page.locator('.hp.changed').count()) >= Object.keys(TINY).length);
      await shot(`e2e-new-run-${preset}`);
      await page.click('[data-testid="new-launch"]');
      await page.waitForURL(/#\/runs\/[^/]+$/);
      return decodeURIComponent(page.url().split('#/runs/')[1]);
    }

    it('launches a baseline run and shows its progress and charts from real events', async () => {
      ids.baseline = await launch('baseline', '3');
      await waitAttrAtLeast('chart-loss', 'data-points', 1);
      await waitAttrAtLeast('chart-validation', 'data-epochs', 1);
      await waitStatus('completed');
      await waitAttrAtLeast('chart-validation', 'data-epochs', 3);
      assert.equal(await attr('run-progress', 'aria-valuenow'), '100');
      assert.match((await page.textContent('[data-testid="run-log"]')) ?? '', /run completed/);
      assert.equal(
        await page.locator('[data-testid="chart-cosine"]').count(),
        0,
        'a baseline has no gradient-filter charts',
      );
      await evaluateHere();
      await shot('e2e-run-baseline');
    });

    it('launches an AimKP run; every chart updates live; stop and resume continue it to the end', async () => {
      ids.aimkp = await launch('aimkp', '4');
      await waitAttrAtLeast('chart-loss', 'data-points', 2);
      const early = Number(await attr('chart-loss', 'data-points'));
      const stepsTotal = Number(await attr('run-panel', 'data-total-steps'));
      await page.click('[data-testid="run-stop"]');
      await waitStatus('stopped', 120_000);
      const stoppedAt = Number(await attr('chart-loss', 'data-points'));
      assert.ok(stoppedAt >= early && stoppedAt < stepsTotal, `stopped at step ${stoppedAt} of ${stepsTotal}`);
      await shot('e2e-run-aimkp-stopped');
      await page.click('[data-testid="run-resume"]');
      await waitAttrAtLeast('chart-cosine', 'data-points', 1);
      await waitAttrAtLeast('chart-acceptance', 'data-epochs', 2);
      await waitAttrAtLeast('chart-strides', 'data-epochs', 2);
      await waitStatus('completed');
      await waitAttrAtLeast('chart-validation', 'data-epochs', 4);
      assert.equal(
        Number(await attr('chart-loss', 'data-points')),
        stepsTotal,
        'after resume the loss chart holds every step once',
      );
      assert.equal(await attr('run-progress', 'aria-valuenow'), '100');
      assert.match((await page.textContent('[data-testid="best-epoch"]')) ?? '', /best epoch: \d/);
      await evaluateHere();
      await page.fill('[data-testid="loss-smoothing"]', '0.9');
      await page.check('[data-testid="loss-log"]');
      await shot('e2e-run-aimkp');
    });

    it('stops a run started in the UI, resumes it with aimkp train --resume, and shows it completed', async () => {
      const id = await launch('baseline', '3');
      await waitAttrAtLeast('chart-loss', 'data-points', 2);
      await page.click('[data-testid="run-stop"]');
      await waitStatus('stopped', 120_000);
      const total = Number(await attr('run-panel', 'data-total-steps'));
      // The same run folder, continued from the command line.
      aimkpCli(['train', '--out', join(dir, 'workspace', 'runs', id), '--resume', '--quiet']);
      await page.reload();
      await waitStatus('completed', 60_000);
      await waitAttrAtLeast('chart-loss', 'data-points', total, 60_000);
      assert.equal(
        Number(await attr('chart-loss', 'data-points')),
        total,
        'every step once, the UI part and the CLI part',
      );
      assert.match((await page.textContent('[data-testid="run-log"]')) ?? '', /resumed/);
      await shot('e2e-run-resumed-from-cli');
    });

    it('lists every run, the CLI-made one too, and exports the table as CSV', async () => {
      await page.goto(`${web.url}#/runs`);
      await page.waitForSelector(`tr[data-run="${ids.aimkp}"]`);
      const cliRow = page.locator('tr[data-run="cli-baseline"]');
      assert.equal(await cliRow.count(), 1, 'the run made with aimkp train is listed');
      assert.match((await cliRow.textContent()) ?? '', /CLI/);
      await page.click(`[data-testid="pin-${ids.baseline}"]`);
      await page.check(`tr[data-run="${ids.baseline}"] input[type="checkbox"]`);
      await page.check(`tr[data-run="${ids.aimkp}"] input[type="checkbox"]`);
      await page.waitForSelector('[data-testid="chart-overlay"]');
      await page.selectOption('[data-testid="export-format"]', 'csv');
      await page.click('[data-testid="export-run"]');
      await page.waitForSelector('[data-testid="export-text"]');
      const csv = (await page.textContent('[data-testid="export-text"]')) ?? '';
      assert.match(csv.split('\n')[0], /preset/i);
      assert.match(csv, /baseline/);
      assert.match(csv, /aimkp/);
      const download = page.waitForEvent('download');
      await page.click('[data-testid="export-download"]');
      assert.equal((await download).suggestedFilename(), 'aimkp-report.csv');
      await shot('e2e-runs');
    });

    it('compares the two finished runs case by case, with keyboard navigation and a link that reopens a case', async () => {
      await page.goto(
        `${web.url}#/compare?baseline=${encodeURIComponent(ids.baseline!)}&other=${encodeURIComponent(ids.aimkp!)}&mode=multimodal`,
      );
      // Both runs were evaluated from their Run views (greedy, three modes).
      await page.waitForSelector('[data-testid="cmp-case"]', { timeout: 60_000 });
      const first = await attr('cmp-case', 'data-case');
      await page.keyboard.press('j');
      await page.waitForFunction(
        (f) => document.querySelector('[data-testid="cmp-case"]')?.getAttribute('data-case') !== f,
        first,
      );
      await page.keyboard.press('ArrowDown');
      const third = await attr('cmp-case', 'data-case');
      await page.keyboard.press('k');
      await page.waitForFunction(
        (t) => document.querySelector('[data-testid="cmp-case"]')?.getAttribute('data-case') !== t,
        third,
      );
      const second = await attr('cmp-case', 'data-case');
      assert.notEqual(second, first);
      // The URL follows the selection once the key presses settle (it is written 150 ms after the last one).
      await page.waitForFunction(
        (id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('case') === id,
        second,
      );
      const link = page.url();
      assert.ok((await page.locator('[data-testid="cmp-side-baseline"] li').count()) > 0);
      assert.match((await page.textContent('[data-testid="cmp-summary"]')) ?? '', /common cases/);
      await page.fill('[data-testid="mask-image-stride"]', '3');
      assert.equal(await page.locator('[data-testid="mask-grid"] span.kept').count(), 4);
      // Every robustness condition applied to this case, both models.
      await page.click('summary:has-text("Robustness conditions")');
      await page.click('[data-testid="cmp-case-conditions-run"]');
      await page.waitForSelector('[data-testid="cmp-case-conditions"] tbody tr', { timeout: 120_000 });
      const conditions = await page.locator('[data-testid="cmp-case-conditions"] tbody tr td.mono').allTextContents();
      assert.equal(conditions[0], 'clean');
      for (const name of ['image-mask@0.5', 'text-only', 'image-only', 'image-swap', 'text-swap', 'image-noise@1'])
        assert.ok(conditions.includes(name), name);
      await shot('e2e-compare');
      await page.locator('[data-testid="cmp-case-conditions"]').scrollIntoViewIfNeeded();
      await shot('e2e-compare-case-conditions');
      // The link reopens the same case in a fresh page.
      const other = await session!.newPage();
      await other.goto(link);
      await other.waitForFunction(
        (s) => document.querySelector('[data-testid="cmp-case"]')?.getAttribute('data-case') === s,
        second,
        { timeout: 30_000 },
      );
      await other.close();
    });

    it('predicts a data-set item with both runs in Try it, with the time each took', async () => {
      await page.goto(`${web.url}#/try`);
      await page.waitForSelector(`[data-testid="try-run-${ids.aimkp}"]`);
      for (const box of await page.locator('input[data-testid^="try-run-"]').all()) await box.uncheck();
      for (const id of [ids.baseline!, ids.aimkp!]) await page.check(`[data-testid="try-run-${id}"]`);
      await page.check('[data-testid="try-source-item"]');
      await page.selectOption('[data-testid="try-dataset"]', ids.dataset!);
      await page.click('[data-testid="try-item-find"]');
      await page.locator('input[name="try-item"]').first().check();
      await page.click('[data-testid="try-predict"]');
      await page.waitForSelector('[data-testid="try-results"]', { timeout: 120_000 });
      for (const id of [ids.baseline!, ids.aimkp!])
        assert.match((await page.textContent(`[data-testid="try-result-${id}"]`)) ?? '', /\d+ ms/);
      await shot('e2e-try');
      // An image file of one's own and a typed text.
      await page.check('input[type="radio"][value="upload"]');
      await page.setInputFiles(
        '[data-testid="try-file"]',
        join(ROOT, 'data/clipart-kp/images/animals-armadillo-architetto-fra-01.png'),
      );
      await page.waitForSelector('[data-testid="try-drop"] img');
      await page.fill('[data-testid="try-text"]', 'an armadillo at the forest');
      await page.click('[data-testid="try-predict"]');
      // The results (and the input shown above them) change together when the answer comes; an upload has no gold.
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="try-results"]')?.textContent?.includes('an armadillo at the forest'),
        null,
        { timeout: 120_000 },
      );
      assert.doesNotMatch((await page.textContent('[data-testid="try-results"]')) ?? '', /Gold:/);
      for (const id of [ids.baseline!, ids.aimkp!])
        assert.match((await page.textContent(`[data-testid="try-result-${id}"]`)) ?? '', /\d+ ms/);
      await shot('e2e-try-upload');
      // Dropping another image file on the drop zone works as choosing it.
      const before = await page.getAttribute('[data-testid="try-drop"] img', 'src');
      const png = readFileSync(join(ROOT, 'data/clipart-kp/images', DROPPED)).toString('base64');
      const dataTransfer = await page.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], 'dropped.png', { type: 'image/png' }),
        );
        return dt;
      }, png);
      await page.dispatchEvent('[data-testid="try-drop"]', 'drop', { dataTransfer });
      await page.waitForFunction(
        (b) => document.querySelector('[data-testid="try-drop"] img')?.getAttribute('src') !== b,
        before,
      );
      assert.equal(await page.getAttribute('[data-testid="try-drop"] img', 'src'), `data:image/png;base64,${png}`);
      await page.fill('[data-testid="try-text"]', 'a dropped armadillo');
      await page.click('[data-testid="try-predict"]');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="try-results"]')?.textContent?.includes('a dropped armadillo'),
        null,
        { timeout: 120_000 },
      );
    });

    it('shows the settings and raised no page errors', async () => {
      await page.goto(`${web.url}#/settings`);
      await page.waitForSelector('[data-testid="set-workspace"]');
      assert.match(await page.inputValue('[data-testid="set-workspace"]'), /workspace$/);
      // Saving a setting keeps it: a fresh page load reads it back from the server.
      await page.fill('[data-testid="set-concurrency"]', '2');
      await page.click('[data-testid="set-save"]');
      await page.waitForSelector('[role="status"]:has-text("aved")');
      await page.reload();
      await page.waitForSelector('[data-testid="set-workspace"]');
      await page.waitForFunction(
        () => (document.querySelector('[data-testid="set-concurrency"]') as HTMLInputElement | null)?.value === '2',
      );
      await shot('e2e-settings');
      assert.deepEqual(session?.errors, []);
    });
  },
);
