import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { FakeClock } from '../src/lib/clock.js';
import { getAssertion, launchChromium, pageFetch } from './browser.js';
import { inBrowserOn } from './console-browser.js';
import { auditRows, call, withPolicy } from './helpers.js';
import { newTab, type PasskeyWorld, passkeyWorld, signInAndRegister, type Tab } from './passkey-helpers.js';
import { STEP_UP_POLICY } from './step-up-helpers.js';

/** Step-up met the way a reviewer meets it: in the browser, with the passkey the refusal points at (real Chromium). */
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const MIN = 60_000;

inBrowserOn('postgres', 'a step-up stage approved after re-authenticating with a passkey', (dialect) => {
  const open: { w: PasskeyWorld; tab: Tab }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.tab.context.close();
      await o.w.close();
    }
  });

  test('a password session is refused with step_up_required, re-authenticates where the refusal says, then approves; later it is stale again', async () => {
    const clock = new FakeClock();
    const w = await passkeyWorld(dialect, clock, withPolicy(STEP_UP_POLICY));
    const tab = await newTab(browser, w);
    open.push({ w, tab });
    await signInAndRegister(tab, 'alice@example.com');
    const propose = async () => {
      const res = await call(w, 'POST', '/v1/actions', w.keys.agent, {
        tool: 'deploy',
        arguments: { env: 'production', n: Math.random() },
      });
      assert.equal(res.body.status, 'pending', JSON.stringify(res.body));
      return res.body.id as string;
    };
    const first = await propose();
    const refused = await pageFetch(tab.page, 'POST', `/v1/actions/${first}/reviews`, { decision: 'approve' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'step_up_required');
    const how = refused.body.error.details.reauthenticate.passkey;
    assert.ok(how, 'a browser session is offered the passkey');

    const options = await pageFetch(tab.page, 'POST', how.options);
    assert.equal(options.status, 200, JSON.stringify(options.body));
    const credential = await getAssertion(tab.page, options.body);
    assert.ok(!credential.error, credential.error);
    const verified = await pageFetch(tab.page, 'POST', how.verify, { credential });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));

    const approved = await pageFetch(tab.page, 'POST', `/v1/actions/${first}/reviews`, { decision: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    const vote = (await auditRows(w, first)).find((r) => r.event === 'action.reviewed');
    const data = JSON.parse(vote?.data ?? '{}');
    assert.equal(data.auth.kind, 'session');
    assert.equal(data.step_up.strong_at, clock.now(), 'the passkey re-authentication is what met it');

    await clock.advance(6 * MIN);
    const second = await propose();
    const stale = await pageFetch(tab.page, 'POST', `/v1/actions/${second}/reviews`, { decision: 'approve' });
    assert.equal(
      stale.body.error?.code,
      'step_up_required',
      `five minutes on, the same session must re-authenticate again (got ${stale.status})`,
    );
  });
});
