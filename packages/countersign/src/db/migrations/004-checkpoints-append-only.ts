import { type Kysely, sql } from 'kysely';
import type { Capabilities } from '../connect.js';

/**
 * Signed checkpoints are only ever added (a size is stored once, insert-if-absent), so the database
 * refuses to change or remove them, as it does for the audit log: quietly dropping the checkpoint a
 * rewrite would contradict then takes dropping the triggers first.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  for (const ddl of caps.appendOnly('audit_checkpoints')) await sql.raw(ddl).execute(db);
}
