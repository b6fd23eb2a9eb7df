/*
 * Digest routes: instead of a message per request, one email per period to each recipient listing what
 * still waits on them, sent once across nodes, nothing when nothing waits, and the per-action message
 * suppressed for that route.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, forEachDialect, propose, review, type World, world } from './helpers.js';
import { PUBLIC_URL, startSmtp, type TestSmtp } from './smtp-helpers.js';

// Shorter than the actions' hour to expire, so what waits still waits a period later.
const PERIOD = 15 * 60_000;

forEachDialect('email digests', (dialect) => {
  let w: World;
  let smtp: TestSmtp;
  let clock: FakeClock;
  let other: Gateway | undefined;

  before(async () => {
    smtp = await startSmtp();
    clock = new FakeClock(Date.UTC(2026, 0, 1, 9, 30));
    const file = NotificationsConfigSchema.parse({
      email: { enabled: true, host: '127.0.0.1', port: smtp.port, timeout: 5 },
      routes: [
        {
          workflow: 'default',
          digest: '15m',
          to: [
            { kind: 'approvers', channel: 'email' },
            { kind: 'email', address: 'team@example.com' },
          ],
        },
      ],
    });
    w = await world(dialect, {
      clock,
      config: (c) => ({ ...c, server: { ...c.server, publicUrl: PUBLIC_URL }, notifications: resolveNotifications(file, {}, PUBLIC_URL) }),
    });
  });
  after(async () => {
    await other?.close();
    await w.close();
    await smtp.close();
  });

  const digests = () =>
    smtp.messages.filter((m) => m.subject.startsWith('[Countersign]') && / (wait|waits) for you| pending$/.test(m.subject));
  const tick = async () => {
    await w.gw.consumerRunner.tick('notify');
    await w.gw.digests?.tick();
  };

  let first = '';
  let second = '';
  test('pending requests of a digest route send no email of their own; the period’s digest lists them to each approver and the team address', async () => {
    first = (await propose(w, { tool: 'deploy', arguments: { host: 'p\u0430ypal.example' }, purpose: 'ship 1.4.2' })).body.id;
    second = (await propose(w, { tool: 'rotate-keys', arguments: { service: 'billing' } })).body.id;
    await w.gw.consumerRunner.tick('notify');
    assert.equal(smtp.messages.length, 0, 'no message per request on a digest route');

    await w.gw.digests?.tick();
    const sent = digests();
    assert.deepEqual(sent.map((m) => m.to[0]).sort(), ['ada@example.com', 'alice@example.com', 'carol@example.com', 'team@example.com']);
    for (const m of sent) {
      assert.ok(m.text.includes(`${PUBLIC_URL}/actions/${first}`) && m.text.includes(`${PUBLIC_URL}/actions/${second}`), 'both listed');
      assert.ok(m.text.includes('Look closely: arguments.host: words mixing alphabets (look-alike letters)'));
      assert.ok(m.html.includes(`href="${PUBLIC_URL}/actions/${first}"`));
      assert.ok(!m.text.includes('/email/decision'), 'a digest carries no decision links');
    }
    assert.match(sent.find((m) => m.to[0] === 'alice@example.com')?.subject ?? '', /2 actions wait for you/);
    assert.match(sent.find((m) => m.to[0] === 'team@example.com')?.subject ?? '', /2 actions pending/);
    const rows = await w.gw.deps.db.read
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('event_type', '=', 'notify.digest')
      .execute();
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r.status === 'sent' && Number(r.event_ts) === Date.UTC(2026, 0, 1, 9, 30)));
    assert.equal((await auditRows(w)).filter((e) => e.event === 'notification.sent').length, 4);
  });

  test('a second check in the same period sends nothing more', async () => {
    const before = smtp.messages.length;
    await clock.advance(5 * 60_000);
    await tick();
    assert.equal(smtp.messages.length, before);
  });

  test('the next period lists only what still waits, to the people it still waits on; with nothing waiting, nothing is sent', async () => {
    await review(w, first, w.keys.alice, { decision: 'approve' });
    const before = smtp.messages.length;
    await clock.advance(PERIOD);
    await tick();
    const next = smtp.messages.slice(before).filter((m) => / wait| pending/.test(m.subject));
    // Alice approved the first; the second still waits on everyone (she has not voted on it).
    assert.deepEqual(next.map((m) => m.to[0]).sort(), ['ada@example.com', 'alice@example.com', 'carol@example.com', 'team@example.com']);
    for (const m of next) {
      assert.ok(m.text.includes(second) && !m.text.includes(first), 'the decided one is gone');
      assert.match(m.subject, /1 action (waits for you|pending)/);
    }

    await review(w, second, w.keys.carol, { decision: 'deny', reason: 'not today' });
    const after = smtp.messages.length;
    await clock.advance(PERIOD);
    await tick();
    assert.equal(smtp.messages.length, after, 'nothing waits: no digest');
  });

  test('two gateways checking on the same clock send each period’s digest once to each recipient', async () => {
    if (dialect === 'sqlite') return; // one SQLite file is one node
    const third = (await propose(w, { tool: 'deploy', arguments: { env: 'staging' } })).body.id;
    other = await startGateway(w.env.config, { listen: false, clock, logger: pino({ level: 'silent' }), schema: w.env.schema as string });
    const before = smtp.messages.length;
    const since = clock.now();
    // Both nodes' jobs fire every minute of the period on the shared fake clock, and both are asked again at the end.
    await clock.advance(PERIOD);
    await Promise.all([w.gw.digests?.tick(), other.digests?.tick()]);
    await Promise.all([w.gw.digests?.tick(), other.digests?.tick()]);
    const sent = smtp.messages.slice(before);
    assert.ok(sent.length > 0 && sent.every((m) => m.text.includes(third)));
    const periods = new Map<string, number>();
    for (const m of sent) periods.set(m.to[0] as string, (periods.get(m.to[0] as string) ?? 0) + 1);
    const rows = await w.gw.deps.db.read
      .selectFrom('notification_deliveries')
      .select(['recipient', 'event_ts', 'status'])
      .where('event_type', '=', 'notify.digest')
      .where('event_ts', '>=', since - PERIOD)
      .execute();
    for (const [to, n] of periods) {
      const mine = rows.filter((r) => r.recipient === to);
      assert.equal(n, mine.length, `${to}: one email per period it was due in`);
      assert.equal(new Set(mine.map((r) => Number(r.event_ts))).size, mine.length);
      assert.ok(mine.every((r) => r.status === 'sent'));
    }
    assert.deepEqual([...periods.keys()].sort(), ['ada@example.com', 'alice@example.com', 'carol@example.com', 'team@example.com']);
  });
});

test('a digest route is 5 minutes to 7 days long and lists what waits: a decided event or a bad period is refused', () => {
  const to = [{ kind: 'email', address: 'team@example.com' }];
  for (const bad of [
    { routes: [{ digest: '1m', to }] },
    { routes: [{ digest: '8d', to }] },
    { routes: [{ digest: '15m', events: ['asked', 'decided'], to }] },
  ]) {
    assert.equal(NotificationsConfigSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(NotificationsConfigSchema.parse({ routes: [{ digest: '1d', to }] }).routes?.[0]?.digest, 86_400_000);
});
