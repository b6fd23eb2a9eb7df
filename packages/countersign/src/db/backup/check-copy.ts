import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { type AuditVerifyResult, verifyAudit } from '../../domain/audit/verify-audit.js';
import { CsError } from '../../lib/errors.js';
import { knownMigrations } from '../migrate.js';
import type { DB } from '../types.js';

export interface CopyReport {
  /** SQLite pages in the copy (× page size = bytes). */
  pages: number;
  /** Migrations the copy has applied; fewer than this binary knows means `serve` upgrades it on start. */
  migrations: number;
  audit: AuditVerifyResult;
}

/**
 * Checks that a copy of the database is one a gateway can run on: SQLite's own integrity check, migrations
 * this binary knows (a newer release's database would be refused by `serve` after the damage is done), and
 * the audit chain from genesis to its head. A copy that fails any of them is refused, naming what failed.
 */
export async function checkCopy(path: string): Promise<CopyReport> {
  // Read-write, so closing it as the last connection removes the -wal and -shm files it made.
  const conn = new BetterSqlite3(path, { fileMustExist: true });
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: conn }) });
  try {
    const integrity = conn.pragma('integrity_check') as { integrity_check: string }[];
    const problems = integrity.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    if (problems.length > 0) throw new CsError('conflict', `${path} fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
    const applied = migrationsOf(conn, path);
    const known = new Set(knownMigrations());
    const newer = applied.filter((n) => !known.has(n));
    if (newer.length > 0)
      throw new CsError('conflict', `${path} was migrated by a newer Countersign (${newer.join(', ')}); use that release to restore it`);
    const audit = await verifyAudit(db);
    if (!audit.ok && audit.firstBad)
      throw new CsError('conflict', `${path}: audit chain broken at entry ${audit.firstBad.seq}: ${audit.firstBad.problem}`, {
        details: { seq: audit.firstBad.seq, kind: audit.firstBad.kind },
      });
    const pages = (conn.pragma('page_count', { simple: true }) as number) ?? 0;
    return { pages, migrations: applied.length, audit };
  } finally {
    await db.destroy();
  }
}

function migrationsOf(conn: BetterSqlite3.Database, path: string): string[] {
  const table = conn.prepare(`select 1 from sqlite_master where type = 'table' and name = 'cs_migrations'`).get();
  if (!table) throw new CsError('invalid_request', `${path} is not a Countersign database (no cs_migrations table)`);
  return (conn.prepare('select name from cs_migrations').all() as { name: string }[]).map((r) => r.name);
}
