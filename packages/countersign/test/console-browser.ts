import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

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
