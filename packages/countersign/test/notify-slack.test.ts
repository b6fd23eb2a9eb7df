/*
 * The Slack channel (HTTP mode) against a local stand-in for Slack's Web API: a Block Kit message per
 * pending action with the safe summary; Approve / Deny (with a reason, in a modal) as the linked person,
 * through the review verb; forged, stale and replayed interactions refused; unlinked and ineligible users
 * told why, privately; a decision from anywhere updating every message; 429/500 retried then
 * dead-lettered.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { confirmChatLink } from '../src/domain/identities/chat-links/confirm-chat-link.js';
import type { UserPrincipal } from '../src/domain/identities/principal.js';
import { readAfter } from '../src/events/outbox.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { REVIEW_CHANNEL, textsOf, withSlack } from './slack-helpers.js';
import { BOT_TOKEN, SlackStandIn } from './slack-standin.js';
import { PUBLIC_URL } from './smtp-helpers.js';
import { STEP_UP_POLICY } from './step-up-helpers.js';

const ALICE_SLACK = 'U0ALICE';
const BOB_SLACK = 'U0BOB';
const VICTOR_SLACK = 'U0VICTOR';
const CAROL_SLACK = 'U0CAROL';
const STRANGER_SLACK = 'U0STRANGER';

const HOSTILE = {
  env: 'staging',
  ping: '<!channel> please look',
  link: '<https://evil.example/steal|click here>',
  user: '<@U0BOSS> said yes',
  hidden: 'zero\u200Bwidth and \u202Egpj.exe',
  style: '*bold* _it_ ~s~ `code` :tada:',
  host: 'p\u0430ypal.example', // a Cyrillic а
};

forEachDialect('Slack channel', (dialect) => {
  let w: World;
  let slack: SlackStandIn;
  let clock: FakeClock;

  before(async () => {
    slack = new SlackStandIn();
    await slack.start();
    clock = new FakeClock();
    w = await world(dialect, {
      clock,
      config: (c) => withSlack(slack, {}, { events: { ...c.events, consumerMaxAttempts: 3 } })(withPolicy(STEP_UP_POLICY)(c)),
    });
  });
  after(async () => {
    await w?.close();
    await slack?.close();
  });

  const tick = () => w.gw.consumerRunner.tick('slack');
  const postsAbout = (id: string) => slack.callsOf('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? '').includes(id));
  const messagesOf = (id: string) =>
    w.gw.deps.db.read.selectFrom('slack_messages').selectAll().where('action_id', '=', id).orderBy('recipient').execute();
  const action = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body;
  const now = () => Math.floor(clock.now() / 1000);
  const send = (payload: unknown, o: { ts?: number; secret?: string } = {}) => {
    const req = slack.signed(payload, { ts: o.ts ?? now(), ...(o.secret ? { secret: o.secret } : {}) });
    return w.gw.app.inject({ method: 'POST', url: '/slack/interactions', headers: req.headers, payload: req.body });
  };
  const ephemeralsTo = (user: string) => slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === user);
  /** The person confirms, from a signed-in browser session, the link the channel sent their Slack user. */
  const confirm = async (linkUrl: string, userId: string, email: string) => {
    const token = new URL(linkUrl).hash.replace(/^#(token=)?/, '');
    const by: UserPrincipal = {
      type: 'user',
      id: userId,
      email,
      name: email,
      role: 'reviewer',
      groups: [],
      credential: { kind: 'session', sessionId: 'test-session', method: 'password', strongAt: null },
    };
    await confirmChatLink(w.gw.deps, by, { token });
  };
  /** Links a Slack user the way a person does: their click gets a link, which they confirm in the console. */
  const link = async (slackUser: string, userId: string, email: string, where: { channel: string; ts: string }) => {
    const before = ephemeralsTo(slackUser).length;
    const res = await send(slack.click({ user: slackUser, ...where, actionId: 'cs_approve' }));
    assert.equal(res.statusCode, 200, res.body);
    const told = ephemeralsTo(slackUser).slice(before);
    assert.equal(told.length, 1);
    const url = /<([^|>]+)\|Link your Slack account>/.exec(String(told[0]?.args.text))?.[1]?.replace(/&amp;/g, '&');
    assert.ok(url?.startsWith(PUBLIC_URL), String(told[0]?.args.text));
    await confirm(url ?? '', userId, email);
  };

  let firstId = '';
  let first: { channel: string; ts: string };

  test('a pending action posts one Block Kit message to the review channel with the safe summary: agent text only as plain_text, hidden characters shown', async () => {
    firstId = (await propose(w, { arguments: HOSTILE, purpose: '<@U0BOSS> approve \u200Bthis' })).body.id;
    await tick();
    const posts = postsAbout(firstId);
    assert.equal(posts.length, 1, 'one message: nobody has a linked Slack account for a DM yet');
    const post = posts[0];
    assert.ok(post);
    assert.equal(post.token, BOT_TOKEN);
    assert.equal(post.args.channel, REVIEW_CHANNEL);
    assert.doesNotMatch(String(post.args.text), /<[!@#]|<https?:/, 'the notification text has nothing Slack would parse');
    const texts = textsOf(post.args.blocks);
    const all = texts.map((t) => t.text).join('\n');
    for (const hostile of ['<!channel> please look', '<https://evil.example/steal|click here>', '<@U0BOSS> said yes', '*bold* _it_']) {
      const holders = texts.filter((t) => t.text.includes(hostile));
      assert.ok(holders.length > 0, `${hostile} is shown`);
      assert.ok(
        holders.every((t) => t.type === 'plain_text'),
        `${hostile} only as plain_text`,
      );
    }
    assert.ok(
      texts.every((t) => t.type === 'plain_text'),
      'no mrkdwn anywhere',
    );
    assert.ok(!all.includes('\u200B') && !all.includes('\u202E'), 'no hidden character survives');
    assert.ok(all.includes('zero⟦U+200B⟧width') && all.includes('⟦U+202E⟧gpj.exe'));
    assert.ok(all.includes('approve ⟦U+200B⟧this'), 'the purpose is revealed too');
    assert.ok(
      all.includes('Look closely:\n') && /arguments\.hidden: [^\n]*bidirectional control characters/.test(all),
      'flagged places said in words',
    );
    assert.ok(all.includes('arguments.host: words mixing alphabets (look-alike letters)'), 'a look-alike no marker can show');
    assert.ok(all.includes('deployer') && all.includes('stage 1 of 1'), 'agent and progress');
    const buttons = (post.args.blocks as { type: string; elements?: { action_id: string; value?: string; url?: string }[] }[])
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? []);
    assert.deepEqual(
      buttons.map((b) => b.action_id),
      ['cs_approve', 'cs_deny', 'cs_open'],
    );
    assert.equal(buttons[2]?.url, `${PUBLIC_URL}/actions/${firstId}`);
    const rows = await messagesOf(firstId);
    assert.equal(rows.length, 1);
    first = { channel: String(rows[0]?.channel), ts: String(rows[0]?.ts) };
    assert.equal(first.channel, REVIEW_CHANNEL);
    const deliveries = await w.gw.deps.db.read.selectFrom('notification_deliveries').selectAll().where('action_id', '=', firstId).execute();
    assert.deepEqual(
      deliveries.map((d) => [d.channel, d.recipient, d.status, d.external_ref]),
      [['slack', `#${REVIEW_CHANNEL}`, 'sent', `${first.channel}/${first.ts}`]],
    );
    assert.equal(deliveries[0]?.id, rows[0]?.delivery_id);
    assert.equal((await auditRows(w, firstId)).filter((r) => r.event === 'notification.sent').length, 1);
  });

  test('a redelivered event posts nothing twice', async () => {
    const def = w.gw.consumers.list().find((d) => d.name === 'slack');
    assert.ok(def);
    const events = await readAfter(w.gw.deps.db.read, 0, {});
    const asked = events.find((e) => e.actionId === firstId && e.type === 'tool.approval_required');
    assert.ok(asked);
    const before = slack.calls.length;
    await def.handle({ event: asked, idempotencyKey: `slack:${asked.seq}`, attempt: 2 });
    assert.equal(slack.calls.length, before, 'no call at all');
    assert.equal((await messagesOf(firstId)).length, 1);
  });

  test('forged, stale, future and replayed interaction requests are refused with 401 and decide nothing', async () => {
    const click = slack.click({ user: STRANGER_SLACK, ...first, actionId: 'cs_approve' });
    assert.equal((await send(click, { secret: 'not-the-signing-secret' })).statusCode, 401);
    assert.equal((await send(click, { ts: now() - 301 })).statusCode, 401);
    assert.equal((await send(click, { ts: now() + 301 })).statusCode, 401);
    const good = slack.signed(click, { ts: now() });
    const tampered = good.body.replace(STRANGER_SLACK, ALICE_SLACK);
    const t = await w.gw.app.inject({ method: 'POST', url: '/slack/interactions', headers: good.headers, payload: tampered });
    assert.equal(t.statusCode, 401, 'a body changed after signing');
    const unsigned = await w.gw.app.inject({
      method: 'POST',
      url: '/slack/interactions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: good.body,
    });
    assert.equal(unsigned.statusCode, 401);
    assert.equal(ephemeralsTo(STRANGER_SLACK).length, 0, 'nothing was acted on');
    const once = await w.gw.app.inject({ method: 'POST', url: '/slack/interactions', headers: good.headers, payload: good.body });
    assert.equal(once.statusCode, 200, once.body);
    assert.equal(ephemeralsTo(STRANGER_SLACK).length, 1);
    const replay = await w.gw.app.inject({ method: 'POST', url: '/slack/interactions', headers: good.headers, payload: good.body });
    assert.equal(replay.statusCode, 401);
    assert.match(replay.body, /replay/);
    assert.equal(ephemeralsTo(STRANGER_SLACK).length, 1, 'the replay did nothing');
    const a = await action(firstId);
    assert.equal(a.status, 'pending');
    assert.equal(a.reviews.length, 0);
  });

  test('an unlinked Slack user is sent, privately, a link to link their account; once confirmed, their Approve click approves as that person (audit: channel slack)', async () => {
    const told = ephemeralsTo(STRANGER_SLACK)[0];
    assert.ok(told);
    assert.equal(told.args.channel, first.channel);
    assert.match(String(told.args.text), /not linked/);
    assert.equal((await action(firstId)).status, 'pending');
    await link(ALICE_SLACK, w.ids.alice, 'alice@example.com', first);
    const res = await send(slack.click({ user: ALICE_SLACK, ...first, actionId: 'cs_approve' }));
    assert.equal(res.statusCode, 200);
    const a = await action(firstId);
    assert.equal(a.status, 'approved');
    assert.equal(a.decided_by.label, 'alice@example.com');
    assert.equal(a.reviews[0].channel, 'slack');
    const reviewed = (await auditRows(w, firstId)).filter((r) => r.event === 'action.reviewed');
    assert.equal(reviewed.length, 1);
    const data = JSON.parse(reviewed[0]?.data ?? '{}');
    assert.equal(data.channel, 'slack');
    assert.equal(data.reviewer, 'alice@example.com');
    assert.equal(data.auth.kind, 'chat');
    assert.match(String(ephemeralsTo(ALICE_SLACK).at(-1)?.args.text), /You approved it/);
  });

  test('after the decision, the message is updated in place (its channel and ts): buttons gone, outcome and who decided', async () => {
    await tick();
    const updates = slack.callsOf('chat.update').filter((c) => c.args.ts === first.ts);
    assert.equal(updates.length, 1);
    assert.equal(updates[0]?.args.channel, first.channel);
    assert.equal(updates[0]?.token, BOT_TOKEN);
    const blocks = JSON.stringify(updates[0]?.args.blocks);
    assert.ok(!blocks.includes('cs_approve') && !blocks.includes('cs_deny'), 'no buttons to decide with');
    assert.match(blocks, /approved by alice@example\.com \(via slack\)/);
    assert.equal((await messagesOf(firstId))[0]?.outcome, 'approved');
    const replies = slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === first.ts);
    assert.equal(replies.length, 0, 'an approval has no reason to post');
  });

  test('approvers with a linked Slack account get a direct message too', async () => {
    const id = (await propose(w, { arguments: { env: 'staging', n: 2 } })).body.id;
    await tick();
    assert.deepEqual(slack.callsOf('conversations.open').at(-1)?.args.users, ALICE_SLACK);
    const rows = await messagesOf(id);
    assert.deepEqual(
      rows.map((r) => [r.recipient, r.channel]),
      [
        [`#${REVIEW_CHANNEL}`, REVIEW_CHANNEL],
        [`@${ALICE_SLACK}`, `D${ALICE_SLACK.slice(1)}`],
      ],
    );
  });

  test('Deny opens a modal asking the reason; submitting it denies as the person, and the agent sees the reason', async () => {
    const id = (await propose(w, { arguments: { env: 'staging', n: 3 } })).body.id;
    await tick();
    const [row] = (await messagesOf(id)).filter((r) => r.channel === REVIEW_CHANNEL);
    assert.ok(row);
    const res = await send(slack.click({ user: ALICE_SLACK, channel: row.channel, ts: row.ts, actionId: 'cs_deny' }));
    assert.equal(res.statusCode, 200);
    const opened = slack.callsOf('views.open').at(-1);
    assert.ok(opened, 'views.open was called with the click trigger');
    assert.equal((await action(id)).status, 'pending', 'the click alone decides nothing');
    const view = opened.args.view as Record<string, unknown>;
    const empty = await send(slack.submit({ user: ALICE_SLACK, view, reason: '   ' }));
    assert.equal(JSON.parse(empty.body).response_action, 'errors', 'a reason is required');
    const submitted = await send(slack.submit({ user: ALICE_SLACK, view, reason: 'not on a Friday <!here>' }));
    assert.equal(submitted.statusCode, 200);
    const a = (await call(w, 'GET', `/v1/actions/${id}`, w.keys.agent)).body;
    assert.equal(a.status, 'denied');
    assert.equal(a.reason, 'not on a Friday <!here>');
    assert.equal(a.reviews[0].channel, 'slack');
    await tick();
    for (const r of await messagesOf(id)) {
      const thread = slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === r.ts);
      assert.equal(thread.length, 1, `the reason in the thread of ${r.recipient}`);
      assert.equal(thread[0]?.args.channel, r.channel);
      assert.match(String(thread[0]?.args.text), /Denied by alice@example\.com: not on a Friday &lt;!here&gt;/);
    }
  });

  test("the agent's owner, a viewer and the person the action acts for are refused privately, in the domain's words; nothing is decided", async () => {
    const id = (await propose(w, { arguments: { env: 'staging', n: 4 }, on_behalf_of: 'carol@example.com' })).body.id;
    await tick();
    const [row] = (await messagesOf(id)).filter((r) => r.channel === REVIEW_CHANNEL);
    assert.ok(row);
    const where = { channel: row.channel, ts: row.ts };
    await link(BOB_SLACK, w.ids.bob, 'bob@example.com', where);
    const victor = await w.gw.deps.db.read
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'victor@example.com')
      .executeTakeFirstOrThrow();
    await link(VICTOR_SLACK, victor.id, 'victor@example.com', where);
    const carol = await w.gw.deps.db.read
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'carol@example.com')
      .executeTakeFirstOrThrow();
    await link(CAROL_SLACK, carol.id, 'carol@example.com', where);
    const cases: [string, RegExp][] = [
      [BOB_SLACK, /You cannot approve this action: .*own/],
      [VICTOR_SLACK, /You cannot approve this action: .*viewer/],
      [CAROL_SLACK, /You cannot approve this action: .*behalf/],
    ];
    for (const [user, why] of cases) {
      assert.equal((await send(slack.click({ user, ...where, actionId: 'cs_approve' }))).statusCode, 200);
      assert.match(String(ephemeralsTo(user).at(-1)?.args.text), why);
      assert.equal((await send(slack.click({ user, ...where, actionId: 'cs_deny' }))).statusCode, 200);
      assert.match(String(ephemeralsTo(user).at(-1)?.args.text), /You cannot deny this action/);
    }
    const a = await action(id);
    assert.equal(a.status, 'pending');
    assert.equal(a.reviews.length, 0);
  });

  test('a click from another workspace, or on a message that is not ours, does nothing', async () => {
    const id = (await propose(w, { arguments: { env: 'staging', n: 5 } })).body.id;
    await tick();
    const [row] = (await messagesOf(id)).filter((r) => r.channel === REVIEW_CHANNEL);
    assert.ok(row);
    const calls = slack.calls.length;
    await send(slack.click({ user: ALICE_SLACK, team: 'T0OTHER', channel: row.channel, ts: row.ts, actionId: 'cs_approve' }));
    assert.equal(slack.calls.length, calls);
    await send(slack.click({ user: ALICE_SLACK, channel: row.channel, ts: '1.000001', actionId: 'cs_approve', value: id }));
    assert.match(String(ephemeralsTo(ALICE_SLACK).at(-1)?.args.text), /not one Countersign can act on/);
    assert.equal((await action(id)).status, 'pending', 'the button value names the action, but only our record of the message counts');
  });

  test('a step-up stage offers only "Open in console", and an Approve click from Slack is refused with the console link', async () => {
    const id = (await propose(w, { arguments: { env: 'production' } })).body.id;
    await tick();
    const [post] = postsAbout(id).filter((c) => c.args.channel === REVIEW_CHANNEL);
    assert.ok(post);
    const blocks = JSON.stringify(post.args.blocks);
    assert.ok(!blocks.includes('cs_approve') && !blocks.includes('cs_deny'));
    assert.match(blocks, /Open in console/);
    const [row] = (await messagesOf(id)).filter((r) => r.channel === REVIEW_CHANNEL);
    assert.ok(row);
    await send(slack.click({ user: ALICE_SLACK, channel: row.channel, ts: row.ts, actionId: 'cs_approve' }));
    assert.match(String(ephemeralsTo(ALICE_SLACK).at(-1)?.args.text), /strong sign-in.*open the action in the console/);
    assert.equal((await action(id)).status, 'pending');
  });

  test('a decision from the API updates every message of the action (channel and DM), with the reason in each thread', async () => {
    const id = (await propose(w, { arguments: { env: 'staging', n: 6 } })).body.id;
    await tick();
    const rows = await messagesOf(id);
    assert.deepEqual(
      rows.map((r) => r.recipient),
      [`#${REVIEW_CHANNEL}`, `@${ALICE_SLACK}`, `@${CAROL_SLACK}`],
    );
    assert.equal((await review(w, id, w.keys.carol, { decision: 'deny', reason: 'wrong window' })).status, 200);
    await tick();
    for (const r of rows) {
      const updates = slack.callsOf('chat.update').filter((c) => c.args.ts === r.ts && c.args.channel === r.channel);
      assert.equal(updates.length, 1, r.recipient);
      assert.match(JSON.stringify(updates[0]?.args.blocks), /denied by carol@example\.com \(wrong window\) \(via api\)/);
      const stored = slack.messages.get(`${r.channel}/${r.ts}`);
      assert.ok(stored && !JSON.stringify(stored.blocks).includes('cs_approve'), 'the stand-in holds the updated message');
      const thread = slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === r.ts);
      assert.equal(thread.length, 1);
    }
    const before = slack.calls.length;
    await tick();
    assert.equal(slack.calls.length, before, 'nothing is updated twice');
    const [channelRow] = rows;
    assert.ok(channelRow);
    await send(slack.click({ user: ALICE_SLACK, channel: channelRow.channel, ts: channelRow.ts, actionId: 'cs_approve' }));
    assert.match(String(ephemeralsTo(ALICE_SLACK).at(-1)?.args.text), /You cannot approve this action: .*denied/);
    assert.equal((await action(id)).status, 'denied', 'a late click on an old message changes nothing');
  });

  test('Slack answering 429 (Retry-After) and then 500: retried by the consumer, then dead-lettered with the delivery dead; a replay posts it once', async () => {
    slack.fail('chat.postMessage', { status: 429, retryAfter: 7 });
    const id = (await propose(w, { arguments: { env: 'staging', n: 7 } })).body.id;
    await tick();
    const deliveries = () =>
      w.gw.deps.db.read.selectFrom('notification_deliveries').selectAll().where('action_id', '=', id).orderBy('recipient').execute();
    let channel = (await deliveries()).find((d) => d.recipient === `#${REVIEW_CHANNEL}`);
    assert.equal(channel?.status, 'failed');
    assert.match(channel?.last_error ?? '', /rate limited by Slack \(retry after 7 s\)/);
    assert.equal((await deliveries()).find((d) => d.recipient === `@${ALICE_SLACK}`)?.status, 'sent', 'the DMs went ahead');
    slack.fail('chat.postMessage', { status: 500 }, 2);
    for (let i = 0; i < 2; i++) {
      await clock.advance(10_000);
      await tick();
    }
    channel = (await deliveries()).find((d) => d.recipient === `#${REVIEW_CHANNEL}`);
    assert.equal(channel?.status, 'dead');
    assert.equal(Number(channel?.attempts), 3);
    assert.match(channel?.last_error ?? '', /HTTP 500/);
    assert.equal(postsAbout(id).length, 2, 'only the two DMs, once each, not on every retry');
    const dead = await call(w, 'GET', '/v1/admin/dead-letters?consumer=slack', w.keys.ada);
    assert.equal(dead.body.items.length, 1);
    assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${dead.body.items[0].id}/replay`, w.keys.ada)).status, 200);
    await tick();
    assert.equal(postsAbout(id).length, 3, 'the replay posts the channel message; the DMs are not posted again');
    channel = (await deliveries()).find((d) => d.recipient === `#${REVIEW_CHANNEL}`);
    assert.equal(channel?.status, 'sent');
    const listed = await call(w, 'GET', `/v1/admin/deliveries?action=${id}&channel=slack`, w.keys.ada);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items.length, 3);
    const audit = (await auditRows(w, id)).map((r) => r.event);
    assert.ok(audit.includes('notification.failed') && audit.includes('notification.dead'));
    const metrics = await w.gw.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /countersign_notifications_sent_total\{channel="slack"\} \d+/);
    assert.match(metrics.body, /countersign_notifications_failed_total\{channel="slack",status="dead"\} 1/);
  });

  test("Slack's 429 with Retry-After: 30 is retried no sooner than 30 s later by the gateway's clock, nothing else is sent to Slack meanwhile, and nothing is lost", async () => {
    const seen: { method: string; ok: boolean; channel: unknown; at: number }[] = [];
    const listen = (c: { method: string; ok: boolean; args: Record<string, unknown> }) =>
      void seen.push({ method: c.method, ok: c.ok, channel: c.args.channel, at: clock.now() });
    slack.listeners.add(listen);
    try {
      slack.fail('chat.postMessage', { status: 429, retryAfter: 30 });
      const throttled = (await propose(w, { arguments: { env: 'staging', n: 30 } })).body.id;
      await tick();
      const limited = seen.find((c) => !c.ok);
      assert.equal(limited?.method, 'chat.postMessage');
      const retry = await w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'slack').execute();
      assert.equal(retry.length, 1);
      assert.ok(Number(retry[0]?.next_attempt_at) >= (limited?.at ?? 0) + 30_000, 'the retry is scheduled after Retry-After');
      const next = (await propose(w, { arguments: { env: 'staging', n: 31 } })).body.id;
      const calls = seen.length;
      await clock.advance(29_000);
      await tick();
      assert.equal(seen.length, calls, 'no call to Slack before the 30 s are over, not even for the next action');
      await clock.advance(1_000);
      await tick();
      const retried = seen.slice(calls).find((c) => c.method === 'chat.postMessage' && c.channel === limited?.channel);
      assert.ok(retried?.ok && retried.at - (limited?.at ?? 0) >= 30_000, 'retried once, after Retry-After');
      const deliveries = await w.gw.deps.db.read
        .selectFrom('notification_deliveries')
        .select(['action_id', 'recipient', 'status'])
        .where('action_id', 'in', [throttled, next])
        .execute();
      assert.ok(deliveries.length >= 4 && deliveries.every((d) => d.status === 'sent'), JSON.stringify(deliveries));
      for (const id of [throttled, next]) {
        const channels = postsAbout(id).map((c) => String(c.args.channel));
        assert.equal(new Set(channels).size, channels.length, `each of ${id}'s messages posted once`);
      }
      assert.equal(
        (await w.gw.deps.db.read.selectFrom('event_consumer_retries').selectAll().where('consumer', '=', 'slack').execute()).length,
        0,
      );
    } finally {
      slack.listeners.delete(listen);
    }
  });
});
