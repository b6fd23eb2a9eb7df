import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** More pages than any database has: the whole copy in one step. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies a SQLite database with the online backup API (sqlite3_backup), which reads pages under SQLite's
 * own locks, so the source may be serving writes meanwhile. The copy is taken in one step: a step holds
 * one read snapshot of the WAL, so the copy is the database as one commit left it. Copied in small steps, a
 * write between two steps restarts the copy, and a busy gateway could keep restarting it forever.
 */
export async function copySqlite(from: string, to: string): Promise<void> {
  const src = new BetterSqlite3(from, { readonly: true, fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    // The first step only sets the copy up; what the progress callback returns is the next step's page count.
    await src.backup(to, { progress: () => ALL_PAGES });
  } finally {
    src.close();
  }
}

/** Makes a finished file durable under its final name: fsync the file, rename over, fsync the directory. */
export function publishFile(tmp: string, dest: string): void {
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dest);
  const dir = openSync(dirname(dest), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** A database file's companions: left beside a replaced file, SQLite would replay the old WAL into the new one. */
export function removeCompanions(path: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}
