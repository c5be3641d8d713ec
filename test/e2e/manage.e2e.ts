// Issue 16, items 4, 7 and 8, in Chromium against `npm run web`: importing a data set with a missing and a corrupt
// image lists both problems with their lines; a name that exists is asked about; a failed import card can be
// dismissed; Try it counts characters, hints when there is nothing to read and clears old results when a request
// fails; a run is renamed, tagged and deleted (after a confirmation) in the Runs table, and "Build table" with
// nothing ticked works. One tiny baseline trained with the CLI (and two copies of it) serves every step.
// Screenshots go to AIMKP_E2E_SHOTS (default test/e2e/screenshots/).
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../fixtures/temp-dirs';
import { trainTinyWithCli } from '../fixtures/tiny-cli-training';
import { chromiumAvailable } from './browser';
import { SHOTS } from './new-run-form';
import { openWorkbench, stepsWithFailureShots, type WorkbenchSession } from './session';
import type { WebServer } from './web-server';

describe(
  'run and data-set management in Chromium',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let dir = '';
    let workspace = '';
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;
    const broken = { src: '', missing: 0, corrupt: 0 };

    const it = stepsWithFailureShots('manage-', () => page);
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const text = async (sel: string) => (await page.textContent(sel)) ?? '';

    before(async () => {
      dir = tempDir('aimkp-e2e-manage-');
      workspace = join(dir, 'workspace');
      const run = join(workspace, 'runs', 'base-a');
      const data = trainTinyWithCli({ dir, out: run, preset: 'baseline', epochs: 1, items: 30, dataSeed: 3 });
      // Two more runs, copies of the first: one to delete, one that disappears under Try it.
      cpSync(run, join(workspace, 'runs', 'base-del'), { recursive: true });
      cpSync(run, join(workspace, 'runs', 'base-gone'), { recursive: true });

      // The probe's broken set: one image deleted, one overwritten with bytes that are no image.
      broken.src = join(dir, 'broken');
      cpSync(data, broken.src, { recursive: true });
      const lines = readFileSync(join(broken.src, 'manifest.jsonl'), 'utf8').trimEnd().split('\n');
      const withImage = lines
        .map((l, i) => ({ line: i + 1, image: (JSON.parse(l) as { image: string | null }).image }))
        .filter((x) => x.image !== null);
      unlinkSync(join(broken.src, withImage[0].image!));
      writeFileSync(join(broken.src, withImage[1].image!), 'not a png at all');
      broken.missing = withImage[0].line;
      broken.corrupt = withImage[1].line;

      session = await openWorkbench(workspace);
      ({ web, page } = session);
    });

    after(() => session?.close());

    async function importManifest(name: string, path: string): Promise<void> {
      await page.goto(`${web.url}#/datasets`);
      await page.waitForSelector('[data-testid="ds-stats"]');
      await page.evaluate(() => ((document.querySelector('details.import-box') as HTMLDetailsElement).open = true));
      await page.selectOption('[data-testid="imp-kind"]', 'manifest');
      await page.fill('[data-testid="imp-name"]', name);
      await page.fill('[data-testid="imp-path"]', path);
      await page.click('[data-testid="imp-start"]');
    }
    const importEnded = (name: string, state: string) =>
      page.waitForFunction(
        ([n, s]) =>
          Array.from(document.querySelectorAll('[data-testid="imp-job"]')).some(
            (j) => j.textContent?.includes(n) && j.textContent.includes(s),
          ),
        [name, state] as const,
        { timeout: 120_000 },
      );

    it('import with a missing and a corrupt image lists both with file and line; the given name is shown', async () => {
      await importManifest('Broken set', broken.src);
      await importEnded('Broken set', 'completed');
      await page.waitForURL(/#\/datasets\/broken-set/, { timeout: 30_000 });
      await page.waitForSelector('[data-testid="ds-issues"]', { timeout: 60_000 });
      const rows = await page.$$eval('[data-testid="ds-issues"] tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim() ?? '')),
      );
      const manifest = join(broken.src, 'manifest.jsonl');
      assert.deepEqual(
        rows.map((r) => [r[0], Number(r[1]), r[2], r[4]]),
        [
          [manifest, broken.missing, 'image', 'skipped'],
          [manifest, broken.corrupt, 'image', 'skipped'],
        ],
      );
      assert.match(rows[0][3], /does not exist/);
      assert.match(rows[1][3], /cannot be decoded/);
      assert.equal((await text('.ds-layout h2')).replace(/\s+/g, ' ').trim().startsWith('Broken set'), true);
      assert.match(await text('[data-testid="ds-broken-set"]'), /Broken set\s*manifest · 28 items/);
      assert.doesNotMatch(await text('.facts'), /Created\s*—/);
      // No item with a broken image is offered: every thumbnail, loaded now (they are lazy), decodes.
      await page.$$eval('[data-testid="ds-items"] img', (xs) =>
        xs.forEach((x) => ((x as HTMLImageElement).loading = 'eager')),
      );
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('[data-testid="ds-items"] img')).every(
          (x) => (x as HTMLImageElement).complete,
        ),
      );
      const imgs = await page.$$eval('[data-testid="ds-items"] img', (xs) =>
        xs.map((x) => (x as HTMLImageElement).naturalWidth),
      );
      assert.ok(imgs.length > 0 && imgs.every((w) => w > 0), String(imgs));
      await shot('e2e-manage-import-issues');
    });

    it('re-importing a name asks; a failed import card can be dismissed', async () => {
      await importManifest('Broken set', broken.src);
      await page.waitForSelector('[data-testid="imp-taken"]');
      assert.match(await text('[data-testid="imp-taken"]'), /named Broken set already exists \(id broken-set\)/);
      await shot('e2e-manage-import-taken');
      await page.click('[data-testid="imp-taken-cancel"]');
      assert.equal(await page.$('[data-testid="imp-taken"]'), null);

      await importManifest('Nowhere', join(dir, 'no-such-folder'));
      await importEnded('Nowhere', 'failed');
      const cards = () => page.$$eval('[data-testid="imp-job"]', (xs) => xs.map((x) => x.textContent ?? ''));
      assert.ok((await cards()).some((c) => c.includes('Nowhere') && c.includes('no-such-folder')));
      await shot('e2e-manage-import-failed');
      const failed = page.locator('[data-testid="imp-job"]', { hasText: 'Nowhere' });
      await failed.locator('[data-testid="imp-dismiss"]').click();
      assert.ok(!(await cards()).some((c) => c.includes('Nowhere')));
    });

    it('Try it: counter, hint with nothing to read, whole rows pick an item, old results cleared on failure', async () => {
      await page.goto(`${web.url}#/try`);
      await page.waitForSelector('[data-testid="try-run-base-gone"]');
      for (const id of ['base-a', 'base-del']) await page.uncheck(`[data-testid="try-run-${id}"]`);
      await page.check('[data-testid="try-run-base-gone"]');
      assert.match(await text('[data-testid="try-hint"]'), /Give an image, a text, or both/);
      assert.equal(await page.isDisabled('[data-testid="try-predict"]'), true);
      await page.fill('[data-testid="try-text"]', 'x'.repeat(20_001));
      assert.match(await text('[data-testid="try-text-count"]'), /20,001 \/ 20,000 characters/);
      assert.match(await text('[data-testid="try-hint"]'), /over the limit of 20,000/);
      await page.fill('[data-testid="try-text"]', 'a red circle at the harbour');
      assert.match(await text('[data-testid="try-text-count"]'), /^27 \/ 20,000 characters$/);
      await page.click('[data-testid="try-predict"]');
      await page.waitForSelector('[data-testid="try-result-base-gone"]', { timeout: 60_000 });

      // A data-set item picked by a click on its row's text, not the radio button.
      await page.check('[data-testid="try-source-item"]');
      await page.selectOption('[data-testid="try-dataset"]', 'broken-set');
      await page.click('[data-testid="try-item-find"]');
      const row = page.locator('.pick-row').first();
      await row.locator('span').click();
      assert.equal(await row.locator('input').isChecked(), true);
      await shot('e2e-manage-try-item');

      // The run goes (deleted elsewhere): the next request fails, and the old answer leaves with it.
      rmSync(join(workspace, 'runs', 'base-gone'), { recursive: true, force: true });
      await page.click('[data-testid="try-predict"]');
      await page.waitForSelector('.error[role="alert"]', { timeout: 60_000 });
      assert.equal(await page.$('[data-testid="try-results"]'), null);
      await shot('e2e-manage-try-failed');
    });

    it('New run: "Initialise from" picks among base runs and says how to make one when there is none', async () => {
      await page.goto(`${web.url}#/new`);
      await page.check('[data-testid="preset-paper-aimkp"]');
      await page.waitForSelector('[data-testid="init-from-msg"]');
      assert.match(await text('[data-testid="init-from-msg"]'), /No base run in this workspace: run aimkp pretrain/);
      assert.match(await text('[data-testid="new-blockers"]'), /Initialise from: choose a base run/);
      assert.equal(await page.isDisabled('[data-testid="new-launch"]'), true);
      assert.doesNotMatch(await text('main'), /--init-from/);
      await page.locator('[data-testid="new-launch"]').scrollIntoViewIfNeeded();
      await shot('e2e-manage-new-run-base');
    });

    it('Runs: rename, tag, delete after a confirmation; Build table with nothing ticked', async () => {
      await page.goto(`${web.url}#/runs`);
      await page.waitForSelector('[data-testid="manage-open-base-a"]');
      await page.click('[data-testid="manage-open-base-a"]');
      await page.click('[data-testid="rename-base-a"]');
      await page.fill('[data-testid="rename-input-base-a"]', 'my baseline');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() =>
        document.querySelector('tr[data-run="base-a"]')?.textContent?.includes('my baseline'),
      );
      await page.click('[data-testid="manage-open-base-a"]');
      await page.click('[data-testid="tags-base-a"]');
      await page.fill('[data-testid="tag-input-base-a"]', 'keep');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('tr[data-run="base-a"] .badge')).some((b) => b.textContent === 'keep'),
      );
      const config = JSON.parse(readFileSync(join(workspace, 'runs', 'base-a', 'config.json'), 'utf8')) as object;
      assert.ok(config, 'the folder keeps its id');

      await page.click('[data-testid="manage-open-base-a"]'); // closes it
      await page.click('[data-testid="manage-open-base-del"]');
      await page.click('[data-testid="delete-base-del"]');
      assert.match(await text('[data-run="base-del"] [role="alertdialog"]'), /cannot be undone/);
      await shot('e2e-manage-delete-confirm');
      await page.click('[data-testid="delete-cancel-base-del"]');
      assert.equal(existsSync(join(workspace, 'runs', 'base-del')), true, 'cancel keeps it');
      await page.click('[data-testid="manage-open-base-del"]');
      await page.click('[data-testid="delete-base-del"]');
      await page.click('[data-testid="delete-confirm-base-del"]');
      await page.waitForFunction(() => document.querySelector('tr[data-run="base-del"]') === null);
      assert.equal(existsSync(join(workspace, 'runs', 'base-del')), false);

      await page.click('[data-testid="export-run"]');
      await page.waitForSelector('[data-testid="export-skipped"]');
      // base-gone, deleted on disk under Try it, may still be listed: skipped too, never a failed export.
      assert.match(await text('[data-testid="export-skipped"]'), /my baseline: not evaluated on test/);
      assert.equal(await page.$('.error[role="alert"]'), null);
      await shot('e2e-manage-runs');
      assert.deepEqual(session?.errors, []);
    });
  },
);
