// Data-parallel workers in the UI, against `npm run web` (the bundled server, job worker and pool worker): the
// Settings field round trip, and a run made with `aimkp train --workers 2` shows "2 workers" in the Run view's
// header and completes when resumed from the UI with Settings' workers = 2 (pool workers inside the job's worker).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir } from '../fixtures/temp-dirs';
import { trainTinyWithCli } from '../fixtures/tiny-cli-training';
import { chromiumAvailable } from './browser';
import { openWorkbench, type WorkbenchSession } from './session';
import type { WebServer } from './web-server';

describe(
  'data-parallel workers in Chromium',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let session: WorkbenchSession | undefined;
    let web: WebServer;
    let page: Page;

    before(async () => {
      const dir = tempDir('aimkp-e2e-workers-');
      const workspace = join(dir, 'workspace');
      // Stopped after 2 of 4 steps: resumable from the UI. samplesPerCall stays the preset's, as this run always had.
      trainTinyWithCli({
        dir,
        out: join(workspace, 'runs', 'cli-k2'),
        preset: 'baseline',
        epochs: 1,
        items: 40,
        dataSeed: 2,
        config: { samplesPerCall: undefined },
        trainArgs: ['--max-steps', '2', '--workers', '2', '--backend', 'wasm'],
      });
      session = await openWorkbench(workspace);
      ({ web, page } = session);
    });

    after(() => session?.close());

    const saveWorkers = async (value: string) => {
      await page.goto(`${web.url}#/settings`);
      // The form is filled once the settings are loaded (before that the required workspace field is empty).
      await page.waitForFunction(
        () => (document.querySelector('[data-testid="set-workspace"]') as HTMLInputElement | null)?.value !== '',
      );
      await page.fill('[data-testid="set-workers"]', value);
      await page.click('[data-testid="set-save"]');
      await page.waitForSelector('[role="status"]:has-text("aved")');
      await page.reload();
      await page.waitForFunction(
        (v) => (document.querySelector('[data-testid="set-workers"]') as HTMLInputElement | null)?.value === v,
        value,
      );
    };

    it('Settings: worker threads per job is saved (2) and cleared (every core)', async () => {
      await saveWorkers('2');
      await saveWorkers('');
      await saveWorkers('2');
    });

    it("the Run view shows the run's K; a resume from the UI trains on 2 workers to the end", async () => {
      await page.goto(`${web.url}#/runs/cli-k2`);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="run-workers"]')?.textContent?.trim() === '2 workers',
      );
      await page.click('[data-testid="run-resume"]');
      await page.waitForFunction(
        () => {
          const t = document.querySelector('[data-testid="run-status"]')?.textContent?.trim();
          return t === 'completed' || t === 'failed';
        },
        null,
        { timeout: 300_000 },
      );
      assert.equal((await page.textContent('[data-testid="run-status"]'))?.trim(), 'completed');
      assert.equal((await page.textContent('[data-testid="run-workers"]'))?.trim(), '2 workers');
      assert.match(
        (await page.textContent('[data-testid="run-log"]')) ?? '',
        /resumed baseline on wasm with 2 workers/,
      );
    });
  },
);
