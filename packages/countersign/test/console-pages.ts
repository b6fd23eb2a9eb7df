import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { type Dialect, REPO_ROOT, type World, world } from './helpers.js';
import { fastPasswords, PASSWORD, withPassword } from './session-helpers.js';

/** Shared by the console's browser tests: viewports, a page that records CSP violations, signing in. */

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };
/** `CONSOLE_SCREENSHOTS=1` writes the main screens to docs/console/. */
export const SHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'console') : null;

/** What the tests read in the page (page.evaluate runs in the browser; this project's types have no DOM). */
export interface PageGlobals {
  __pwned?: unknown;
  __csp?: string[];
  innerWidth: number;
  document: {
    querySelectorAll(selector: string): { length: number };
    documentElement: { scrollWidth: number };
    addEventListener(type: 'securitypolicyviolation', fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
  };
}

/** A gateway listening on a port, with room for a 1 MB argument, and alice able to sign in with PASSWORD. */
export async function consoleWorld(dialect: Dialect): Promise<World> {
  const w = await world(dialect, {
    listen: true,
    config: (c) => {
      const f = fastPasswords(c);
      // Room for a 1 MB hostile string (an operator can raise these the same way).
      return { ...f, server: { ...f.server, bodyLimitBytes: 4 * 1024 * 1024 }, limits: { ...f.limits, argumentsBytes: 2 * 1024 * 1024 } };
    },
  });
  await withPassword(w, 'alice@example.com');
  return w;
}

/** Signs in over HTTP as the sign-in page does (POST /v1/auth/login from the same origin); the session's cookies. */
async function sessionCookies(base: string, email: string): Promise<{ name: string; value: string; url: string }[]> {
  const res = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.headers.getSetCookie().map((line) => {
    const pair = line.split(';')[0] as string;
    const eq = pair.indexOf('=');
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url: base };
  });
}

/**
 * A fresh browser profile that records CSP violations and page errors; signed in as `as` (a real session,
 * opened over HTTP) when given, so tests about something else do not each go through the sign-in page.
 */
export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
  as?: { base: string; email: string },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  if (as) await context.addCookies(await sessionCookies(as.base, as.email));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const win = globalThis as unknown as PageGlobals;
    win.__csp = [];
    win.document.addEventListener('securitypolicyviolation', (e) => win.__csp?.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { context, page, errors };
}

/** The text as drawn on screen (what a reviewer reads), not the DOM's raw text. */
// biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is asserted
export const shown = (l: Locator) => l.innerText();

/** Fills and submits the sign-in page. */
export async function signIn(page: Page, email = 'alice@example.com'): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** How far the page is wider than the window (a horizontal scroll when positive). */
export async function overflowX(page: Page): Promise<number> {
  return page.evaluate(() => {
    const win = globalThis as unknown as PageGlobals;
    return win.document.documentElement.scrollWidth - win.innerWidth;
  });
}

/** Violations the page recorded. */
export async function cspViolations(page: Page): Promise<string[] | undefined> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__csp);
}
