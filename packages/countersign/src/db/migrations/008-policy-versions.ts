import { type Kysely, sql } from 'kysely';
import type { Capabilities } from '../connect.js';

/**
 * One policy for every node. Each activation of a policy is a numbered version holding the document as
 * it was applied (what a person wrote, for history and rollback); its compiled form stays in `policies`
 * under its hash, which actions point at. `policy_active` is the one row every node reads to know
 * which version decides; changing it is a compare-and-set under a row lock, so two concurrent
 * applies are serialised rather than both replacing the same version. History is append-only.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  await db.schema
    .createTable('policy_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull().references('policies.hash'))
    .addColumn('document', 'text', (c) => c.notNull())
    // Workflows without `expires_after` take it from here, so every node compiles the same hash.
    .addColumn('default_expiry_ms', 'bigint', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .addColumn('applied_by_type', 'text', (c) => c.notNull())
    .addColumn('applied_by_id', 'text')
    .addColumn('applied_by_label', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('restored_from', 'integer')
    .execute();
  for (const ddl of caps.appendOnly('policy_versions')) await sql.raw(ddl).execute(db);
  await db.schema
    .createTable('policy_active')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // 0 until the first version is written (a node seeds it from its config at start).
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await sql`insert into policy_active (id, version) values (1, 0)`.execute(db);
}
