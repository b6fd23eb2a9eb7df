import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { backupSqlite } from '../../db/backup/backup-sqlite.js';
import type { CopyReport } from '../../db/backup/check-copy.js';
import { restoreSqlite } from '../../db/backup/restore-sqlite.js';
import { isPostgresUrl, sqlitePath } from '../../db/connect.js';
import { CsError } from '../../lib/errors.js';
import type { DataOptions } from '../context.js';

/** PostgreSQL has its own tools, which do this better than a copy through the gateway could. */
function sqliteDatabase(config: Config, verb: string): string {
  if (isPostgresUrl(config.database.url))
    throw new CsError(
      'invalid_request',
      `${verb} copies the embedded SQLite database; on PostgreSQL use pg_dump / pg_restore (or pg_basebackup) and then "countersign audit verify" (docs/operations.md, "Backup and restore")`,
    );
  return sqlitePath(config.database.url);
}

function summary(r: CopyReport): string {
  return `${r.pages} pages, ${r.migrations} migrations, audit chain ok: ${r.audit.entries} entries, head ${r.audit.headHash}`;
}

export function registerBackup(program: Command, out: (s: string) => void): void {
  program
    .command('backup')
    .description('copy the SQLite database while the gateway serves, and check the copy (integrity, audit chain)')
    .argument('<dest>', 'file to write; never overwritten')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (dest: string, o: DataOptions) => {
      const config = loadConfig({ file: o.config, overrides: { dataDir: o.data } });
      const report = await backupSqlite(sqliteDatabase(config, 'backup'), dest);
      out(`backed up to ${dest}: ${summary(report)}`);
    });
  program
    .command('restore')
    .description('check a backup and put it in place of the SQLite database (the gateway must be stopped)')
    .argument('<src>', 'a file written by "countersign backup"')
    .option('--force', 'replace an existing database (refused while any process has it open)')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (src: string, o: DataOptions & { force?: boolean }) => {
      const config = loadConfig({ file: o.config, overrides: { dataDir: o.data } });
      const database = sqliteDatabase(config, 'restore');
      const report = await restoreSqlite(src, database, { force: o.force === true });
      out(`restored ${src} to ${database}: ${summary(report)}`);
    });
}
