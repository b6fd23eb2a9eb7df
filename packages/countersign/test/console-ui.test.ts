import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from './console-browser.js';
import { call, forEachDialect, propose, REPO_ROOT, review, type World, world } from './helpers.js';
import { fastPasswords, PASSWORD, withPassword } from './session-helpers.js';

/**
 * The reviewer console in a real Chromium against a real gateway listening on a port, signed in with a real
 * local account: what a reviewer does, and what hostile content cannot do. Screenshots of the main screens
 * are written to docs/console/ when CONSOLE_SCREENSHOTS=1.
 */

const SHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'console') : null;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

/** What the tests read in the page (page.evaluate runs in the browser; this project's types have no DOM). */
interface PageGlobals {
  __pwned?: unknown;
  __csp?: string[];
  innerWidth: number;
  document: {
    querySelectorAll(selector: string): { length: number };
    documentElement: { scrollWidth: number };
    addEventListener(type: 'securitypolicyviolation', fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
  };
}

/** A fresh browser profile that records CSP violations and page errors. */
async function newPage(viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
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
const shown = (l: Locator) => l.innerText();

async function signIn(page: Page, email = 'alice@example.com'): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

forEachDialect('the reviewer console in Chromium', (dialect) => {
  let w: World;
  let base: string;
  before(async () => {
    w = await world(dialect, {
      listen: true,
      config: (c) => {
        const f = fastPasswords(c);
        // Room for the 1 MB hostile string below (an operator can raise these the same way).
        return { ...f, server: { ...f.server, bodyLimitBytes: 4 * 1024 * 1024 }, limits: { ...f.limits, argumentsBytes: 2 * 1024 * 1024 } };
      },
    });
    base = w.gw.url;
    await withPassword(w, 'alice@example.com');
  });
  after(async () => w.close());

  test('a signed-out deep link goes through sign-in and lands on the action', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production' }, purpose: 'ship 1.4.2' });
    const { context, page, errors } = await newPage();
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await page.waitForURL((u) => u.pathname === '/sign-in');
      assert.equal(new URL(page.url()).searchParams.get('return_to'), `/actions/${a.id}`);
      await signIn(page);
      await page.waitForURL((u) => u.pathname === `/actions/${a.id}`);
      await page.getByRole('heading', { name: 'deploy' }).waitFor();
      assert.match(await shown(page.locator('main')), /ship 1\.4\.2/);
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PageGlobals).__csp), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a wrong password is refused in words; signing out returns to sign-in', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${base}/inbox`);
      await page.getByLabel('Email').fill('alice@example.com');
      await page.getByLabel('Password').fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
      await signIn(page);
      await page.getByTestId('need-you').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.pathname === '/sign-in');
      assert.equal(
        (await page.context().cookies()).find((c) => c.name === 'cs_session'),
        undefined,
        'the session cookie is gone',
      );
    } finally {
      await context.close();
    }
  });

  test('the inbox count changes live when an agent proposes', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${base}/inbox`);
      await signIn(page);
      const heading = page.getByTestId('need-you');
      await heading.filter({ hasText: /needs? your input|Nothing needs/ }).waitFor();
      const before = Number((await shown(page.getByTestId('live-count'))).trim());
      assert.ok(Number.isInteger(before));
      await propose(w, { tool: 'rotate-keys', arguments: { service: 'billing' } });
      await page
        .getByTestId('live-count')
        .filter({ hasText: String(before + 1) })
        .waitFor();
      await heading.filter({ hasText: `${before + 1} action${before + 1 === 1 ? '' : 's'} need` }).waitFor();
      await page.getByRole('link', { name: /rotate-keys/ }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('approve: the action is approved by the signed-in person', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    const { context, page } = await newPage(PHONE);
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await signIn(page);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByTestId('outcome').filter({ hasText: 'Approved by alice@example.com' }).waitFor();
      const after = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body;
      assert.equal(after.status, 'approved');
      assert.deepEqual(
        after.reviews.map((r: { reviewer: { email: string }; channel: string }) => [r.reviewer.email, r.channel]),
        [['alice@example.com', 'web']],
      );
    } finally {
      await context.close();
    }
  });

  test('deny with a reason: the agent waiting on a long-poll receives it', async () => {
    const { body: a } = await propose(w, { tool: 'drop-table', arguments: { table: 'users' } });
    const waiting = fetch(`${base}/v1/actions/${a.id}?wait=30`, { headers: { authorization: `Bearer ${w.keys.agent}` } }).then(
      (r) => r.json() as Promise<{ status: string; reason: string | null }>,
    );
    const { context, page } = await newPage();
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await signIn(page);
      await page.getByLabel(/Reason for denying/).fill('never on a Friday; use the migration tool');
      await page.getByRole('button', { name: 'Deny' }).click();
      const seen = await waiting;
      assert.deepEqual([seen.status, seen.reason], ['denied', 'never on a Friday; use the migration tool']);
      await page.getByTestId('outcome').filter({ hasText: 'Denied by alice@example.com' }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('when another reviewer decided first, the page says so and shows their decision', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production', race: true } });
    const { context, page } = await newPage();
    try {
      // This reviewer's page does not follow the live stream, so it still offers the vote after carol decided.
      await page.route('**/v1/events*', (route) => route.abort());
      await page.goto(`${base}/actions/${a.id}`);
      await signIn(page);
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      assert.equal((await review(w, a.id, w.keys.carol, { decision: 'deny', reason: 'carol says no' })).status, 200);
      await page.getByRole('button', { name: 'Approve' }).click();
      const banner = page.getByTestId('lost-race');
      await banner.filter({ hasText: 'carol@example.com' }).waitFor();
      const text = await shown(banner);
      assert.match(text, /Someone else decided first/);
      assert.match(text, /denied by carol@example\.com/);
      assert.match(text, /carol says no/);
      assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body.reviews.length, 1, 'no second vote recorded');
    } finally {
      await context.close();
    }
  });

  test('hostile content is shown as text and flagged; no script runs, no CSP violation, no horizontal scroll on a phone', async () => {
    const big = 'A'.repeat(1_000_000);
    const { body: a, status } = await propose(w, {
      tool: 'send\u202Eexe.txt',
      purpose: '<img src=x onerror="window.__pwned=1"> please approve',
      resource: 'javascript:window.__pwned=2',
      arguments: {
        html: '<script>window.__pwned=3</script>',
        link: 'javascript:window.__pwned=4',
        file: 'invoice\u202Efdp.exe',
        command: 'rm\u200B -rf /',
        host: 'pаypal.com',
        'ke\u2066y': 1,
        big,
      },
    });
    assert.equal(status, 201);
    for (const viewport of [PHONE, DESKTOP]) {
      const { context, page, errors } = await newPage(viewport);
      try {
        await page.goto(`${base}/actions/${a.id}`);
        await signIn(page);
        await page.getByTestId('hostile-warning').waitFor();
        const main = await shown(page.locator('main'));
        assert.ok(main.includes('<script>window.__pwned=3</script>'), 'the <script> is text');
        assert.ok(main.includes('<img src=x onerror="window.__pwned=1"> please approve'), 'the <img> is text');
        assert.ok(main.includes('javascript:window.__pwned=4'), 'the javascript: URL is text');
        assert.ok(main.includes('invoice⟦U+202E⟧fdp.exe'), 'the RTL override is shown');
        assert.ok(main.includes('rm⟦U+200B⟧ -rf /'), 'the zero-width space is shown');
        assert.ok(main.includes('send⟦U+202E⟧exe.txt'), 'in the tool name too');
        assert.ok(main.includes('ke⟦U+2066⟧y'), 'and in keys');
        const warning = await shown(page.getByTestId('hostile-warning'));
        assert.match(warning, /bidirectional control characters/);
        assert.match(warning, /invisible characters/);
        assert.match(warning, /mixing alphabets/);
        assert.ok((await page.locator('mark.mixed-script', { hasText: 'pаypal' }).count()) >= 1, 'the look-alike word is marked');
        // The 1 MB string: cut, with an explicit way to see it all.
        assert.ok(!main.includes('A'.repeat(2001)), 'the long value is cut');
        if (SHOTS && dialect === 'sqlite') {
          mkdirSync(SHOTS, { recursive: true });
          await page.screenshot({ path: join(SHOTS, `action-hostile-${viewport.width}.png`) });
        }
        const showAll = page.getByRole('button', { name: 'Show all (1,000,000)' });
        await showAll.waitFor();
        if (viewport === PHONE) {
          await showAll.click();
          assert.ok((await shown(page.locator('main'))).includes(big), 'show all shows all of it');
        }
        const dom = await page.evaluate(() => {
          const win = globalThis as unknown as PageGlobals;
          return {
            pwned: win.__pwned,
            csp: win.__csp,
            scripts: win.document.querySelectorAll('script').length,
            images: win.document.querySelectorAll('img').length,
            jsLinks: win.document.querySelectorAll('a[href^="javascript:" i]').length,
            overflow: win.document.documentElement.scrollWidth - win.innerWidth,
          };
        });
        assert.deepEqual(dom, { pwned: undefined, csp: [], scripts: 1, images: 0, jsLinks: 0, overflow: dom.overflow });
        assert.ok(dom.overflow <= 0, `no horizontal scroll at ${viewport.width}px (overflow ${dom.overflow}px)`);
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    }
  });

  test('the inbox and an action page fit a phone (390×844) without horizontal scroll', async () => {
    await propose(w, {
      tool: 'deploy',
      arguments: { env: 'production', version: '1.4.2', services: ['api', 'worker', 'scheduler'], canary: { percent: 10, hold: '15m' } },
      purpose: 'Release 1.4.2 to production: fixes the invoice rounding bug (#2214)',
      resource: 'k8s://prod-eu-1/deployments/api',
      on_behalf_of: 'dora@example.com',
    });
    for (const viewport of [PHONE, DESKTOP]) {
      const { context, page } = await newPage(viewport);
      try {
        await page.goto(`${base}/inbox`);
        await signIn(page);
        await page
          .getByRole('link', { name: /deploy/ })
          .first()
          .waitFor();
        const overflow = await page.evaluate(() => {
          const win = globalThis as unknown as PageGlobals;
          return win.document.documentElement.scrollWidth - win.innerWidth;
        });
        assert.ok(overflow <= 0, `inbox: no horizontal scroll at ${viewport.width}px (${overflow}px)`);
        if (SHOTS && dialect === 'sqlite')
          await page.screenshot({ path: join(SHOTS, `inbox-${viewport.width}.png`), fullPage: viewport === PHONE });
        await page.getByRole('link', { name: /for dora@example\.com/ }).click();
        await page.getByRole('button', { name: 'Approve' }).waitFor();
        const o2 = await page.evaluate(() => {
          const win = globalThis as unknown as PageGlobals;
          return win.document.documentElement.scrollWidth - win.innerWidth;
        });
        assert.ok(o2 <= 0, `action page: no horizontal scroll at ${viewport.width}px (${o2}px)`);
        if (SHOTS && dialect === 'sqlite') await page.screenshot({ path: join(SHOTS, `action-${viewport.width}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
  });
});
