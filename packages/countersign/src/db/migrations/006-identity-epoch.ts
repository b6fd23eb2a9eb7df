import { type Kysely, sql } from 'kysely';

/**
 * One counter that every change to who may do what (a key revoked or issued, a person or agent
 * disabled or enabled, a role or group change) bumps in the same transaction. Open event streams and
 * long-polls are authenticated once, when they start; a gateway reads this single row every second and
 * before delivering events, and only when it moved re-checks the principals it holds open. That keeps
 * the check one cheap query for all streams, and it sees changes written by other processes (the admin
 * CLI, other gateways) too.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('identity_epoch')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into identity_epoch (id, epoch) values (1, 0)`.execute(db);
}
