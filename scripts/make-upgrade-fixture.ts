/*
 * Writes the upgrade fixtures: a Countersign database as migrations 001–020 left it (the schema before the Teams
 * channel, the stats rollup and the inbox indexes), holding representative rows, as one SQL file per dialect in
 * packages/countersign/test/fixtures/upgrade-020/. test/upgrade.test.ts loads each into an empty database and
 * lets today's gateway migrate it.
 *
 *   node --import tsx scripts/make-upgrade-fixture.ts        (PostgreSQL at COUNTERSIGN_TEST_PG_URL; pg_dump on PATH)
 *
 * How: a gateway of today writes the rows through its own verbs (people, agents, keys, a group, actions approved,
 * redeemed and executed, denied, cancelled, pending with timers, votes, receipts, audit entries, events, a
 * signed checkpoint); then the tables and indexes that 021–023 add are dropped and their cs_migrations rows
 * deleted. 021–023 only add tables and indexes, so what is left is exactly 020's schema, and the script checks
 * that against a database migrated only through 020 before it writes anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../packages/countersign/src/db/connect.js';
import { migrateToLatest } from '../packages/countersign/src/db/migrate.js';
import { writeCheckpoint } from '../packages/countersign/src/domain/audit/write-checkpoint.js';
import { createGroup } from '../packages/countersign/src/domain/identities/create-group.js';
import { setUserGroups } from '../packages/countersign/src/domain/identities/set-user-groups.js';
import { FakeClock } from '../packages/countersign/src/lib/clock.js';
import { ADMIN, call, type Dialect, PG_URL, propose, review, testEnv, type World, world } from '../packages/countersign/test/helpers.js';

export const FIXTURE_THROUGH = '020-slack-messages';
const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../packages/countersign/test/fixtures/upgrade-020');
/** What 021–023 add: dropped to get back to 020's schema. */
const LATER_TABLES = ['teams_conversations', 'teams_users', 'teams_cards', 'stats_rollup'];
const LATER_INDEXES = ['reviews_reviewer', 'actions_pending_deadline'];

/** Rows of every kind an operator's database holds after some use. */
async function populate(w: World): Promise<void> {
  const d = w.gw.deps;
  await createGroup(d, ADMIN, { name: 'sre', description: 'site reliability' });
  await setUserGroups(d, ADMIN, { email: 'alice@example.com', groups: ['sre'] });
  const ok = (r: { status: number; body: unknown }, status: number) => {
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    // biome-ignore lint/suspicious/noExplicitAny: response bodies, read by field name
    return r.body as Record<string, any>;
  };
  // Approved, redeemed and executed.
  const done = ok(await propose(w, { arguments: { env: 'production', run: 'executed' } }), 201);
  const approved = ok(await review(w, done.id, w.keys.alice, { decision: 'approve', reason: 'looks right' }), 200);
  const run = { id: done.id, tool: done.tool, arguments: done.arguments, resource: done.resource };
  ok(await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: approved.receipt, action: run }), 200);
  ok(await call(w, 'POST', `/v1/actions/${done.id}/result`, w.keys.agent, { outcome: 'succeeded', output: { replicas: 3 } }), 200);
  // Denied, cancelled, allowed by a rule, and pending ones (with their stage timers) left for the upgrade test to decide.
  const denied = ok(await propose(w, { arguments: { env: 'production', run: 'denied' } }), 201);
  ok(await review(w, denied.id, w.keys.carol, { decision: 'deny', reason: 'not today' }), 200);
  const cancelled = ok(await propose(w, { arguments: { env: 'production', run: 'cancelled' } }), 201);
  ok(await call(w, 'POST', `/v1/actions/${cancelled.id}/cancel`, w.keys.agent, {}), 200);
  ok(await propose(w, { tool: 'get_logs', arguments: {}, annotations: { readOnlyHint: true } }), 201);
  for (const n of [1, 2, 3]) ok(await propose(w, { arguments: { env: 'staging', run: `pending-${n}` } }), 201);
  // A standing grant (alice approves and grants similar staging deploys), a delegation, a reset link, a webhook.
  const granted = ok(await propose(w, { arguments: { env: 'staging', run: 'granted' } }), 201);
  ok(await review(w, granted.id, w.keys.alice, { decision: 'approve', grant: { expires_in: '9h' } }), 200);
  const ends = new Date(d.clock.now() + 7 * 24 * 3600_000).toISOString();
  ok(
    await call(w, 'POST', '/v1/admin/delegations', w.keys.ada, {
      delegator: 'carol@example.com',
      delegate: 'alice@example.com',
      ends_at: ends,
    }),
    201,
  );
  ok(await call(w, 'POST', '/v1/admin/password-reset-links', w.keys.ada, { email: 'victor@example.com' }), 200);
  ok(await call(w, 'POST', '/v1/admin/webhooks', w.keys.ada, { url: 'https://hooks.example.com/countersign', allow_private: true }), 201);
  // A signed checkpoint of the chain so far.
  if (!(await writeCheckpoint(d))) throw new Error('no checkpoint written');
}

function sqliteLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  return `'${String(v).replaceAll("'", "''")}'`;
}

/** Tables, rows, then indexes and triggers: the order a restore needs (no trigger fires on the inserts). */
function dumpSqlite(path: string): string {
  const db = new BetterSqlite3(path, { readonly: true });
  const objects = db
    .prepare(`select type, name, sql from sqlite_master where sql is not null and name not like 'sqlite_%' order by rowid`)
    .all() as {
    type: string;
    name: string;
    sql: string;
  }[];
  const out = ['PRAGMA foreign_keys = OFF;', 'BEGIN;'];
  for (const t of objects.filter((o) => o.type === 'table')) {
    out.push(`${t.sql};`);
    for (const row of db.prepare(`select * from "${t.name}"`).raw().all() as unknown[][])
      out.push(`INSERT INTO "${t.name}" VALUES(${row.map(sqliteLiteral).join(',')});`);
  }
  for (const o of objects.filter((x) => x.type !== 'table')) out.push(`${o.sql};`);
  out.push('COMMIT;');
  db.close();
  return `${out.join('\n')}\n`;
}

function sqliteSchema(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  const rows = db.prepare(`select type || ' ' || name || ': ' || sql as s from sqlite_master where sql is not null order by 1`).all() as {
    s: string;
  }[];
  db.close();
  return rows.map((r) => r.s);
}

async function pgSchema(schema: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const cols = await c.query(
      `select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as s
         from information_schema.columns where table_schema = $1`,
      [schema],
    );
    const idx = await c.query(`select replace(indexdef, $1 || '.', '') as s from pg_indexes where schemaname = $1`, [schema]);
    const trg = await c.query(
      `select event_object_table || ' ' || trigger_name || ' ' || event_manipulation as s from information_schema.triggers where trigger_schema = $1`,
      [schema],
    );
    return [...cols.rows, ...idx.rows, ...trg.rows].map((r) => r.s as string).sort();
  } finally {
    await c.end();
  }
}

async function backTo020(w: World): Promise<void> {
  const db = w.gw.deps.db.write;
  for (const t of LATER_TABLES) await db.schema.dropTable(t).execute();
  for (const i of LATER_INDEXES) await db.schema.dropIndex(i).execute();
  await db
    .deleteFrom('cs_migrations' as never)
    .where('name' as never, '>', FIXTURE_THROUGH as never)
    .execute();
}

/** The schema a database migrated only through 020 has, to hold the fixture's against. */
async function referenceSchema(dialect: Dialect): Promise<string[]> {
  const env = testEnv(dialect);
  try {
    const db = await openDatabase({ url: env.config.database.url, migrate: false, ...(env.schema ? { schema: env.schema } : {}) });
    await migrateToLatest(db, { through: FIXTURE_THROUGH });
    await db.close();
    return dialect === 'sqlite' ? sqliteSchema(env.config.database.url.replace(/^sqlite:/, '')) : await pgSchema(env.schema as string);
  } finally {
    await env.cleanup();
  }
}

/** The fixture's rows are written at a fixed time, so its deadlines and grants are the same on every run. */
const WRITTEN_AT = Date.UTC(2026, 10, 2, 9, 0, 0);

async function make(dialect: Dialect): Promise<void> {
  const w = await world(dialect, { clock: new FakeClock(WRITTEN_AT) });
  try {
    await populate(w);
    await backTo020(w);
    const path = w.gw.deps.config.database.url.replace(/^sqlite:/, '');
    const schema = w.env.schema as string;
    const got = dialect === 'sqlite' ? sqliteSchema(path) : await pgSchema(schema);
    const want = await referenceSchema(dialect);
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${dialect}: the fixture's schema is not 020's`);
    let text: string;
    if (dialect === 'sqlite') {
      await w.gw.close();
      text = dumpSqlite(path);
    } else {
      // Plain INSERTs (no COPY), so the test can run the file through the ordinary driver; the schema's name is
      // written as __SCHEMA__, which the upgrade test replaces with the fresh schema it loads the file into.
      const dump = execFileSync('pg_dump', ['--inserts', '--no-owner', '--no-privileges', `--schema=${schema}`, PG_URL], {
        encoding: 'utf8',
      });
      text = dump
        .replaceAll(schema, '__SCHEMA__')
        .replace(/^SELECT pg_catalog\.set_config\('search_path', '', false\);$/m, '')
        // psql meta-commands (pg_dump's \restrict guard) are not SQL; the driver would refuse them.
        .replace(/^\\.*$/gm, '');
    }
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${dialect}.sql`), text);
    process.stdout.write(`wrote ${join(OUT, `${dialect}.sql`)} (${text.length} bytes)\n`);
  } finally {
    await w.close().catch(() => undefined);
  }
}

await make('sqlite');
await make('postgres');
