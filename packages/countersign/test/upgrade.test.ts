/*
 * Upgrades: a database as the previous schema left it (migrations 001–020, with rows written by people, agents
 * and the gateway) is migrated by today's gateway on start, keeps every row, still verifies, and what was
 * pending before is decided after (and listed in the inbox first). The fixtures and how they were made: scripts/make-upgrade-fixture.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { sqlitePath } from '../src/db/connect.js';
import { knownMigrations } from '../src/db/migrate.js';
import { selectActionRows, workflowText } from '../src/domain/actions/action-rows.js';
import { frozenDigest } from '../src/domain/actions/frozen-digest.js';
import { workflowKey } from '../src/domain/actions/inbox-workflow-key.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { receiptBodyOf, receiptFromBody } from '../src/domain/receipts/stored-receipt.js';
import { startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, call, type Dialect, forEachDialect, PG_URL, review, type TestEnv, testEnv, type World } from './helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/upgrade-020');
/** What the fixture holds (scripts/make-upgrade-fixture.ts writes them). */
const BEFORE = { actions: 8, audit: 41, events: 23, users: 5, migrations: 20 };

/** Loads the dialect's dump into the empty database of `env`, as a restore of the old release's backup would. */
async function loadFixture(dialect: Dialect, env: TestEnv): Promise<void> {
  const text = readFileSync(join(FIXTURES, `${dialect}.sql`), 'utf8');
  if (dialect === 'sqlite') {
    const db = new BetterSqlite3(sqlitePath(env.config.database.url));
    db.exec(text);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text.replaceAll('__SCHEMA__', env.schema as string));
  } finally {
    await client.end();
  }
}

type FrozenTexts = { id: string; policy: string; workflow: string | null; receipt: string | null }[];

