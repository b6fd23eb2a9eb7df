import { existsSync } from 'node:fs';
import { describe } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { DIALECTS, type Dialect } from './helpers.js';

/** Debian's Chromium, which CI installs with apt-get (.ci/run). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * One headless Chromium for a test file (launching is the slow part; pages are cheap). A missing Chromium
 * fails the test with what to do: a browser test that silently skipped would prove nothing.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install it (apt-get install chromium) to run the browser tests`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A browser suite runs against one database, named by its file: what a page does is the same on both, and
 * the API under every page runs on both dialects in the API tests. The browser files are split between
 * SQLite and PostgreSQL, so the console is driven against each. `COUNTERSIGN_BROWSER_DIALECTS=both` runs
 * every browser suite on both (twice the time: the whole suite has 15 minutes on two cores).
 */
export function inBrowserOn(dialect: Dialect, title: string, fn: (dialect: Dialect) => void): void {
  const dialects = process.env.COUNTERSIGN_BROWSER_DIALECTS === 'both' ? DIALECTS : [dialect];
  for (const d of dialects) describe(`${title} [${d}]`, () => fn(d));
}
