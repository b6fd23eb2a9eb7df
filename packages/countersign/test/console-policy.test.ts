import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { cspViolations, DESKTOP, newPage, overflowX, PHONE, SHOTS, shown } from './console-pages.js';
import { call, propose, type World, withPolicy, world } from './helpers.js';
import { fastPasswords, withPassword } from './session-helpers.js';

/**
 * The console's policy pages in a real Chromium against a real gateway: an admin reads the active policy
 * and its history, sees a refused document's problems in words, applies a version, views and rolls back to
 * an earlier one (with a confirmation), tries actions in the playground and replays a candidate.
 * `CONSOLE_SCREENSHOTS=1` writes policy-*.png and playground-*.png to docs/console/.
 */

const POLICY = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
    - name: prod-deploys
      when: tool == "deploy" && arguments.env == "production"
      effect: review
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer, admin] }
`;

/** Version 2: the same with key rotation frozen. */
const FREEZE = POLICY.replace(
  'workflows:',
  '    - name: freeze\n      when: tool == "rotate-keys"\n      effect: deny\n      reason: key rotation is frozen\nworkflows:',
);

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

async function shot(page: Page, name: string, dialect: string) {
  if (!SHOTS || dialect !== 'sqlite') return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}-${page.viewportSize()?.width}.png`), fullPage: false });
}

