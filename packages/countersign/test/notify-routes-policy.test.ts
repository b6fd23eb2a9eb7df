/*
 * Notification routes live in the policy store with the workflows they name: a version applied on one node
 * is what every node's channels follow, a route naming a workflow or stage that does not exist is refused
 * with its path, and a whole config file keeps only its routes (never its SMTP settings).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import { ConfigFileSchema } from '../src/config/schema.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { parsePolicyDocument } from '../src/policy/document.js';
import { loadPolicy } from '../src/policy/store.js';
import { auditRows, call, forEachDialect, propose, type World, world } from './helpers.js';
import { PUBLIC_URL, startSmtp, type TestSmtp } from './smtp-helpers.js';

const WITH_ROUTES = `
policy:
  rules:
    - name: releases
      when: tool == "release"
      effect: review
      workflow: release
workflows:
  release:
    stages:
      - name: leads
        approvers: { roles: [reviewer] }
notifications:
  routes:
    - workflow: release
      stage: leads
      to: [{ kind: email, address: release-team@example.com }]
`;

forEachDialect('notification routes in the policy store', (dialect) => {
  let w: World;
  let smtp: TestSmtp;
  let other: Gateway | undefined;

  before(async () => {
    smtp = await startSmtp();
    const file = NotificationsConfigSchema.parse({ email: { enabled: true, host: '127.0.0.1', port: smtp.port, timeout: 5 } });
    w = await world(dialect, {
      clock: new FakeClock(),
      config: (c) => ({ ...c, server: { ...c.server, publicUrl: PUBLIC_URL }, notifications: resolveNotifications(file, {}, PUBLIC_URL) }),
    });
  });
  after(async () => {
    await other?.close();
    await w.close();
    await smtp.close();
  });

  test('routes applied as a policy version are audited with it and decide where the next request goes', async () => {
    const r = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: WITH_ROUTES, note: 'release team gets its own list' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(w.gw.deps.policy.current.routes, [
      { workflow: 'release', stage: 'leads', events: ['asked'], to: [{ kind: 'email', address: 'release-team@example.com' }] },
    ]);
    const activated = (await auditRows(w)).filter((e) => e.event === 'policy.activated');
    assert.equal(activated.at(-1)?.actor_type, 'user');

    const asked = await propose(w, { tool: 'release', arguments: { version: '1.4.2' } });
    const other = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(asked.body.status, 'pending');
    await w.gw.consumerRunner.tick('notify');
    const mails = smtp.messages.filter((m) => m.text.includes(asked.body.id));
    assert.deepEqual(
      mails.map((m) => m.to),
      [['release-team@example.com']],
      'the shared list only: the route names no approvers',
    );
    assert.equal(smtp.messages.filter((m) => m.text.includes(other.body.id)).length, 0, 'no route for the default workflow any more');
  });

  test('another node on the same database follows the same routes, from the database, not its own config', async () => {
    if (dialect === 'sqlite') return; // one SQLite file is one node
    other = await startGateway(w.env.config, { listen: false, logger: pino({ level: 'silent' }), schema: w.env.schema as string });
    assert.equal(other.deps.policy.version, w.gw.deps.policy.version);
    assert.deepEqual(other.deps.policy.current.routes, w.gw.deps.policy.current.routes);
  });

  test('a route naming a workflow or a stage that does not exist is refused with its path, and nothing changes', async () => {
    const before = w.gw.deps.policy.version;
    const bad = WITH_ROUTES.replace('stage: leads\n      to', 'stage: lead\n      to').concat(
      '    - workflow: relase\n      to: [{ kind: approvers, channel: email }]\n',
    );
    const r = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: bad });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const paths = (r.body.error.issues as { path: string }[]).map((i) => i.path);
    assert.deepEqual(paths.sort(), ['notifications.routes[0].stage', 'notifications.routes[1].workflow']);
    assert.equal(w.gw.deps.policy.version, before);
  });

  test('only an admin applies routes: a reviewer and an agent are refused', async () => {
    for (const key of [w.keys.alice, w.keys.agent]) {
      assert.equal((await call(w, 'POST', '/v1/policy/versions', key, { document: WITH_ROUTES })).status, 403);
    }
  });
});

test('a whole config file keeps only its routes of the notifications section: SMTP settings are never stored', () => {
  const config = `server: { port: 8080 }\n${WITH_ROUTES.replace('notifications:\n', 'notifications:\n  email: { enabled: true, host: smtp.internal.example, port: 2525 }\n')}`;
  const doc = parsePolicyDocument(config, Object.keys(ConfigFileSchema.shape));
  assert.ok(doc.ignored.includes('notifications (all but its routes)'));
  assert.doesNotMatch(doc.text, /smtp\.internal|2525|port: 8080/);
  assert.equal(doc.sections.routes?.[0]?.to[0]?.kind, 'email');
  assert.equal(parsePolicyDocument(doc.text).sections.routes?.length, 1, 'the stored text reads back with its routes');
});

test('a document without routes follows the built-in ones and keeps the hash it had before routes existed', () => {
  const plain = parsePolicyDocument('policy:\n  default: review\n').sections;
  const loaded = loadPolicy(plain, 3_600_000);
  assert.deepEqual(loaded.routes, [{ workflow: '*', events: ['asked'], to: [{ kind: 'approvers', channel: 'email' }] }]);
  assert.doesNotMatch(loaded.source, /routes/);
  assert.notEqual(
    loadPolicy({ ...plain, routes: loaded.routes as never }, 3_600_000).hash,
    loaded.hash,
    'written routes are part of the version',
  );
});
