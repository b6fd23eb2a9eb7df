import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CsError } from '../../lib/errors.js';
import { type CopyReport, checkCopy } from './check-copy.js';
import { copySqlite, publishFile, removeCompanions } from './copy-sqlite.js';

/**
 * `countersign backup <dest>`: a consistent copy of a SQLite database, taken while the gateway serves, checked
 * (integrity, migrations, audit chain) before it gets its name. A half-written or failing copy never sits at
 * `dest`, and an existing file there is never overwritten: a backup is something people keep.
 */
export async function backupSqlite(source: string, dest: string): Promise<CopyReport> {
  const target = resolve(dest);
  if (!existsSync(source)) throw new CsError('not_found', `no Countersign database at ${source}`);
  if (existsSync(target)) throw new CsError('conflict', `${target} already exists; a backup never overwrites a file`);
  if (!existsSync(dirname(target))) throw new CsError('not_found', `no directory ${dirname(target)} to write the backup in`);
  const tmp = join(dirname(target), `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    await copySqlite(source, tmp);
    const report = await checkCopy(tmp);
    removeCompanions(tmp);
    publishFile(tmp, target);
    return report;
  } finally {
    rmSync(tmp, { force: true });
    removeCompanions(tmp);
  }
}
