// Data-parallel workers in the UI, against `npm run web` (the bundled server, job worker and pool worker): the
// Settings field round trip, and a run made with `aimkp train --workers 2` shows "2 workers" in the Run view's
// header and completes when resumed from the UI with Settings' workers = 2 (pool workers inside the job's worker).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './browser';
import { ROOT, startWeb, type WebServer } from './web-server';

describe(
  'data-parallel workers in Chromium',
  { skip: !chromiumAvailable() && 'no Chromium at /usr/bin/chromium (apt-get install chromium)' },
  () => {
    let dir = '';
    let web: WebServer;
    let browser: Browser;
    let page: Page;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'aimkp-e2e-workers-'));
      const workspace = join(dir, 'workspace');
      const cli = (args: string[]) =>
        execFileSync(process.execPath, [join(ROOT, 'bin/aimkp.mjs'), ...args], { cwd: ROOT, stdio: 'pipe' });
      cli(['data', 'synth', '--n', '40', '--seed', '2', '--out', join(dir, 'data')]);
      writeFileSync(
        join(dir, 'tiny.json'),
        JSON.stringify({
          model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
          batchSize: 8,
          maxValid: 4,
        }),
      );
      // Stopped after 2 of 4 steps: resumable from the UI.
      cli([
        'train',
        ...['--data', join(dir, 'data'), '--preset', 'baseline', '--out', join(workspace, 'runs', 'cli-k2')],
        ...['--epochs', '1', '--encoder', 'patch:7:4', '--config', join(dir, 'tiny.json'), '--max-steps', '2'],
        ...['--workers', '2', '--backend', 'wasm', '--quiet', '--cache', join(dir, 'cache')],
      ]);
      web = await startWeb(workspace);
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.addInitScript('globalThis.__name = (f) => f;'); // esbuild keepNames helper used by tsx-compiled callbacks
    });

    after(async () => {
      await browser?.close();
      await web?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

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
