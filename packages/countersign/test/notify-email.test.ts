/*
 * Email notifications against a real SMTP server (smtp-server, in the test): one email per eligible
 * approver with a safe summary and the console link; decision links that a scanner's GET and HEAD cannot
 * use, that decide once by POST as their recipient (channel email), and that refuse forgeries, expiry and
 * the agent's owner; SMTP failures retried, dead-lettered and replayed, with delivery records saying so;
 * the admin deliveries listing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { issueDecisionLinks } from '../src/notify/email/links.js';
import { exits } from './cli-serve-helpers.js';
import { auditRows, call, cliEnvFor, forEachDialect, propose, runCli, type World, world } from './helpers.js';
import { linksIn, PUBLIC_URL, type ReceivedMail, startSmtp, type TestSmtp, withEmail } from './smtp-helpers.js';

const HOSTILE = {
  cmd: '<script>alert(1)</script>',
  file: 'invoice\u202Egpj.exe',
  note: 'zero\u200Bwidth',
  url: 'https://p\u0430ypal.com/login', // a Cyrillic а: a look-alike no marker can show
};

forEachDialect('email notifications', (dialect) => {
  let w: World;
  let smtp: TestSmtp;
  let clock: FakeClock;

  before(async () => {
    smtp = await startSmtp();
    clock = new FakeClock();
    w = await world(dialect, {
      clock,
      config: (c) => withEmail(smtp, { decision_links: true, link_ttl: '10m' }, { events: { ...c.events, consumerMaxAttempts: 3 } })(c),
    });
  });
  after(async () => {
    await w.close();
    await smtp.close();
  });

  const tick = () => w.gw.consumerRunner.tick('notify');
  const mailsFor = (id: string) => smtp.messages.filter((m) => m.text.includes(id));
  const pathOf = (url: string) => url.slice(PUBLIC_URL.length);
  const tokenOf = (url: string) => new URL(url).searchParams.get('token') ?? '';
  const linkOf = (m: ReceivedMail, word: 'Approve' | 'Deny') => {
    const line = m.text.split('\n').find((l) => l.startsWith(`${word} (`)) ?? '';
    return /https:\/\/\S+/.exec(line)?.[0] ?? '';
  };
  const post = (token: string, extra: Record<string, string> = {}) =>
    w.gw.app.inject({
      method: 'POST',
      url: '/email/decision',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, ...extra }).toString(),
    });
  const deliveries = (actionId: string) =>
    w.gw.deps.db.read.selectFrom('notification_deliveries').selectAll().where('action_id', '=', actionId).orderBy('recipient').execute();

  let firstId = '';

  test('a pending action sends one email per eligible approver, never to the agent owner or a viewer, with the safe summary and the console link', async () => {
    firstId = (await propose(w, { arguments: HOSTILE, purpose: 'ship the \u202Efix' })).body.id;
    await tick();
    await tick();
    const mails = mailsFor(firstId);
    assert.deepEqual(mails.flatMap((m) => m.to).sort(), ['ada@example.com', 'alice@example.com', 'carol@example.com']);
    for (const m of mails) {
      assert.ok(m.text.includes(`${PUBLIC_URL}/actions/${firstId}`), 'text links to the console page');
      assert.ok(m.html.includes(`href="${PUBLIC_URL}/actions/${firstId}"`), 'html links to the console page');
      for (const body of [m.text, m.html]) {
        assert.ok(!body.includes('\u202E') && !body.includes('\u200B'), 'no hidden character survives');
        assert.ok(body.includes('invoice⟦U+202E⟧gpj.exe'), 'the RTL override is shown');
        assert.ok(body.includes('zero⟦U+200B⟧width'), 'the zero-width space is shown');
        assert.ok(body.includes('⟦U+202E⟧fix'), 'the purpose is revealed too');
      }
      assert.ok(m.text.includes('  arguments.url: words mixing alphabets (look-alike letters)'), 'the look-alike is said in words');
      assert.ok(m.text.includes('  arguments.file: bidirectional control characters'), 'and where the hidden characters are');
      assert.ok(m.html.includes('<li>arguments.url: words mixing alphabets (look-alike letters)</li>'));
      assert.ok(!m.html.includes('<script>'), 'the html part never carries the agent script');
      assert.ok(m.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'it is escaped');
      assert.ok(m.text.includes('cmd: <script>alert(1)</script>'), 'the text part says the same thing, as text');
    }
    const rows = await deliveries(firstId);
    assert.deepEqual(
      rows.map((r) => [r.recipient, r.status, r.channel, Number(r.attempts)]),
      [
        ['ada@example.com', 'sent', 'email', 1],
        ['alice@example.com', 'sent', 'email', 1],
        ['carol@example.com', 'sent', 'email', 1],
      ],
    );
    assert.ok(
      rows.every((r) => typeof r.external_ref === 'string' && r.external_ref.length > 0),
      'the SMTP message id is kept',
    );
    const sent = (await auditRows(w, firstId)).filter((r) => r.event === 'notification.sent');
    assert.equal(sent.length, 3);
  });

  test('a simulated link scanner fetching every link in the email (GET and HEAD) decides nothing', async () => {
    const mail = mailsFor(firstId).find((m) => m.to.includes('alice@example.com'));
    assert.ok(mail);
    const links = linksIn(mail);
    assert.ok(links.length >= 3, 'console, approve and deny links');
    for (const url of links) {
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await w.gw.app.inject({ method, url: pathOf(url) });
        assert.ok(res.statusCode < 500, `${method} ${url}: ${res.statusCode}`);
      }
    }
    const page = await w.gw.app.inject({ method: 'GET', url: pathOf(linkOf(mail, 'Approve')) });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.ok(!page.body.includes('<script'), 'the page has no script');
    assert.ok(page.body.includes('&lt;script&gt;'), 'the page escapes the arguments too');
    assert.match(page.body, /<form method="post"/);
    const action = await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada);
    assert.equal(action.body.status, 'pending');
    assert.equal(action.body.reviews.length, 0);
    const used = await w.gw.deps.db.read.selectFrom('email_decision_links').select('used_at').where('used_at', 'is not', null).execute();
    assert.equal(used.length, 0);
  });

  test('the POST from the confirmation page decides once as the recipient (audit says channel email); a second POST is refused', async () => {
    const mail = mailsFor(firstId).find((m) => m.to.includes('alice@example.com'));
    assert.ok(mail);
    const approve = tokenOf(linkOf(mail, 'Approve'));
    const res = await post(approve);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /approved/);
    const action = await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada);
    assert.equal(action.body.status, 'approved');
    assert.equal(action.body.decided_by.label, 'alice@example.com');
    assert.equal(action.body.reviews[0].channel, 'email');
    const reviewed = (await auditRows(w, firstId)).filter((r) => r.event === 'action.reviewed');
    assert.equal(reviewed.length, 1);
    const data = JSON.parse(reviewed[0]?.data ?? '{}');
    assert.equal(data.channel, 'email');
    assert.equal(data.reviewer, 'alice@example.com');
    assert.equal(data.auth.kind, 'email_link');

    const again = await post(approve);
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /used already/);
    const deny = await post(tokenOf(linkOf(mail, 'Deny')), { reason: 'changed my mind' });
    assert.equal(deny.statusCode, 409, 'the other link of the same email is spent too');
    const carolMail = mailsFor(firstId).find((m) => m.to.includes('carol@example.com'));
    assert.ok(carolMail);
    const late = await post(tokenOf(linkOf(carolMail, 'Deny')), { reason: 'too late' });
    assert.equal(late.statusCode, 409, 'an action decided already is not decided again');
    assert.match(late.body, /approved/);
    assert.equal((await call(w, 'GET', `/v1/actions/${firstId}`, w.keys.ada)).body.status, 'approved');
  });

  test('a forged token and an expired one are refused and decide nothing', async () => {
    const id = (await propose(w, { arguments: { n: 2 } })).body.id;
    await tick();
    const mail = mailsFor(id).find((m) => m.to.includes('carol@example.com'));
    assert.ok(mail);
    const forged = await post(randomBytes(32).toString('base64url'));
    assert.equal(forged.statusCode, 403);
    const junk = await post('not a token');
    assert.equal(junk.statusCode, 403);
    const page = await w.gw.app.inject({ method: 'GET', url: `/email/decision?token=${randomBytes(32).toString('base64url')}` });
    assert.equal(page.statusCode, 410);
    await clock.advance(10 * 60_000 + 1);
    const expired = await post(tokenOf(linkOf(mail, 'Approve')));
    assert.equal(expired.statusCode, 403);
    assert.match(expired.body, /expired/);
    const action = await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada);
    assert.equal(action.body.status, 'pending');
    assert.equal(action.body.reviews.length, 0);
  });

  test("a link made for the agent's owner cannot approve, and the refusal leaves the link unused", async () => {
    const id = (await propose(w, { arguments: { n: 3 } })).body.id;
    await tick();
    assert.ok(!mailsFor(id).some((m) => m.to.includes('bob@example.com')), 'the owner is never sent one');
    const links = await w.gw.deps.committer.run((tx) =>
      issueDecisionLinks(tx, {
        publicUrl: PUBLIC_URL,
        deliveryId: 'test',
        actionId: id,
        userId: w.ids.bob,
        ttlMs: 600_000,
        deadline: null,
      }),
    );
    assert.ok(links);
    const page = await w.gw.app.inject({ method: 'GET', url: pathOf(links.approve) });
    assert.match(page.body, /You cannot approve this action: you own the agent/);
    assert.ok(!page.body.includes('<form'), 'no form is offered');
    const res = await post(tokenOf(links.approve));
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /own the agent/);
    assert.equal((await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body.status, 'pending');
    const unused = await w.gw.deps.db.read.selectFrom('email_decision_links').selectAll().where('user_id', '=', w.ids.bob).execute();
    assert.ok(
      unused.every((l) => l.used_at === null),
      'rolled back with the refused vote',
    );
  });

  test('an SMTP server answering 4xx then 5xx: retried, then dead-lettered with the delivery record dead; the others are sent once; a replay sends it', async () => {
    smtp.refuse('alice@example.com', 451);
    const id = (await propose(w, { arguments: { n: 4 } })).body.id;
    await tick();
    let alice = (await deliveries(id)).find((r) => r.recipient === 'alice@example.com');
    assert.equal(alice?.status, 'failed');
    assert.match(alice?.last_error ?? '', /451/);
    smtp.refuse('alice@example.com', 550);
    for (let i = 0; i < 2; i++) {
      await clock.advance(10_000);
      await tick();
    }
    alice = (await deliveries(id)).find((r) => r.recipient === 'alice@example.com');
    assert.equal(alice?.status, 'dead');
    assert.equal(Number(alice?.attempts), 3);
    assert.match(alice?.last_error ?? '', /550/);
    assert.equal(mailsFor(id).filter((m) => m.to.includes('carol@example.com')).length, 1, 'carol was sent once, not on every retry');
    assert.equal(mailsFor(id).filter((m) => m.to.includes('alice@example.com')).length, 0);
    const dead = await call(w, 'GET', '/v1/admin/dead-letters?consumer=notify', w.keys.ada);
    assert.equal(dead.body.items.length, 1, JSON.stringify(dead.body.items));
    assert.match(dead.body.items[0].last_error, /alice@example.com/);

    smtp.refuse('alice@example.com', null);
    assert.equal((await call(w, 'POST', `/v1/admin/dead-letters/${dead.body.items[0].id}/replay`, w.keys.ada)).status, 200);
    await tick();
    assert.equal(mailsFor(id).filter((m) => m.to.includes('alice@example.com')).length, 1);
    assert.equal(mailsFor(id).filter((m) => m.to.includes('carol@example.com')).length, 1, 'the replay sends only what was not sent');
    alice = (await deliveries(id)).find((r) => r.recipient === 'alice@example.com');
    assert.equal(alice?.status, 'sent');
    const audit = (await auditRows(w, id)).map((r) => r.event);
    assert.ok(audit.includes('notification.failed') && audit.includes('notification.dead'));
  });

  test('a delivery another attempt queued less than a lease ago is not sent again until the lease has passed; the other recipients go ahead', async () => {
    const id = (await propose(w, { arguments: { n: 5 } })).body.id;
    const event = await w.gw.deps.db.read
      .selectFrom('events')
      .select(['seq', 'ts'])
      .where('action_id', '=', id)
      .where('type', '=', 'tool.approval_required')
      .executeTakeFirstOrThrow();
    // Queued by another attempt one second short of a lease ago: taken over one second from now, not before.
    const now = clock.now() - w.gw.deps.config.events.consumerLeaseMs + 1000;
    await w.gw.deps.db.write
      .insertInto('notification_deliveries')
      .values({
        id: `00000000-0000-7000-8000-${String(Number(event.seq)).padStart(12, '0')}`,
        event_key: `notify:${event.seq}`,
        event_seq: Number(event.seq),
        event_type: 'tool.approval_required',
        event_ts: Number(event.ts),
        action_id: id,
        channel: 'email',
        recipient: 'alice@example.com',
        user_id: w.ids.alice,
        status: 'queued',
        attempts: 1,
        last_error: null,
        external_ref: null,
        created_at: now,
        updated_at: now,
        sent_at: null,
      })
      .execute();
    await tick();
    assert.deepEqual(
      mailsFor(id)
        .flatMap((m) => m.to)
        .sort(),
      ['ada@example.com', 'carol@example.com'],
    );
    assert.equal(mailsFor(id).length, 2, 'within the lease: not taken over');
    await clock.advance(5_000);
    await tick();
    const alice = (await deliveries(id)).find((r) => r.recipient === 'alice@example.com');
    assert.equal(alice?.status, 'sent');
    assert.deepEqual(
      mailsFor(id)
        .flatMap((m) => m.to)
        .sort(),
      ['ada@example.com', 'alice@example.com', 'carol@example.com'],
    );
  });

  test("a deny link's confirmation page asks for a reason, and its POST denies with that reason as the recipient", async () => {
    const id = (await propose(w, { arguments: { n: 6 } })).body.id;
    await tick();
    const mail = mailsFor(id).find((m) => m.to.includes('carol@example.com'));
    assert.ok(mail);
    const url = linkOf(mail, 'Deny');
    const page = await w.gw.app.inject({ method: 'GET', url: pathOf(url) });
    assert.match(page.body, /<textarea name="reason"/);
    const res = await post(tokenOf(url), { reason: 'not during the freeze' });
    assert.equal(res.statusCode, 200, res.body);
    const action = await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada);
    assert.equal(action.body.status, 'denied');
    assert.equal(action.body.reason, 'not during the freeze');
    assert.equal(action.body.reviews[0].reviewer.email, 'carol@example.com');
    assert.equal(action.body.reviews[0].channel, 'email');
  });

  test('GET /v1/admin/deliveries lists records for an admin with filters and pages; a reviewer and an agent get 403, a bad query 400', async () => {
    const all = await call(w, 'GET', `/v1/admin/deliveries?action=${firstId}&channel=email&status=sent`, w.keys.ada);
    assert.equal(all.status, 200);
    assert.equal(all.body.items.length, 3);
    assert.ok(all.body.items.every((d: { action_id: string; status: string }) => d.action_id === firstId && d.status === 'sent'));
    const page1 = await call(w, 'GET', `/v1/admin/deliveries?action=${firstId}&limit=2`, w.keys.ada);
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.next_cursor);
    const page2 = await call(w, 'GET', `/v1/admin/deliveries?action=${firstId}&limit=2&cursor=${page1.body.next_cursor}`, w.keys.ada);
    assert.equal(page2.body.items.length, 1);
    assert.equal(page2.body.next_cursor, null);
    const dead = await call(w, 'GET', '/v1/admin/deliveries?status=dead', w.keys.ada);
    assert.equal(dead.body.items.length, 0, 'the replayed one is sent now');
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries', w.keys.alice)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries', undefined)).status, 401);
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries?status=lost', w.keys.ada)).status, 400);
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries?limit=0', w.keys.ada)).status, 400);
    assert.equal((await call(w, 'GET', '/v1/admin/deliveries?bogus=1', w.keys.ada)).status, 400);
  });

  test('countersign notify deliveries lists the records on the CLI, filtered by action and status, as a table or JSON', async () => {
    const env = cliEnvFor(w);
    const json = exits(await runCli(['notify', 'deliveries', '--action', firstId, '--status', 'sent', '--json'], env), 0);
    const page = JSON.parse(json.stdout);
    assert.deepEqual(page.items.map((d: { recipient: string }) => d.recipient).sort(), [
      'ada@example.com',
      'alice@example.com',
      'carol@example.com',
    ]);
    const table = exits(await runCli(['notify', 'deliveries', '--action', firstId], env), 0);
    assert.match(table.stdout, /alice@example\.com\s+sent\s+1\s/);
    const bad = await runCli(['notify', 'deliveries', '--status', 'lost'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--status must be one of/);
  });
});
