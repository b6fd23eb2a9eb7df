import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CsError } from '../../lib/errors.js';
import { type CopyReport, checkCopy } from './check-copy.js';
import { copySqlite, publishFile, removeCompanions } from './copy-sqlite.js';

export interface RestoreOptions {
  /** Replace an existing database (which must not be in use). */
  force?: boolean;
}

/**
 * `countersign restore <src>`: checks the backup first (a copy that fails is never put in place), then
 * puts a checked copy of it where the gateway's database lives. An existing database is replaced only when
 * told, and never while a process has it open: a gateway holding the old file would go on writing to it, and
 * its in-memory chain head would fork the restored audit chain.
 */
export async function restoreSqlite(backup: string, database: string, opts: RestoreOptions = {}): Promise<CopyReport> {
  const from = resolve(backup);
  if (!existsSync(from)) throw new CsError('not_found', `no backup at ${from}`);
  await checkCopy(from);
  mkdirSync(dirname(database), { recursive: true });
  const tmp = join(dirname(database), `.${basename(database)}.restoring-${randomBytes(4).toString('hex')}`);
  let held: BetterSqlite3.Database | undefined;
  try {
    if (existsSync(database)) {
      if (!opts.force)
        throw new CsError('conflict', `a database already exists at ${database}; stop the gateway and pass --force to replace it`);
      held = holdExclusively(database);
    }
    await copySqlite(from, tmp);
    const report = await checkCopy(tmp);
    removeCompanions(tmp);
    removeCompanions(database);
    publishFile(tmp, database);
    return report;
  } finally {
    held?.close();
    rmSync(tmp, { force: true });
    removeCompanions(tmp);
  }
}

/**
 * Proves nothing else has the database open, and keeps it that way until the swap. Leaving WAL mode needs
 * the only connection (SQLite refuses with SQLITE_BUSY otherwise, without waiting: busy_timeout 0), and it
 * checkpoints the WAL into the file; the exclusive transaction then keeps any newcomer out.
 */
function holdExclusively(path: string): BetterSqlite3.Database {
  const conn = new BetterSqlite3(path, { fileMustExist: true });
  try {
    conn.pragma('busy_timeout = 0');
    const mode = conn.pragma('journal_mode = delete', { simple: true });
    if (mode !== 'delete') throw new Error(`journal mode stayed ${String(mode)}`);
    conn.exec('begin exclusive');
    return conn;
  } catch (e) {
    conn.close();
    throw new CsError('conflict', `the database at ${path} is in use (is the gateway running?); stop it before restoring`, {
      details: { reason: (e as Error).message },
    });
  }
}
