/*
 * `countersign backup` and `countersign restore` on SQLite, run as child processes the way an operator runs
 * them against a serving gateway; and the documented PostgreSQL procedure (pg_dump, pg_restore, audit verify).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { knownMigrations } from '../src/db/migrate.js';
import { startGateway } from '../src/gateway.js';
import { childEnv, exits } from './cli-serve-helpers.js';
import { call, cliEnvFor, PG_URL, propose, review, runCli, type World, world } from './helpers.js';

const MIGRATIONS = knownMigrations().length;

const run = promisify(execFile);

/** Counts rows in a SQLite file without going through the gateway. */
function countRows(path: string, table: 'actions' | 'audit_log'): number {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('backup and restore of the SQLite database', () => {
  let w: World;
  let dir: string;
  let backup: string;
  let before_: number;
  let acknowledged: number;

  before(async () => {
    w = await world('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'cs-backup-'));
    backup = join(dir, 'countersign-backup.db');
    for (let i = 0; i < 20; i++) assert.equal((await propose(w, { arguments: { env: 'production', run: `warm-${i}` } })).status, 201);
    before_ = 20;
    // Proposals keep committing while the backup child process copies the file.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        const r = await propose(w, { arguments: { env: 'production', run: `during-${n}` } });
        assert.equal(r.status, 201);
        n += 1;
      }
    })();
    const r = await runCli(['backup', backup], cliEnvFor(w));
    writing = false;
    await writer;
    exits(r, 0);
    assert.ok(n > 0, 'proposals were committing while the backup ran');
    assert.match(
      r.stdout,
      new RegExp(`^backed up to .*: \\d+ pages, ${MIGRATIONS} migrations, audit chain ok: \\d+ entries, head [0-9a-f]{64}\n$`),
    );
    acknowledged = before_ + n;
  });

  after(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a backup taken while proposals commit holds every action acknowledged before it began, each with its audit entries', () => {
    const actions = countRows(backup, 'actions');
    assert.ok(actions >= before_, `the copy holds ${actions} actions, ${before_} were acknowledged before the backup`);
    assert.ok(actions <= acknowledged);
    const db = new BetterSqlite3(backup, { readonly: true });
    try {
      const orphans = db
        .prepare('select count(*) as n from actions a where not exists (select 1 from audit_log l where l.action_id = a.id)')
        .get() as { n: number };
      assert.equal(orphans.n, 0, 'a state change and its audit entry are in the copy together, or neither is');
    } finally {
      db.close();
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.')),
      [],
      'no partial file is left beside the backup',
    );
  });

  test('the backup restores into an empty data dir, audit verify passes on the restored copy, and a gateway serves it', async () => {
    const fresh = join(dir, 'restored');
    const env = childEnv({ COUNTERSIGN_DATA_DIR: fresh });
    const restored = exits(await runCli(['restore', backup], env), 0);
    assert.match(
      restored.stdout,
      new RegExp(`^restored .* to .*countersign\\.db: \\d+ pages, ${MIGRATIONS} migrations, audit chain ok: \\d+ entries`),
    );
    const verified = exits(await runCli(['audit', 'verify'], env), 0);
    assert.match(verified.stdout, new RegExp(`^ok: ${countRows(backup, 'audit_log')} entries verified`));

    // An action pending in the backup is still decidable on the restored database.
    const config = loadConfig({ env: {}, overrides: { dataDir: fresh, port: 0 } });
    const gw = await startGateway(config, { listen: false, logger: pino({ level: 'silent' }) });
    try {
      const restoredWorld = { ...w, gw } as World;
      const pending = await call(restoredWorld, 'GET', '/v1/actions?status=pending&limit=1', w.keys.alice);
      const id = pending.body.items[0].id as string;
      const approved = await review(restoredWorld, id, w.keys.alice, { decision: 'approve' });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.status, 'approved');
    } finally {
      await gw.close();
    }
    // The database now differs from the backup; --force puts the backup back (the gateway is stopped).
    exits(await runCli(['restore', backup, '--force'], env), 0);
    exits(await runCli(['audit', 'verify'], env), 0);
    assert.equal(countRows(join(fresh, 'countersign.db'), 'audit_log'), countRows(backup, 'audit_log'));
  });

  test('restore refuses to replace an existing database unless told, and refuses a database a gateway has open even when told', async () => {
    const env = cliEnvFor(w);
    const told = exits(await runCli(['restore', backup], env), 6);
    assert.match(told.stderr, /a database already exists at .*; stop the gateway and pass --force/);
    const live = exits(await runCli(['restore', backup, '--force'], env), 6);
    assert.match(live.stderr, /is in use \(is the gateway running\?\); stop it before restoring/);
    // The serving gateway never noticed.
    assert.equal((await propose(w, { arguments: { env: 'production', run: 'after-refused-restore' } })).status, 201);
  });

  test('a backup is never written over an existing file', async () => {
    const r = exits(await runCli(['backup', backup], cliEnvFor(w)), 6);
    assert.match(r.stderr, /already exists; a backup never overwrites a file/);
  });

  test('a backup whose audit chain was altered is refused by restore, naming the entry, and nothing is written', async () => {
    const altered = join(dir, 'altered.db');
    copyFileSync(backup, altered);
    const db = new BetterSqlite3(altered);
    db.exec('drop trigger audit_log_no_update');
    db.prepare(`update audit_log set data = '{"forged":true}' where seq = 3`).run();
    db.close();
    const target = join(dir, 'from-altered');
    const r = exits(await runCli(['restore', altered], childEnv({ COUNTERSIGN_DATA_DIR: target })), 6);
    assert.match(r.stderr, /audit chain broken at entry 3/);
    assert.equal(existsSync(join(target, 'countersign.db')), false);
  });
});

