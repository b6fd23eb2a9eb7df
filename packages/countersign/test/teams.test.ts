/*
 * The Microsoft Teams channel against a local stand-in of the Microsoft services (teams-standin.ts): a card
 * per pending action to each linked approver's personal chat, a channel and a notify-only webhook, with
 * hostile arguments drawn as literal text; per-user refresh that offers the buttons only to a linked person
 * who may vote now; votes through the review verb as that person (channel teams), refusals in words;
 * every card updated after a decision from any channel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { confirmChatLink } from '../src/domain/identities/chat-links/confirm-chat-link.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';
import {
  activity,
  CHANNEL,
  cardTexts,
  drawn,
  invoke,
  linkTeams,
  TEAMS_PEOPLE as P,
  PUBLIC_URL,
  toBot,
  verbsOf,
  withTeams,
} from './teams-helpers.js';
import { TeamsStandIn } from './teams-standin.js';

const HOSTILE = {
  cmd: '[click me](https://evil.example) **now**',
  file: 'invoice\u202Egpj.exe',
  note: 'zero\u200Bwidth {{DATE(2017-02-14T06:08:39Z, SHORT)}}',
  host: 'p\u0430ypal.example', // a Cyrillic а
};

forEachDialect('Teams channel', (dialect) => {
  let w: World;
  let standin: TeamsStandIn;
  let clock: FakeClock;
  const tick = () => w.gw.consumerRunner.tick('teams');
  const dm = (p: { teamsId: string }) => `a:personal-${p.teamsId}`;
  const deliveries = (actionId: string) =>
    w.gw.deps.db.read.selectFrom('notification_deliveries').selectAll().where('action_id', '=', actionId).orderBy('recipient').execute();
  const cardFor = (conversation: string, actionId: string) =>
    standin.cardsIn(conversation).find((a) => JSON.stringify(a.card).includes(actionId));

  before(async () => {
    standin = new TeamsStandIn();
    await standin.start();
    clock = new FakeClock();
    w = await world(dialect, { clock, config: withTeams(standin) });
    for (const p of [P.alice, P.carol, P.bob, P.victor]) await linkTeams(w, p);
    // Installing the app: each person's personal chat, and the team's channel.
    for (const p of [P.alice, P.carol, P.bob, P.victor, P.ada]) {
      assert.equal((await toBot(w, standin, activity(standin, p, { type: 'conversationUpdate' }))).status, 200);
    }
    const inChannel = activity(standin, P.alice, { type: 'conversationUpdate' }, { id: CHANNEL, type: 'channel' });
    assert.equal((await toBot(w, standin, inChannel)).status, 200);
  });
  after(async () => {
    await w.close();
    await standin.close();
  });

  let firstId = '';

  test('an installation teaches the bot each personal chat and the channel, with the Teams user ids', async () => {
    const convs = await w.gw.deps.db.read.selectFrom('teams_conversations').selectAll().orderBy('id').execute();
    const alice = convs.find((c) => c.id === dm(P.alice));
    assert.equal(alice?.aad_object_id, P.alice.aad, 'stored lower-case');
    assert.equal(alice?.teams_user_id, P.alice.teamsId);
    assert.equal(alice?.service_url, standin.serviceUrl);
    assert.equal(convs.find((c) => c.id === CHANNEL)?.conversation_type, 'channel');
    const users = await w.gw.deps.db.read.selectFrom('teams_users').selectAll().execute();
    assert.equal(users.length, 5);
  });

  test('a pending action posts one card to each linked eligible approver, the channel and the webhook; agent text is literal and revealed', async () => {
    firstId = (await propose(w, { arguments: HOSTILE, purpose: 'ship the \u202Efix' })).body.id;
    await tick();
    for (const p of [P.alice, P.carol]) assert.ok(cardFor(dm(p), firstId), `${p.email} got a card`);
    assert.equal(cardFor(dm(P.bob), firstId), undefined, 'never the agent owner');
    assert.equal(cardFor(dm(P.victor), firstId), undefined, 'never a viewer');
    assert.equal(cardFor(dm(P.ada), firstId), undefined, 'an unlinked approver gets no Teams card');
    const channelCard = cardFor(CHANNEL, firstId);
    assert.ok(channelCard);
    const cards = [cardFor(dm(P.alice), firstId), cardFor(dm(P.carol), firstId), channelCard].map((c) => c?.card ?? {});
    const hook = standin.workflowPosts.find((p) => JSON.stringify(p.body).includes(firstId));
    assert.ok(hook, 'the webhook got the card');
    const hookCard = (hook.body.attachments as { content: Record<string, unknown> }[])[0]?.content ?? {};
    for (const card of [...cards, hookCard]) {
      const json = JSON.stringify(card);
      assert.ok(!json.includes('\u202E') && !json.includes('\u200B'), 'no hidden character survives');
      const { blocks, runs } = cardTexts(card);
      for (const b of blocks) assert.ok(!/evil|invoice|zero|DATE|ship/.test(b), `a markdown TextBlock never carries agent text: ${b}`);
      assert.ok(runs.includes('cmd: [click me](https://evil.example) **now**'), 'the markdown is drawn as typed, in a literal run');
      assert.ok(drawn(card).includes('invoice⟦U+202E⟧gpj.exe') && drawn(card).includes('⟦U+202E⟧fix'), 'the RTL override is shown');
      assert.ok(drawn(card).includes('zero⟦U+200B⟧width {{DATE('), 'the zero-width space is shown, the function drawn as text');
      assert.ok(!runs.some((r) => r.includes('{{')), 'no run holds a whole {{');
      const open = (card.actions as { type: string; url?: string }[]).find((a) => a.type === 'Action.OpenUrl');
      assert.equal(open?.url, `${PUBLIC_URL}/actions/${firstId}`);
      assert.ok(drawn(card).includes('deployer'), 'the agent is named');
      assert.ok(drawn(card).includes('arguments.host: words mixing alphabets (look-alike letters)'), 'a look-alike said in words');
    }
    assert.deepEqual(verbsOf(cards[0] ?? {}), ['refresh'], 'the posted card has no vote buttons: they come per viewer');
    assert.deepEqual((cards[0]?.refresh as { userIds: string[] } | undefined)?.userIds, [P.alice.teamsId]);
    assert.deepEqual(
      [...((cards[2]?.refresh as { userIds: string[] } | undefined)?.userIds ?? [])].sort(),
      [P.alice.teamsId, P.carol.teamsId].sort(),
    );
    assert.deepEqual(verbsOf(hookCard), [], 'a notify-only card has no actions to answer');
    assert.equal(hookCard.refresh, undefined);
    const rows = await deliveries(firstId);
    assert.deepEqual(
      rows.map((r) => [r.recipient, r.status, r.channel]),
      [
        ['alice@example.com', 'sent', 'teams'],
        ['carol@example.com', 'sent', 'teams'],
        [`channel:${CHANNEL}`, 'sent', 'teams'],
        ['webhook:ops', 'sent', 'teams'],
      ],
    );
    assert.equal((await auditRows(w, firstId)).filter((r) => r.event === 'notification.sent').length, 4);
    await tick();
    assert.equal(
      standin.calls.filter((c) => c.method === 'POST' && JSON.stringify(c.body).includes(firstId)).length,
      3,
      'never posted twice',
    );
  });

  test('refresh offers Approve / Deny only to a linked person who may vote now; the owner, a viewer and the unlinked see why not', async () => {
    const alice = await toBot(w, standin, invoke(standin, P.alice, 'refresh', { actionId: firstId }));
    assert.equal(alice.status, 200);
    assert.equal(alice.body.statusCode, 200);
    assert.equal(alice.body.type, 'application/vnd.microsoft.card.adaptive');
    assert.deepEqual(verbsOf(alice.body.value), ['approve', 'deny']);
    assert.ok(
      (alice.body.value.body as { type: string }[]).some((e) => e.type === 'Input.Text'),
      'a reason can be given',
    );
    const bob = await toBot(w, standin, invoke(standin, P.bob, 'refresh', { actionId: firstId }));
    assert.deepEqual(verbsOf(bob.body.value), []);
    assert.match(drawn(bob.body.value), /cannot decide this action here: .*own/);
    const victor = await toBot(w, standin, invoke(standin, P.victor, 'refresh', { actionId: firstId }));
    assert.deepEqual(verbsOf(victor.body.value), []);
    const ada = await toBot(w, standin, invoke(standin, P.ada, 'refresh', { actionId: firstId }));
    assert.deepEqual(verbsOf(ada.body.value), []);
    assert.match(drawn(ada.body.value), /not linked/);
    const link = (ada.body.value.actions as { type: string; url?: string; title: string }[]).find(
      (a) => a.title === 'Link my Teams account',
    );
    assert.match(link?.url ?? '', /^https:\/\/countersign\.example\/link-chat#token=/);
    const unknown = await toBot(w, standin, invoke(standin, P.alice, 'refresh', { actionId: 'not-an-action' }));
    assert.equal(unknown.body.statusCode, 404);
  });

  test('an unlinked approver who confirms the link in the console then sees the buttons on their next refresh', async () => {
    const ada = await toBot(w, standin, invoke(standin, P.ada, 'refresh', { actionId: firstId }));
    const url = (ada.body.value.actions as { title: string; url?: string }[]).find((a) => a.title === 'Link my Teams account')?.url ?? '';
    const token = new URL(url).hash.replace(/^#token=/, '');
    const person = await w.gw.deps.db.read.selectFrom('users').selectAll().where('email', '=', P.ada.email).executeTakeFirstOrThrow();
    // Ada, signed in to the console in a browser, confirms (the chat-links verb; only a session may).
    await confirmChatLink(
      w.gw.deps,
      {
        type: 'user',
        id: person.id,
        email: person.email,
        name: person.name,
        role: 'admin',
        groups: [],
        credential: { kind: 'session', sessionId: 'test', method: 'password', strongAt: null },
      },
      { token },
    );
    const after = await toBot(w, standin, invoke(standin, P.ada, 'refresh', { actionId: firstId }));
    assert.deepEqual(verbsOf(after.body.value), ['approve', 'deny']);
  });

  test('the owner pressing Approve (a forged card) is refused in words and nothing is recorded', async () => {
    const res = await toBot(w, standin, invoke(standin, P.bob, 'approve', { actionId: firstId }));
    assert.equal(res.status, 200);
    assert.match(drawn(res.body.value), /Not recorded: .*own/);
    const action = await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada);
    assert.equal(action.body.status, 'pending');
    assert.equal(action.body.reviews.length, 0);
  });

  test('Approve by a linked eligible person approves as that person (channel teams, audited), and every card is updated', async () => {
    const res = await toBot(w, standin, invoke(standin, P.alice, 'approve', { actionId: firstId, reason: 'looks right' }));
    assert.equal(res.status, 200);
    assert.match(drawn(res.body.value), /Your approval was recorded/);
    assert.deepEqual(verbsOf(res.body.value), []);
    const action = await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada);
    assert.equal(action.body.status, 'approved');
    assert.equal(action.body.decided_by.label, 'alice@example.com');
    assert.equal(action.body.reviews[0].channel, 'teams');
    const reviewed = (await auditRows(w, firstId)).filter((r) => r.event === 'action.reviewed');
    assert.equal(reviewed.length, 1);
    const data = JSON.parse(reviewed[0]?.data ?? '{}');
    assert.equal(data.channel, 'teams');
    assert.equal(data.reviewer, 'alice@example.com');
    assert.equal(data.auth.kind, 'chat');
    assert.equal(data.auth.platform, 'teams');

    const again = await toBot(w, standin, invoke(standin, P.carol, 'deny', { actionId: firstId }));
    assert.match(drawn(again.body.value), /approved/);
    assert.equal((await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada)).body.status, 'approved', 'decided once');

    await tick();
    for (const conv of [dm(P.alice), dm(P.carol), CHANNEL]) {
      const card = cardFor(conv, firstId);
      assert.equal(card?.versions, 2, `${conv} updated once`);
      assert.deepEqual(verbsOf(card?.card ?? {}), [], 'no buttons after the decision');
      assert.equal(card?.card.refresh, undefined);
      assert.match(drawn(card?.card ?? {}), /approved by alice@example\.com \(looks right\)/);
    }
    const finals = standin.workflowPosts.filter((p) => JSON.stringify(p.body).includes(firstId));
    assert.equal(finals.length, 2, 'the webhook is told how it ended');
    assert.match(JSON.stringify(finals[1]?.body), /approved by alice@example\.com/);
  });

  test('Deny with a reason denies as the person; a decision from the API updates every card too', async () => {
    const denied = (await propose(w, { arguments: { n: 2 } })).body.id;
    const approved = (await propose(w, { arguments: { n: 3 } })).body.id;
    await tick();
    const res = await toBot(w, standin, invoke(standin, P.carol, 'deny', { actionId: denied, reason: 'not during the freeze' }));
    assert.match(drawn(res.body.value), /Your denial was recorded/);
    const action = await call(w, 'GET', `/v1/actions/${denied}`, w.keys.ada);
    assert.equal(action.body.status, 'denied');
    assert.equal(action.body.reason, 'not during the freeze');
    assert.equal(action.body.reviews[0].reviewer.email, 'carol@example.com');
    assert.equal(action.body.reviews[0].channel, 'teams');

    assert.equal((await review(w, approved, w.keys.ada, { decision: 'approve' })).status, 200);
    await tick();
    for (const [id, outcome] of [
      [denied, /denied by carol@example\.com \(not during the freeze\)/],
      [approved, /approved by ada@example\.com/],
    ] as const) {
      for (const conv of [dm(P.alice), dm(P.carol), CHANNEL]) {
        const card = cardFor(conv, id);
        assert.equal(card?.versions, 2, `${conv} updated for ${id}`);
        assert.match(drawn(card?.card ?? {}), outcome);
      }
    }
    const updates = (await deliveries(approved)).filter((r) => r.event_type === 'action.approved');
    assert.ok(updates.length >= 3 && updates.every((r) => r.status === 'sent'));
  });
});