/** Each action's frozen texts and receipt as the old schema holds them, in its own columns (before migrations 028 and 029). */
async function frozenTextsBefore(dialect: Dialect, env: TestEnv): Promise<FrozenTexts> {
  const query = 'select id, policy, workflow, receipt from actions order by id';
  if (dialect === 'sqlite') {
    const db = new BetterSqlite3(sqlitePath(env.config.database.url));
    try {
      return db.prepare(query).all() as FrozenTexts;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${env.schema}` });
  await client.connect();
  try {
    return (await client.query(query)).rows as FrozenTexts;
  } finally {
    await client.end();
  }
}

forEachDialect('upgrading a database from the previous schema', (dialect) => {
  let env: TestEnv;
  let w: World;
  let applied: string[];
  let textsBefore: FrozenTexts;

  before(async () => {
    env = testEnv(dialect);
    await loadFixture(dialect, env);
    textsBefore = await frozenTextsBefore(dialect, env);
    // The gateway starts a minute after the fixture's last entry: its deadlines and its grant still run.
    const gw = await startGateway(env.config, {
      clock: new FakeClock(Date.UTC(2026, 10, 2, 9, 1, 0)),
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(env.schema ? { schema: env.schema } : {}),
    });
    w = { gw, env } as World;
    // cs_migrations is bookkeeping outside the typed schema.
    applied = (await sql<{ name: string }>`select name from cs_migrations order by name`.execute(gw.deps.db.read)).rows.map((r) => r.name);
  });

  after(async () => {
    await w.gw.close();
    await env.cleanup();
  });

  test("the gateway's start applies every migration after 020, and only those", () => {
    assert.deepEqual(applied, [...knownMigrations()]);
    // The fixture is an older schema than this release's, whatever migrations come after it.
    assert.ok(applied.length > BEFORE.migrations, `the fixture has ${BEFORE.migrations} migrations, this release ${applied.length}`);
  });

  test('every row written before the upgrade is still there, and the audit chain verifies from genesis', async () => {
    const count = async (t: 'actions' | 'audit_log' | 'events' | 'users') =>
      Number(
        (
          await w.gw.deps.db.read
            .selectFrom(t)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.equal(await count('actions'), BEFORE.actions);
    assert.ok((await count('audit_log')) >= BEFORE.audit);
    assert.ok((await count('events')) >= BEFORE.events);
    assert.equal(await count('users'), BEFORE.users);
    const audit = await verifyAudit(w.gw.deps.db.read);
    assert.equal(audit.ok, true, JSON.stringify(audit.firstBad));
    assert.ok(audit.entries >= BEFORE.audit);
  });

  test("the dashboard's counts are back-filled from the actions decided before the upgrade", async () => {
    const rows = await w.gw.deps.db.read.selectFrom('stats_rollup').select(['kind', 'key', 'n']).execute();
    assert.ok(rows.length > 0, 'migration 022 back-filled the rollup from the old rows');
    const statuses = new Set(rows.filter((r) => r.kind === 'status').map((r) => r.key));
    for (const status of ['executed', 'approved', 'denied', 'cancelled', 'pending']) assert.ok(statuses.has(status), status);
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of ['vote_approve', 'vote_deny', 'decision_time']) assert.ok(kinds.has(kind), kind);
  });

  test("each pending action's workflow key is back-filled from its frozen workflow, and the inbox counts them by it", async () => {
    const rows = await w.gw.deps.db.read.selectFrom('actions').select(['id', 'status', workflowText(), 'workflow_key']).execute();
    assert.ok(rows.some((r) => r.workflow !== null));
    for (const r of rows) {
      const back = r.status === 'pending' && r.workflow !== null;
      assert.equal(r.workflow_key, back ? workflowKey(r.workflow as string) : null, r.id);
    }
    assert.equal(rows.filter((r) => r.workflow_key !== null).length, 4, 'the four pending actions of the fixture');
    const alice = await issueKey(w.gw.deps, ADMIN, { for: 'alice@example.com', label: 'inbox-after-upgrade' });
    const inbox = await call(w, 'GET', '/v1/inbox', alice.apiKey);
    assert.equal(inbox.status, 200, JSON.stringify(inbox.body));
    assert.equal(inbox.body.need_you + inbox.body.waiting_on_others, 4, 'the four pending actions of the fixture');
    assert.equal(inbox.body.items.length, 4);
    for (const item of inbox.body.items) {
      const one = await call(w, 'GET', `/v1/inbox/${item.action.id}`, alice.apiKey);
      assert.equal(item.can_decide, one.body.can_decide, item.action.id);
    }
    assert.equal(inbox.body.need_you, inbox.body.items.filter((i: { can_decide: boolean }) => i.can_decide).length);
  });

  test("each action's frozen policy decision and workflow are moved to one document per distinct text, and read back exactly", async () => {
    assert.equal(textsBefore.length, BEFORE.actions);
    assert.ok(textsBefore.some((t) => t.workflow !== null));
    const after = await selectActionRows(w.gw.deps.db.read)
      .where(
        'id',
        'in',
        textsBefore.map((t) => t.id),
      )
      .orderBy('id')
      .execute();
    assert.deepEqual(
      after.map((r) => ({ id: r.id, policy: r.policy, workflow: r.workflow })),
      textsBefore.map(({ receipt: _, ...t }) => t),
    );
    const stored = await w.gw.deps.db.read.selectFrom('actions').select(['id', 'policy_digest', 'workflow_digest']).orderBy('id').execute();
    for (const [i, r] of stored.entries()) {
      const before = textsBefore[i] as FrozenTexts[number];
      assert.equal(r.policy_digest, frozenDigest(before.policy), r.id);
      assert.equal(r.workflow_digest, before.workflow === null ? null : frozenDigest(before.workflow), r.id);
    }
    const distinct = new Set(textsBefore.flatMap((t) => (t.workflow === null ? [t.policy] : [t.policy, t.workflow])));
    const docs = await w.gw.deps.db.read.selectFrom('frozen_documents').select(['digest', 'text']).execute();
    // The gateway's actions since the upgrade (other tests) may add documents; the fixture's are there once each.
    for (const text of distinct) assert.equal(docs.filter((d) => d.text === text).length, 1, text);
    assert.ok(distinct.size < textsBefore.length * 2, 'the fixture has actions that share a text');
  });

  test('each receipt issued before the upgrade is moved to receipts, once, and the action reads it back exactly', async () => {
    const issued = textsBefore.filter((t) => t.receipt !== null);
    assert.ok(issued.length >= 2, 'the fixture has approved actions');
    const moved = await w.gw.deps.db.read
      .selectFrom('receipts')
      .select(['action_id', 'body'])
      .where(
        'action_id',
        'in',
        textsBefore.map((t) => t.id),
      )
      .orderBy('action_id')
      .execute();
    assert.deepEqual(
      moved.map((r) => ({ action_id: r.action_id, text: receiptFromBody(r.body) })),
      issued.map((t) => ({ action_id: t.id, text: t.receipt })),
    );
    // Stored as the bytes the text encodes (stored-receipt.ts frames them), not as the text.
    assert.deepEqual(
      moved.map((r) => (typeof r.body === 'string' ? Buffer.from(r.body, 'hex') : Buffer.from(r.body))),
      issued.map((t) => receiptBodyOf(t.receipt as string)),
    );
    for (const t of issued) {
      const row = await selectActionRows(w.gw.deps.db.read).where('id', '=', t.id).executeTakeFirstOrThrow();
      assert.equal(row.receipt, t.receipt, t.id);
    }
    const { rows } = await sql<Record<string, unknown>>`select * from actions`.execute(w.gw.deps.db.read);
    assert.ok(!Object.keys(rows[0] as object).includes('receipt'), 'the column is dropped');
  });

  test('an action pending before the upgrade is decided after it by a reviewer who existed before, and the chain still verifies', async () => {
    const alice = await issueKey(w.gw.deps, ADMIN, { for: 'alice@example.com', label: 'after-upgrade' });
    const pending = await call(w, 'GET', '/v1/actions?status=pending', alice.apiKey);
    assert.equal(pending.status, 200);
    assert.equal(pending.body.items.length, 4, 'the four pending actions of the fixture');
    const id = pending.body.items[0].id as string;
    const approved = await review(w, id, alice.apiKey, { decision: 'approve', reason: 'after the upgrade' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    assert.match(approved.body.receipt, /^ey/);
    const audit = await verifyAudit(w.gw.deps.db.read);
    assert.equal(audit.ok, true, JSON.stringify(audit.firstBad));
    assert.ok(audit.entries > BEFORE.audit);
    assert.ok(audit.checkpoints.matched >= 1, 'the checkpoint signed before the upgrade (and any since) matches the chain');
  });

  test('a standing grant made before the upgrade still approves what it covers', async () => {
    const agent = await issueKey(w.gw.deps, ADMIN, { for: 'deployer', label: 'after-upgrade' });
    const r = await call(w, 'POST', '/v1/actions', agent.apiKey, { tool: 'deploy', arguments: { env: 'staging', run: 'granted' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status, 'approved');
    assert.ok(r.body.grant_id ?? r.body.grant, JSON.stringify(r.body));
  });
});
