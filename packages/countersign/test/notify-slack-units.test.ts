/*
 * The Slack channel's pure parts: its configuration (secrets from the environment, required per mode),
 * the escaping of the notification text, and Block Kit messages that stay within Slack's limits
 * whatever an agent sends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import type { Deps } from '../src/deps.js';
import type { SafeSummary } from '../src/notify/render/summary.js';
import { answerInTime } from '../src/notify/slack/answer-in-time.js';
import { askMessage } from '../src/notify/slack/blocks.js';
import { escapeMrkdwn, plain } from '../src/notify/slack/text.js';
import { checkMessage } from './slack-standin.js';

const URL = 'https://cs.example';
const ENV = { COUNTERSIGN_SLACK_BOT_TOKEN: 'xoxb-1', COUNTERSIGN_SLACK_SIGNING_SECRET: 's', COUNTERSIGN_SLACK_APP_TOKEN: 'xapp-1' };
const file = (slack: Record<string, unknown>) =>
  NotificationsConfigSchema.parse({ slack: { enabled: true, workspace: 'T0ABC', ...slack } });

describe('the Slack configuration', () => {
  it('is off by default and then needs nothing', () => {
    const c = resolveNotifications(NotificationsConfigSchema.parse({}), {}, undefined);
    assert.equal(c.slack.enabled, false);
    assert.equal(c.slack.api_url, 'https://slack.com/api/');
  });

  it('takes its tokens and signing secret from the environment only (a file cannot hold them)', () => {
    assert.throws(() => file({ bot_token: 'xoxb-1' }), /bot_token/);
    const c = resolveNotifications(file({}), ENV, URL);
    assert.equal(c.slack.botToken, 'xoxb-1');
    assert.equal(c.slack.signingSecret, 's');
  });

  it('refuses to start without the workspace, the bot token, the mode secret or the public URL', () => {
    assert.throws(() => resolveNotifications(file({ workspace: undefined }), ENV, URL), /workspace/);
    assert.throws(() => resolveNotifications(file({}), { ...ENV, COUNTERSIGN_SLACK_BOT_TOKEN: '' }, URL), /BOT_TOKEN/);
    assert.throws(() => resolveNotifications(file({}), { ...ENV, COUNTERSIGN_SLACK_SIGNING_SECRET: '' }, URL), /SIGNING_SECRET/);
    assert.throws(() => resolveNotifications(file({ mode: 'socket' }), { ...ENV, COUNTERSIGN_SLACK_APP_TOKEN: '' }, URL), /APP_TOKEN/);
    assert.throws(() => resolveNotifications(file({}), ENV, undefined), /public_url/);
    assert.doesNotThrow(() => resolveNotifications(file({ mode: 'socket' }), { ...ENV, COUNTERSIGN_SLACK_SIGNING_SECRET: '' }, URL));
  });

  it('takes a Slack channel id as a route target, and `slack` for approvers', () => {
    const ok = NotificationsConfigSchema.parse({
      routes: [
        {
          to: [
            { kind: 'slack', channel: 'C0123ABCD' },
            { kind: 'approvers', channel: 'slack' },
          ],
        },
      ],
    });
    assert.equal(ok.routes?.[0]?.to.length, 2);
    assert.throws(() => NotificationsConfigSchema.parse({ routes: [{ to: [{ kind: 'slack', channel: '#general' }] }] }), /channel id/);
  });
});

describe('Slack text', () => {
  it('escapes what mrkdwn would turn into a mention or a link', () => {
    assert.equal(escapeMrkdwn('<!channel> & <https://x|y>'), '&lt;!channel&gt; &amp; &lt;https://x|y&gt;');
  });

  it('cuts plain_text to the limit by code point, saying how much was cut', () => {
    const t = plain('😀'.repeat(4000), 3000);
    assert.ok([...t.text].length <= 3000);
    assert.match(t.text, /more characters\)$/);
    assert.equal(t.emoji, false);
    assert.equal(plain('', 10).text, ' ', 'never empty, which Slack refuses');
  });
});

describe('the Block Kit message', () => {
  const huge: SafeSummary = {
    actionId: '0193a000-0000-7000-8000-000000000001',
    tool: 'x'.repeat(500),
    arguments: Array.from({ length: 12 }, (_, i) => `arg${i}: ${'y'.repeat(360)}`),
    moreArguments: 40,
    flagged: Array.from({ length: 9 }, (_, i) => `arguments.arg${i}: words mixing alphabets (look-alike letters)`),
    purpose: 'p'.repeat(600),
    agent: 'a'.repeat(200),
    onBehalfOf: 'o'.repeat(200),
    status: 'pending',
    deadline: '2026-01-01T00:00:00.000Z',
    progress: 'stage 1 of 1 (review): 0 of 1 approvals',
    outcome: null,
    consoleUrl: `${URL}/actions/0193a000-0000-7000-8000-000000000001`,
  };

  it('stays within every limit Slack checks, however long the agent text', () => {
    for (const stepUp of [false, true]) {
      const m = askMessage(huge, stepUp);
      assert.equal(checkMessage({ text: m.text, blocks: m.blocks }), null);
    }
  });

  it('says how many arguments were left out', () => {
    assert.match(JSON.stringify(askMessage(huge, false).blocks), /… and 40 more/);
  });
});

describe("answering within Slack's three seconds", () => {
  const deps = { logger: pino({ level: 'silent' }) } as unknown as Deps;

  it("gives the handler's answer when it has one", async () => {
    assert.deepEqual(await answerInTime(deps, Promise.resolve({ response_action: 'clear' })), { response_action: 'clear' });
  });

  it('answers empty for a handler that never finishes, or fails, instead of holding the request', async () => {
    assert.equal(await answerInTime(deps, new Promise(() => undefined)), null);
    assert.equal(await answerInTime(deps, Promise.reject(new Error('boom'))), null);
  });
});
