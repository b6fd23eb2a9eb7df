/*
 * An action's frozen policy decision and workflow are stored once per distinct text (frozen_documents,
 * migration 028), and the action keeps their digests. Whatever reads an action gets exactly what was written
 * (its view, its list entry, its receipt, its audit entry), actions under one rule share one document, and
 * two creators of one new text both succeed, also when one waits on the other's uncommitted insert.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { sqlitePath } from '../src/db/connect.js';
import { selectActionRows } from '../src/domain/actions/action-rows.js';
import { frozenDigest } from '../src/domain/actions/frozen-digest.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { eventually, twoNodes } from './cross-node-helpers.js';
import { auditRows, call, forEachDialect, PG_URL, propose, review, type World, withPolicy, world } from './helpers.js';

const POLICY = `
policy:
  default: deny
  rules:
    - name: reads
      when: tool == "read_file"
      effect: allow
    - name: releases
      when: tool == "deploy"
      effect: review
      workflow: release
workflows:
  release:
    expires_after: 1h
    stages: [ { name: sre, approvers: { roles: [reviewer] } } ]
`;

const READ = { tool: 'read_file', arguments: { path: '/etc/hosts' } };
const DEPLOY = { tool: 'deploy', arguments: { env: 'production' } };

async function documents(w: World): Promise<number> {
  const r = await w.gw.deps.db.read
    .selectFrom('frozen_documents')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function storedDigests(w: World, id: string) {
  return w.gw.deps.db.read
    .selectFrom('actions')
    .select(['policy_digest', 'workflow_digest'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** The policy decision text an allowed read_file is frozen with under the policy in force (create-action.ts). */
function readDecisionText(w: World): string {
  const hash = w.gw.deps.policy.current.hash;
  return JSON.stringify({ rule: 'reads', effect: 'allow', workflow: null, hash, reason: null, errors: [], annotations_trusted: false });
}

forEachDialect('frozen documents: what an action reads back', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(POLICY) });
  });
  after(async () => w.close());

  test('an allowed action reads back exactly as it was created, in its view and in the history', async () => {
    const created = await propose(w, READ);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'approved');
    const got = await call(w, 'GET', `/v1/actions/${created.body.id}`, w.keys.alice);
    assert.equal(JSON.stringify(got.body), JSON.stringify(created.body));
    const listed = await call(w, 'GET', `/v1/actions?tool=read_file`, w.keys.alice);
    assert.equal(JSON.stringify(listed.body.items[0]), JSON.stringify(created.body));
    const row = await selectActionRows(w.gw.deps.db.read).where('id', '=', created.body.id).executeTakeFirstOrThrow();
    assert.equal(row.policy, readDecisionText(w));
    assert.equal(row.workflow, null);
  });

  test('a reviewed action reads back exactly as created and as approved, its receipt naming the policy it was decided under', async () => {
    const created = await propose(w, DEPLOY);
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.workflow.name, 'release');
    const got = await call(w, 'GET', `/v1/actions/${created.body.id}`, w.keys.alice);
    assert.equal(JSON.stringify(got.body), JSON.stringify(created.body));
    const byWorkflow = await call(w, 'GET', '/v1/actions?workflow=release', w.keys.alice);
    assert.deepEqual(
      byWorkflow.body.items.map((a: { id: string }) => a.id),
      [created.body.id],
    );
    assert.deepEqual((await call(w, 'GET', '/v1/actions?workflow=other', w.keys.alice)).body.items, []);
    const approved = await review(w, created.body.id, w.keys.alice, { decision: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const again = await call(w, 'GET', `/v1/actions/${created.body.id}`, w.keys.alice);
    assert.equal(JSON.stringify(again.body), JSON.stringify(approved.body));
    const claims = JSON.parse(Buffer.from((approved.body.receipt as string).split('.')[1] as string, 'base64url').toString());
    assert.equal(claims.cs.policy_hash, w.gw.deps.policy.current.hash);
    assert.equal(claims.cs.policy_hash, created.body.policy.hash);
  });

  test("the audit entry of an action's creation records the decision its row holds, and the chain verifies", async () => {
    const created = await propose(w, DEPLOY);
    const [entry] = (await auditRows(w, created.body.id)).filter((r) => r.event === 'action.created');
    const data = JSON.parse((entry as { data: string }).data);
    const row = await selectActionRows(w.gw.deps.db.read).where('id', '=', created.body.id).executeTakeFirstOrThrow();
    assert.deepEqual(data.policy, JSON.parse(row.policy));
    assert.equal(data.stage, 'sre');
    const audit = await verifyAudit(w.gw.deps.db.read);
    assert.equal(audit.ok, true, JSON.stringify(audit.firstBad));
  });

  test('actions under one rule share one stored document for each of their texts', async () => {
    const before = await documents(w);
    const first = await propose(w, { ...READ, arguments: { path: '/a' } });
    const second = await propose(w, { ...READ, arguments: { path: '/b' } });
    assert.equal(await documents(w), before, 'the read decision was stored by the first test');
    const a = await storedDigests(w, first.body.id);
    const b = await storedDigests(w, second.body.id);
    assert.deepEqual(a, b);
    assert.equal(a.policy_digest, frozenDigest(readDecisionText(w)));
    assert.equal(a.workflow_digest, null);
    const x = await storedDigests(w, (await propose(w, { ...DEPLOY, arguments: { env: 'x' } })).body.id);
    const y = await storedDigests(w, (await propose(w, { ...DEPLOY, arguments: { env: 'y' } })).body.id);
    assert.deepEqual(x, y);
    assert.notEqual(x.workflow_digest, null);
    assert.equal(await documents(w), before);
  });
});