inBrowserOn('sqlite', 'the policy pages in Chromium', (dialect) => {
  let w: World;
  let base: string;
  before(async () => {
    w = await world(dialect, { listen: true, config: (c) => withPolicy(POLICY)(fastPasswords(c)) });
    base = w.gw.url;
    await withPassword(w, 'ada@example.com');
    await withPassword(w, 'alice@example.com');
  });
  after(async () => w.close());

  test('an admin applies a version, sees a refused one explained, views history and rolls back after confirming', async () => {
    const { context, page, errors } = await newPage(browser, DESKTOP, { base, email: 'ada@example.com' });
    try {
      await page.goto(`${base}/inbox`);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy' }).click();
      await page.getByRole('heading', { name: 'Active policy: version 1' }).waitFor();
      assert.match(await shown(page.getByRole('region', { name: 'Version 1 document' })), /name: prod-deploys/);
      assert.match(await shown(page.locator('main')), /seeded at start/);

      // A document with a broken condition and an unknown workflow: refused, each problem named with its place.
      const doc = page.getByLabel('Policy document (YAML, with policy: and workflows:)');
      await doc.fill(
        'policy:\n  rules:\n    - name: broken\n      when: tool ==\n      effect: allow\n    - name: lost\n      when: tool == "x"\n      effect: review\n      workflow: nowhere\n',
      );
      await page.getByRole('button', { name: 'Apply as a new version' }).click();
      const refused = page.getByTestId('apply-refused');
      await refused.waitFor();
      const why = await shown(refused);
      assert.match(why, /the policy was refused/);
      assert.match(why, /policy\.rules\.broken\.when: .*\(line 1, column \d+\)/);
      assert.match(why, /policy\.rules\.lost\.workflow: workflow "nowhere" is not defined/);
      await shot(page, 'policy-refused', dialect);

      await doc.fill(FREEZE);
      await page.getByLabel('Note for the history (optional)').fill('freeze key rotation');
      await page.getByRole('button', { name: 'Apply as a new version' }).click();
      await page.getByTestId('policy-done').filter({ hasText: 'Version 2 is active.' }).waitFor();
      await page.getByRole('heading', { name: 'Active policy: version 2' }).waitFor();
      const history = page.getByTestId('policy-history');
      assert.match(await shown(history), /Version 2[\s\S]*applied by ada@example\.com[\s\S]*freeze key rotation[\s\S]*Version 1/);
      await page.evaluate('window.scrollTo(0, 0)');
      await shot(page, 'policy', dialect);

      await page.getByRole('button', { name: 'View version 1' }).click();
      const viewing = page.getByTestId('policy-viewing');
      await viewing.getByRole('heading', { name: 'Version 1' }).waitFor();
      assert.doesNotMatch(await shown(viewing), /freeze/);

      // Rolling back asks first; cancelling sends nothing.
      await page.getByRole('button', { name: 'Roll back to version 1' }).click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await call(w, 'GET', '/v1/policy', w.keys.ada)).body.version, 2);
      await page.getByRole('button', { name: 'Roll back to version 1' }).click();
      await page.getByRole('button', { name: 'Confirm rollback to version 1' }).click();
      await page.getByTestId('policy-done').filter({ hasText: "Version 1's document is active again, as version 3." }).waitFor();
      const active = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body;
      assert.equal(active.version, 3);
      assert.equal(active.trigger, 'rollback');
      assert.equal(active.restored_from, 1);
      assert.equal(active.applied_by.label, 'ada@example.com');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the playground decides an action under the active policy and a candidate, and replay lists what would change', async () => {
    await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    await propose(w, { tool: 'read', arguments: {} });
    const { context, page, errors } = await newPage(browser, PHONE, { base, email: 'ada@example.com' });
    try {
      await page.goto(`${base}/admin/policy/playground`);
      await page.getByLabel('Tool').fill('deploy');
      await page.getByLabel('Arguments (JSON object)').fill('{"env": "production"}');
      await page.getByLabel('Agent name').fill('deployer');
      await page.getByRole('button', { name: 'Evaluate' }).click();
      const decision = page.getByTestId('decision');
      await decision.getByRole('heading', { name: 'Needs review (workflow default)' }).waitFor();
      assert.match(await shown(decision), /rule prod-deploys \(rule 2, the first that matched\)/);
      assert.match(await shown(decision), /tool == "deploy" && arguments\.env == "production"/);
      assert.match(await shown(decision), /the active policy, version 3/);

      const candidate = page.getByLabel('Candidate policy document (YAML)');
      await candidate.fill(POLICY.replace('effect: review\nworkflows', 'effect: deny\n      reason: deploy freeze\nworkflows'));
      await page.getByLabel('A candidate policy (below)').check();
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await decision.getByRole('heading', { name: 'Denied' }).waitFor();
      assert.match(await shown(decision), /deploy freeze/);
      assert.match(await shown(decision), /the candidate below/);
      await shot(page, 'playground', dialect);

      await page.getByLabel('Replay the latest actions (how many, up to 10,000)').fill('50');
      await page.getByRole('button', { name: 'Replay under the candidate' }).click();
      const replay = page.getByTestId('replay-result');
      await replay.waitFor();
      assert.match(await shown(page.getByTestId('replay-summary')), /^2 actions re-decided: 1 would change, 1 would not\.$/);
      assert.match(await shown(replay), /review \(default\)\s+deny\s+1/);
      assert.match(await shown(replay), /was review by rule prod-deploys \(workflow default\), would be deny by rule prod-deploys/);
      const overflow = await overflowX(page);
      assert.ok(overflow <= 0, `no horizontal scroll at 390px (${overflow}px)`);

      // A candidate that does not compile: its problems in words, nothing decided.
      await candidate.fill('policy:\n  rules:\n    - { name: x, when: "((", effect: deny }\n');
      await page.getByRole('button', { name: 'Evaluate' }).click();
      await page
        .getByTestId('evaluate-refused')
        .filter({ hasText: /policy\.rules\.x\.when: .*line 1/ })
        .waitFor();
      assert.equal((await call(w, 'GET', '/v1/policy/versions', w.keys.ada)).body.items.length, 3, 'nothing was stored');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a reviewer has no policy link and is told the policy pages are for admins', async () => {
    const { context, page } = await newPage(browser, DESKTOP, { base, email: 'alice@example.com' });
    try {
      await page.goto(`${base}/admin/policy`);
      await page.getByRole('alert').filter({ hasText: 'Only admins can see and change the policy.' }).waitFor();
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy' }).count(), 0);
    } finally {
      await context.close();
    }
  });
});
