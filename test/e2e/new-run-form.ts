// The New run form as the e2e steps fill it: a tiny model (trains in seconds) on the patch encoder.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from './web-server';

export const SHOTS = process.env.AIMKP_E2E_SHOTS ?? join(ROOT, 'test/e2e/screenshots');

/** Form fields (config paths) of a tiny model; each step adds what it needs (epochs, checkpointEvery). */
export const TINY_MODEL: Readonly<Record<string, string>> = {
  'model.dModel': '16',
  'model.nLayers': '1',
  'model.nHeads': '2',
  'model.dFF': '32',
  'model.adapterHidden': '16',
  batchSize: '8',
  samplesPerCall: '8',
  maxValid: '6',
};

/** Fills the New run form's fields `values` (config paths), picks the 7×7 patch encoder and names the run. */
export async function fillNewRun(page: Page, values: Readonly<Record<string, string>>, name: string): Promise<void> {
  for (const [path, value] of Object.entries(values))
    await page.fill(`[data-testid="hp-${path.replace(/\./g, '-')}"]`, value);
  await page.selectOption('#hp-encoder', 'patch:7:4');
  await page.fill('[data-testid="new-name"]', name);
}
