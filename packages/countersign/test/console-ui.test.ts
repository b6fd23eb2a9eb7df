import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, PHONE, shown, signIn } from './console-pages.js';
import { call, propose, review, type World, world } from './helpers.js';
import { withSso } from './oidc-flow.js';
import { TestIdp } from './oidc-idp.js';

/**
 * The reviewer console in a real Chromium against a real gateway listening on a port, with a real local
 * account: signing in, the live inbox, deciding, losing a race. (Hostile content and layout:
 * console-hostile.test.ts.)
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'the reviewer console in Chromium', (dialect) => {
  let w: World;
  let base: string;
  const alice = () => ({ base, email: 'alice@example.com' });
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
  });
  after(async () => w.close());
  test('a signed-out deep link goes through sign-in and lands on the action', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production' }, purpose: 'ship 1.4.2' });
    const { context, page, errors } = await newPage(browser);
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await page.waitForURL((u) => u.pathname === '/sign-in');
      assert.equal(new URL(page.url()).searchParams.get('return_to'), `/actions/${a.id}`);
      await signIn(page);
      await page.waitForURL((u) => u.pathname === `/actions/${a.id}`);
      await page.getByRole('heading', { name: 'deploy' }).waitFor();
      assert.match(await shown(page.locator('main')), /ship 1\.4\.2/);
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a wrong password is refused in words; signing out returns to sign-in', async () => {
    const { context, page } = await newPage(browser);
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
    const { context, page } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/inbox`);
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
    const { context, page } = await newPage(browser, PHONE, alice());
    try {
      await page.goto(`${base}/actions/${a.id}`);
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
    const { context, page } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/actions/${a.id}`);
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
    const { context, page } = await newPage(browser, DESKTOP, alice());
    try {
      // This reviewer's page does not follow the live stream, so it still offers the vote after carol decided.
      await page.route('**/v1/events*', (route) => route.abort());
      await page.goto(`${base}/actions/${a.id}`);
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
});

inBrowserOn('sqlite', 'single sign-on on the console sign-in page', (dialect) => {
  let w: World;
  let idp: TestIdp;
  before(async () => {
    idp = await TestIdp.start();
    w = await world(dialect, { listen: true, config: withSso(idp) });
  });
  after(async () => {
    await w.close();
    await idp.stop();
  });

  test('with SSO configured, the sign-in page offers it, keeping where the person was going', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${w.gw.url}/actions/0190a000-0000-7000-8000-000000000000`);
      const sso = page.getByRole('link', { name: 'Sign in with SSO' });
      await sso.waitFor();
      const href = await sso.getAttribute('href');
      assert.equal(href, '/v1/auth/oidc/login?return_to=%2Factions%2F0190a000-0000-7000-8000-000000000000');
      // That link starts the sign-in at the identity provider.
      const started = await fetch(`${w.gw.url}${href}`, { redirect: 'manual' });
      assert.equal(started.status, 302);
      assert.ok(started.headers.get('location')?.startsWith(`${idp.issuer}/`), started.headers.get('location') ?? '');
    } finally {
      await context.close();
    }
  });
});
