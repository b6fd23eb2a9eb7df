import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, overflowX, PHONE, SHOTS, shown } from './console-pages.js';
import { call, propose, type World } from './helpers.js';

/**
 * Deciding in full in Chromium against a real gateway: editing the arguments against the MCP tool's declared
 * input schema (refused in words, then a diff, then the approval the agent receives), approving and allowing
 * similar actions (the grant said in words, then created), and denying with a preset reason.
 */

const SCHEMA = {
  type: 'object',
  properties: { env: { enum: ['staging', 'production'] }, replicas: { type: 'integer', minimum: 1, maximum: 5 } },
  required: ['env'],
  additionalProperties: false,
};
const METADATA = {
  mcp: {
    server: 'ops',
    exposed_name: 'ops__scale',
    definition: 'f'.repeat(64),
    tool: { description: 'Scales a service to a number of replicas', annotations: { destructiveHint: false }, input_schema: SCHEMA },
  },
};

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

async function shoot(page: Page, name: string, viewport: { width: number; height: number }, show?: Locator) {
  if (!SHOTS) return;
  await page.setViewportSize(viewport);
  await show?.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, name), fullPage: false });
}

inBrowserOn('postgres', 'deciding in full in the console', (dialect) => {
  let w: World;
  let base: string;
  const alice = () => ({ base, email: 'alice@example.com' });
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
  });
  after(async () => w.close());

  test('an edit the declared schema refuses is refused in words; a valid one shows the diff, then approves, and the agent runs the edited arguments', async () => {
    const { body: a } = await propose(w, { tool: 'scale', arguments: { env: 'staging', replicas: 2 }, metadata: METADATA });
    const waiting = fetch(`${base}/v1/actions/${a.id}?wait=30`, { headers: { authorization: `Bearer ${w.keys.agent}` } }).then(
      (r) => r.json() as Promise<{ status: string; edited: boolean; arguments: unknown; original_arguments: unknown }>,
    );
    const { context, page, errors } = await newPage(browser, DESKTOP, alice());
    try {
      await page.goto(`${base}/actions/${a.id}`);
      // The pinned definition, labelled as the proxy's word, collapsed until asked for.
      const def = page.getByTestId('tool-definition');
      await def.getByText('Definition and input schema').click();
      assert.match(await shown(def), /Scales a service to a number of replicas/);
      assert.match(await shown(page.locator('.tool-definition')), /As declared by the MCP proxy deployer \(server ops\)/);

      await page.getByRole('button', { name: 'Edit arguments…' }).click();
      const box = page.getByLabel('Arguments (JSON)');
      await box.waitFor();
      assert.match(await shown(page.getByTestId('schema-source')), /input schema as declared by the MCP proxy deployer/);
      const problems = page.getByTestId('edit-problems');
      const review = page.getByRole('button', { name: 'Review the changes' });

      await box.fill('{\n  "env": "staging",\n  "replicas": 3,\n}');
      await problems.filter({ hasText: /Line 4, column 1: Not valid JSON/ }).waitFor();
      assert.equal(await review.isDisabled(), true);

      await box.fill('{"env": "prod", "replicas": 9}');
      await problems.filter({ hasText: 'do not match the tool’s input schema' }).waitFor();
      const said = await shown(problems);
      assert.match(said, /\/env: Instance does not match any of \["staging","production"\]/);
      assert.match(said, /\/replicas: 9 is greater than 5/);
      assert.equal(await review.isDisabled(), true);

      await box.fill('{"env": "staging", "replicas": 4, "note": "halve it later"}');
      await problems.filter({ hasText: 'do not match' }).waitFor();
      assert.match(await shown(problems), /"note" does not match additional properties/i);

      await box.fill('{"env": "staging", "replicas": 4}');
      await review.click();
      const diff = page.getByTestId('edit-diff');
      await diff.waitFor();
      assert.equal((await shown(diff)).trim(), 'replicas changed: 2 → 4');
      await shoot(page, 'decide-1440.png', DESKTOP, diff);
      await page.getByRole('button', { name: 'Approve with these arguments' }).click();
      await page.getByTestId('outcome').filter({ hasText: 'Approved by alice@example.com' }).waitFor();

      const seen = await waiting;
      assert.deepEqual(
        [seen.status, seen.edited, seen.arguments, seen.original_arguments],
        ['approved', true, { env: 'staging', replicas: 4 }, { env: 'staging', replicas: 2 }],
      );
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('approve and allow similar: the grant is said in words before it is confirmed, then created and used', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production', service: 'web' }, session_id: 'rollout-7' });
    const { context, page, errors } = await newPage(browser, PHONE, alice());
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await page.getByRole('button', { name: 'Allow similar…' }).click();
      const words = page.getByTestId('grant-words');
      await words.waitFor();
      await page.getByLabel(/service = "web"/).uncheck();
      await page.getByLabel('How many times').fill('3');
      await page.getByLabel('For how long').selectOption('4h');
      await page.getByLabel('only this session').check();
      await words.filter({ hasText: 'up to 3 times' }).waitFor();
      assert.match(
        await shown(words),
        /^Approve this action, and allow deploy with env = "production" \(other arguments free\), by agent deployer in session rollout-7, up to 3 times, until \d\d:\d\d (today|tomorrow), without asking anyone again\.$/,
      );
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll on a phone');
      await shoot(page, 'decide-390.png', PHONE, words);
      await page.getByRole('button', { name: 'Approve and allow similar' }).click();
      await page.getByTestId('outcome').filter({ hasText: 'Approved by alice@example.com' }).waitFor();

      const grants = (await call(w, 'GET', '/v1/grants', w.keys.ada)).body.items as {
        source_action_id: string;
        session_id: string | null;
        max_uses: number | null;
        match: unknown;
        expires_at: string;
        created_at: string;
      }[];
      const g = grants.find((x) => x.source_action_id === a.id);
      assert.ok(g, 'the grant was created');
      assert.deepEqual([g.session_id, g.max_uses, g.match], ['rollout-7', 3, { arguments: { env: 'production' } }]);
      assert.equal(Date.parse(g.expires_at) - Date.parse(g.created_at), 4 * 3_600_000);
      // A similar action (another service, same session) is approved by the grant without asking.
      const next = (await propose(w, { tool: 'deploy', arguments: { env: 'production', service: 'api' }, session_id: 'rollout-7' })).body;
      assert.deepEqual([next.status, next.decided_by?.type], ['approved', 'grant']);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('deny with a configured preset reason, still editable: the agent reads it', async () => {
    const { body: a } = await propose(w, { tool: 'drop-table', arguments: { table: 'users' } });
    const { context, page } = await newPage(browser, PHONE, alice());
    try {
      await page.goto(`${base}/actions/${a.id}`);
      await page.getByLabel('Common reasons').selectOption('Wrong target or environment');
      const box = page.getByLabel(/Reason for denying/);
      assert.equal(await box.inputValue(), 'Wrong target or environment');
      await box.fill('Wrong target or environment: this is the production database');
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.getByTestId('outcome').filter({ hasText: 'Denied by alice@example.com' }).waitFor();
      const after = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.agent)).body;
      assert.deepEqual([after.status, after.reason], ['denied', 'Wrong target or environment: this is the production database']);
    } finally {
      await context.close();
    }
  });
});