describe('backup and restore on PostgreSQL', () => {
  test('the backup command points to pg_dump instead of copying', async () => {
    const r = exits(await runCli(['backup', join(tmpdir(), 'never.db')], childEnv({ COUNTERSIGN_DATABASE_URL: PG_URL })), 2);
    assert.match(r.stderr, /on PostgreSQL use pg_dump \/ pg_restore/);
  });

  test('pg_dump while proposals commit, pg_restore into a new database, and audit verify passes there', async (t) => {
    const w = await world('postgres');
    const restoredDb = `cs_restore_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const dumpFile = join(mkdtempSync(join(tmpdir(), 'cs-pgdump-')), 'countersign.dump');
    t.after(async () => {
      await admin.query(`drop database if exists ${restoredDb}`);
      await admin.end();
      await w.close();
      rmSync(join(dumpFile, '..'), { recursive: true, force: true });
    });
    for (let i = 0; i < 10; i++) assert.equal((await propose(w, { arguments: { env: 'production', run: `pg-${i}` } })).status, 201);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++)
        assert.equal((await propose(w, { arguments: { env: 'production', run: `pg-during-${i}` } })).status, 201);
    })();
    // One snapshot for the whole dump (pg_dump's own transaction), as docs/operations.md runs it.
    await run('pg_dump', ['--format=custom', `--schema=${w.env.schema}`, `--file=${dumpFile}`, PG_URL]);
    writing = false;
    await writer;
    await admin.query(`create database ${restoredDb}`);
    const restoredUrl = PG_URL.replace(/\/[^/]*$/, `/${restoredDb}`);
    await run('pg_restore', ['--exit-on-error', '--no-owner', `--dbname=${restoredUrl}`, dumpFile]);
    const url = `${restoredUrl}?options=${encodeURIComponent(`-c search_path=${w.env.schema}`)}`;
    const verified = exits(await runCli(['audit', 'verify'], childEnv({ COUNTERSIGN_DATABASE_URL: url })), 0);
    assert.match(verified.stdout, /^ok: \d+ entries verified/);
  });
});
