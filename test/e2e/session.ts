// What every e2e file sets up around its steps: `npm run web` on its workspace, Debian's Chromium, a page of the
// workbench's size, the page's errors collected for the file's closing "no error" assertion, and steps that leave a
// screenshot of the page as it was when they failed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { SHOTS } from './new-run-form';
import { startWeb, type WebServer } from './web-server';

/** esbuild's keepNames helper: tsx-compiled callbacks handed to page.evaluate call __name, which the page lacks. */
const KEEP_NAMES = 'globalThis.__name = (f) => f;';
const VIEWPORT = { width: 1400, height: 1000 };

export interface WorkbenchSessionOptions {
  /** A script every page load runs after KEEP_NAMES (run-states' recorder of what the page showed). */
  initScript?: string;
  /** What `errors` collects: uncaught page errors and console errors (default), or the page errors only. */
  collect?: 'page-and-console' | 'page-only';
}

export interface WorkbenchSession {
  web: WebServer;
  page: Page;
  /** What went wrong in the page so far, one line each ('pageerror: …', 'console: …'); a file asserts it is empty. */
  errors: string[];
  /** Another page like `page` (same size, KEEP_NAMES), without an error collector. */
  newPage(): Promise<Page>;
  /** Closes the browser, then stops the server and its workers. */
  close(): Promise<void>;
}

/** Starts the server on `workspace` and opens one page in Chromium; a failed launch stops the server again. */
export async function openWorkbench(
  workspace: string,
  options: WorkbenchSessionOptions = {},
): Promise<WorkbenchSession> {
  mkdirSync(SHOTS, { recursive: true });
  const web = await startWeb(workspace);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await web.stop();
    throw e;
  }
  const newPage = async () => {
    const p = await browser.newPage({ viewport: VIEWPORT });
    await p.addInitScript(KEEP_NAMES);
    return p;
  };
  const page = await newPage();
  if (options.initScript !== undefined) await page.addInitScript(options.initScript);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  if ((options.collect ?? 'page-and-console') === 'page-and-console')
    page.on('console', (m) => {
      // An API error the page shows on purpose is logged by nobody; anything else is a fault (a missing favicon is
      // the browser's own request).
      if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
  return {
    web,
    page,
    errors,
    newPage,
    close: async () => {
      await browser.close();
      await web.stop();
    },
  };
}

/**
 * node:test's `it` for steps that, when they fail, first save a screenshot of `page()` as
 * `failed-<prefix><the step's name, 40 characters>.png` in SHOTS.
 */
export function stepsWithFailureShots(prefix: string, page: () => Page | undefined) {
  return (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        await page()
          ?.screenshot({ path: join(SHOTS, `failed-${prefix}${name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}.png`) })
          .catch(() => undefined);
        throw e;
      }
    });
}
