import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { cspViolations, newPage, shown } from './console-pages.js';
import { call, propose, type World, world } from './helpers.js';
import { userByEmail, withSso } from './oidc-flow.js';
import { TestIdp } from './oidc-idp.js';

/**
 * Single sign-on end to end in a real Chromium: a person opens a deep link signed out, clicks "Sign in with
 * SSO", signs in and consents at a real OpenID Connect provider (oidc-provider's own pages), and lands back
 * on that action signed in, able to approve it. The gateway listens on a port known before it starts, so
 * its public URL (and the callback registered at the IdP) is where the browser really reaches it.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

/** A port free right now on the loopback interface. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

inBrowserOn('postgres', 'single sign-on in the browser', (dialect) => {
  let w: World;
  let idp: TestIdp;
  let base: string;
  before(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    idp = await TestIdp.start(`${base}/v1/auth/oidc/callback`);
    const sso = withSso(idp, { jit_provisioning: true }, base);
    w = await world(dialect, {
      listen: true,
      config: (c) => {
        const s = sso(c);
        return { ...s, server: { ...s.server, host: '127.0.0.1', port } };
      },
    });
  });
  after(async () => {
    await w?.close();
    await idp?.stop();
  });

  test('a person signs in through the identity provider and lands back on the deep-linked action, signed in', async () => {
    idp.accounts.set('sub-sam', { email: 'sam@example.com', name: 'Sam', groups: ['cs-approvers'] });
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production' }, purpose: 'ship 2.0' });
    assert.equal(a.status, 'pending');
    const { context, page, errors } = await newPage(browser);
    // The provider's pages import a web font; nothing leaves this machine.
    await context.route(/^https:\/\//, (route) => route.abort());
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await page.waitForURL((u) => u.pathname === '/sign-in');
      await page.getByRole('link', { name: 'Sign in with SSO' }).click();

      // The identity provider's own login page, then its consent page.
      await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`));
      await page.locator('input[name="login"]').fill('sub-sam');
      await page.locator('input[name="password"]').fill('any');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();

      // Back on the gateway, on the action the link named, signed in as Sam.
      await page.waitForURL((u) => u.origin === base && u.pathname === `/actions/${a.id}`);
      await page.getByRole('heading', { name: 'deploy' }).waitFor();
      assert.match(await shown(page.locator('main')), /ship 2\.0/);
      assert.match(await shown(page.locator('header.top')), /sam@example\.com/);
      await page.getByRole('button', { name: /^Approve/ }).click();
      await page.getByTestId('status').filter({ hasText: 'approved' }).waitFor();

      const sam = await userByEmail(w, 'sam@example.com');
      assert.ok(sam, 'provisioned at first sign-in');
      const sessions = await w.gw.deps.db.read.selectFrom('sessions').selectAll().where('user_id', '=', sam.id).execute();
      assert.deepEqual(
        sessions.map((s) => s.method),
        ['oidc'],
      );
      const action = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body;
      assert.equal(action.status, 'approved');
      assert.deepEqual(
        action.reviews.map((r: { reviewer: { email: string } }) => r.reviewer.email),
        ['sam@example.com'],
      );
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