forEachDialect('frozen documents: creators of one new text', (dialect) => {
  test('two gateways creating actions under a rule new to both all succeed, and store its text once', async () => {
    const nodes = await twoNodes(dialect, { config: withPolicy(POLICY) });
    try {
      const before = await documents(nodes.a);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => propose(i % 2 === 0 ? nodes.a : nodes.b, { ...READ, arguments: { path: `/${i}` } })),
      );
      for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(await documents(nodes.a), before + 1);
    } finally {
      await nodes.close();
    }
  });

  test('a creator of a text another writer is storing (uncommitted on PostgreSQL, just committed on SQLite) succeeds, and the text is stored once', async () => {
    const w = await world(dialect, { config: withPolicy(POLICY) });
    const text = readDecisionText(w);
    const digest = frozenDigest(text);
    const other = await holdDocument(w, dialect, digest, text);
    try {
      const created = propose(w, READ);
      await other.waitedOn();
      await other.commit();
      const r = await created;
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(await documents(w), 1);
      const row = await selectActionRows(w.gw.deps.db.read).where('id', '=', r.body.id).executeTakeFirstOrThrow();
      assert.equal(row.policy, text);
    } finally {
      await other.close();
      await w.close();
    }
  });
});

/**
 * Another writer, outside the gateway, that has inserted the document and not committed: on PostgreSQL the
 * gateway's insert of the same key waits for it (seen in pg_stat_activity). SQLite has one writer at a time,
 * and a second connection in this process holding the file lock would block this thread in the gateway's
 * busy wait; there the other writer's insert is committed before the gateway's transaction begins, which is
 * the order SQLite's lock gives any two writers.
 */
async function holdDocument(w: World, dialect: 'sqlite' | 'postgres', digest: string, text: string) {
  if (dialect === 'sqlite') {
    const db = new BetterSqlite3(sqlitePath(w.env.config.database.url));
    db.pragma('busy_timeout = 5000');
    db.prepare('insert into frozen_documents (digest, text) values (?, ?)').run(digest, text);
    db.close();
    return { waitedOn: async () => {}, commit: async () => {}, close: async () => {} };
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${w.env.schema}` });
  await client.connect();
  await client.query('begin');
  await client.query(`insert into frozen_documents (digest, text) values (decode($1, 'hex'), $2)`, [digest, text]);
  const pid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  const probe = new pg.Client({ connectionString: PG_URL });
  await probe.connect();
  return {
    waitedOn: () =>
      eventually('the gateway waits on the uncommitted document', async () => {
        const blocked = await probe.query(
          `select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid)) and query like '%frozen_documents%'`,
          [pid],
        );
        return blocked.rows[0].n === 1;
      }),
    commit: async () => void (await client.query('commit')),
    close: async () => {
      await probe.end();
      await client.end();
    },
  };
}
