/*
 * Follow-up emails about an action join the conversation its first email started, per recipient: a
 * reminder and the outcome each name the first message's Message-ID in In-Reply-To and
 * References (RFC 5322), so mail clients thread them; someone newly asked by an escalation gets a first
 * message of their own, and their later emails thread under it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import { FakeClock } from '../src/lib/clock.js';
import { forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { MIN, remindingPolicy } from './reminding-policy.js';
import { PUBLIC_URL, type ReceivedMail, startSmtp, type TestSmtp } from './smtp-helpers.js';

/** Alice decides; after 30 minutes Carol is asked too and both are reminded every 30 minutes (twice). */
const REMINDING = remindingPolicy('{ users: [alice@example.com] }', '{ users: [carol@example.com] }');

const header = (m: ReceivedMail, name: string) =>
  (new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(m.raw)?.[1] ?? '').replace(/\r?\n[ \t]/g, ' ').trim();

forEachDialect('email threads', (dialect) => {
  let w: World;
  let smtp: TestSmtp;
  let clock: FakeClock;

  before(async () => {
    smtp = await startSmtp();
    clock = new FakeClock();
    const file = NotificationsConfigSchema.parse({
      email: { enabled: true, host: '127.0.0.1', port: smtp.port, timeout: 5 },
      routes: [{ events: ['asked', 'decided'], to: [{ kind: 'approvers', channel: 'email' }] }],
    });
    w = await world(dialect, {
      clock,
      config: (c) => ({
        ...withPolicy(REMINDING)(c),
        server: { ...c.server, publicUrl: PUBLIC_URL },
        notifications: resolveNotifications(file, {}, PUBLIC_URL),
      }),
    });
  });
  after(async () => {
    await w.close();
    await smtp.close();
  });

  const mailsTo = (id: string, who: string) => smtp.messages.filter((m) => m.text.includes(id) && m.to.includes(who));
  const later = async (minutes: number) => {
    await clock.advance(minutes * MIN);
    for (let i = 0; i < 2; i++) await w.gw.scheduler.tick();
    await w.gw.consumerRunner.tick('notify');
  };

  test("a reminder and the outcome thread under each recipient's first email about the action; an escalation starts the newly asked one's", async () => {
    const action = (await propose(w, { tool: 'deploy', arguments: { service: 'api' } })).body;
    assert.equal(action.status, 'pending');
    await w.gw.consumerRunner.tick('notify');
    const [first] = mailsTo(action.id, 'alice@example.com');
    assert.ok(first, 'alice is asked');
    const root = header(first, 'Message-ID');
    assert.match(root, /^<.+@.+>$/);
    assert.equal(header(first, 'In-Reply-To'), '', 'the first email starts the conversation');

    await later(30); // the escalation asks carol
    await later(30); // a reminder to both
    const alice = mailsTo(action.id, 'alice@example.com');
    const carol = mailsTo(action.id, 'carol@example.com');
    assert.deepEqual(
      alice.map((m) => m.subject.replace(/:.*/s, '').replace('[Countersign] ', '')),
      ['Your approval is requested', 'Reminder'],
    );
    assert.deepEqual(
      carol.map((m) => m.subject.replace(/:.*/s, '').replace('[Countersign] ', '')),
      ['Escalated', 'Reminder'],
    );
    for (const m of alice.slice(1)) {
      assert.equal(header(m, 'In-Reply-To'), root, m.subject);
      assert.equal(header(m, 'References'), root, m.subject);
      assert.notEqual(header(m, 'Message-ID'), root, 'each email is a message of its own');
    }
    const carolRoot = header(carol[0] as ReceivedMail, 'Message-ID');
    assert.equal(header(carol[0] as ReceivedMail, 'In-Reply-To'), '', "carol's first email starts her own conversation");
    for (const m of carol.slice(1)) assert.equal(header(m, 'In-Reply-To'), carolRoot, m.subject);

    const decided = await review(w, action.id, w.keys.alice, { decision: 'approve' });
    assert.equal(decided.body.status, 'approved', JSON.stringify(decided.body));
    await w.gw.consumerRunner.tick('notify');
    const finished = (who: string) => mailsTo(action.id, who).find((m) => /Review finished/.test(m.subject));
    assert.equal(finished('alice@example.com'), undefined, 'the person who decided is not told what they did');
    assert.equal(header(finished('carol@example.com') as ReceivedMail, 'In-Reply-To'), carolRoot);
  });
});
