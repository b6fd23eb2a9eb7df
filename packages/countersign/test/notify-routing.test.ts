/*
 * Routing of notifications: which events go where (per workflow and stage, to approvers and shared
 * addresses), the "decided" email, and the configuration's refusals.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import { FakeClock } from '../src/lib/clock.js';
import { call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { PUBLIC_URL, startSmtp, type TestSmtp } from './smtp-helpers.js';

const POLICY = `
policy:
  default: review
  rules:
    - name: releases
      when: tool == "release"
      effect: review
      workflow: release
    - name: risky
      when: tool == "drop_table"
      effect: review
      workflow: risky
workflows:
  risky:
    stages:
      - name: strong
        approvers: { roles: [reviewer] }
        step_up: { max_age: 5m }
  release:
    stages:
      - name: leads
        approvers: { users: [carol@example.com] }
      - name: ops
        approvers: { roles: [admin] }
`;

forEachDialect('notification routing', (dialect) => {
  let w: World;
  let smtp: TestSmtp;

  before(async () => {
    smtp = await startSmtp();
    const file = NotificationsConfigSchema.parse({
      email: { enabled: true, host: '127.0.0.1', port: smtp.port, timeout: 5, decision_links: true },
      routes: [
        { workflow: 'risky', to: [{ kind: 'approvers', channel: 'email' }] },
        { workflow: 'default', events: ['asked', 'decided'], to: [{ kind: 'approvers', channel: 'email' }] },
        {
          workflow: 'release',
          stage: 'ops',
          to: [
            { kind: 'approvers', channel: 'email' },
            { kind: 'email', address: 'ops-list@example.com' },
          ],
        },
        { workflow: 'release', events: ['decided'], to: [{ kind: 'email', address: 'ops-list@example.com' }] },
      ],
    });
    w = await world(dialect, {
      clock: new FakeClock(),
      config: (c) => ({
        ...withPolicy(POLICY)(c),
        server: { ...c.server, publicUrl: PUBLIC_URL },
        notifications: resolveNotifications(file, {}, PUBLIC_URL),
      }),
    });
  });
  after(async () => {
    await w.close();
    await smtp.close();
  });

  const tick = () => w.gw.consumerRunner.tick('notify');
  const mailsFor = (id: string) => smtp.messages.filter((m) => m.text.includes(id));

  test('after a decision, the people who were asked (not the one who decided) get a short "decided by" email without decision links', async () => {
    const id = (await propose(w)).body.id;
    await tick();
    assert.equal(mailsFor(id).length, 3);
    assert.equal((await review(w, id, w.keys.alice, { decision: 'deny', reason: 'not today' })).status, 200);
    await tick();
    const decided = mailsFor(id).filter((m) => m.text.startsWith('Review finished'));
    assert.deepEqual(decided.flatMap((m) => m.to).sort(), ['ada@example.com', 'carol@example.com']);
    for (const m of decided) {
      assert.match(m.text, /Outcome: denied by alice@example\.com \(not today\)/);
      assert.ok(!m.text.includes('/email/decision'), 'no decision links once decided');
    }
  });

  test('a route for one stage sends only that stage; a shared address gets its copy, and the decision goes to the shared address alone', async () => {
    const id = (await propose(w, { tool: 'release' })).body.id;
    await tick();
    assert.equal(mailsFor(id).length, 0, 'the first stage (leads) has no route');
    assert.equal((await review(w, id, w.keys.carol, { decision: 'approve' })).status, 200);
    await tick();
    assert.deepEqual(
      mailsFor(id)
        .flatMap((m) => m.to)
        .sort(),
      ['ada@example.com', 'ops-list@example.com'],
    );
    assert.equal((await review(w, id, w.keys.ada, { decision: 'approve' })).status, 200);
    await tick();
    const decided = mailsFor(id).filter((m) => m.text.startsWith('Review finished'));
    assert.deepEqual(
      decided.flatMap((m) => m.to),
      ['ops-list@example.com'],
    );
    assert.match(decided[0]?.text ?? '', /Outcome: approved by ada@example\.com/);
    const rows = await call(w, 'GET', `/v1/admin/deliveries?action=${id}`, w.keys.ada);
    assert.equal(rows.body.items.length, 3);
  });

  test('a stage that needs step-up gets no decision links in its email, only the console link and why', async () => {
    const id = (await propose(w, { tool: 'drop_table' })).body.id;
    await tick();
    const mails = mailsFor(id);
    assert.equal(mails.length, 3);
    for (const m of mails) {
      assert.ok(!m.text.includes('/email/decision') && !m.html.includes('/email/decision'), 'no decision link');
      assert.match(m.text, /needs a recent strong sign-in to approve: open the action in the console/);
      assert.ok(m.text.includes(`${PUBLIC_URL}/actions/${id}`));
    }
    const links = await w.gw.deps.db.read.selectFrom('email_decision_links').selectAll().where('action_id', '=', id).execute();
    assert.equal(links.length, 0, 'none was even issued');
  });
});

test('email notifications need server.public_url, since every email links to the console', () => {
  const file = NotificationsConfigSchema.parse({ email: { enabled: true } });
  assert.throws(() => resolveNotifications(file, {}, undefined), /server\.public_url/);
});

test('SMTP credentials come from the environment, both or neither', () => {
  const file = NotificationsConfigSchema.parse({ email: { enabled: true } });
  assert.throws(() => resolveNotifications(file, { COUNTERSIGN_SMTP_USER: 'u' }, PUBLIC_URL), /COUNTERSIGN_SMTP_PASSWORD/);
  const ok = resolveNotifications(file, { COUNTERSIGN_SMTP_USER: 'u', COUNTERSIGN_SMTP_PASSWORD: 'p' }, PUBLIC_URL);
  assert.equal(ok.email.user, 'u');
  assert.equal(ok.email.password, 'p');
});

test('a notifications section with an unknown target kind, a bad address or an unknown key is refused', () => {
  for (const bad of [
    { routes: [{ to: [{ kind: 'pager', number: '1' }] }] },
    { routes: [{ to: [{ kind: 'email', address: 'not an address' }] }] },
    { routes: [{ to: [] }] },
    { email: { enabled: true, password: 'in the file' } },
  ]) {
    assert.equal(NotificationsConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  const defaults = resolveNotifications(NotificationsConfigSchema.parse({}), {}, undefined);
  assert.equal(defaults.email.enabled, false);
  assert.equal(defaults.email.link_ttl, 3_600_000);
  assert.equal(defaults.routes, undefined, 'none written: the policy store applies the built-in routes');
});
