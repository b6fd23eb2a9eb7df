import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SHOTS } from './console-pages.js';

/** Shared by the overseeing pages' browser tests (history, dashboard, audit): screenshots at both sizes. */
export async function shootBoth(page: Page, area: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const was = page.viewportSize();
  for (const viewport of [
    { width: 390, height: 844 },
    { width: 1440, height: 900 },
  ]) {
    await page.setViewportSize(viewport);
    // From the top, so the sticky header is drawn where it belongs in a full-page shot.
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, `${area}-${viewport.width}.png`), fullPage: true });
  }
  if (was) await page.setViewportSize(was);
}
