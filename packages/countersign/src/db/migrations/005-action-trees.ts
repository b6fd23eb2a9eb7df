import { type Kysely, sql } from 'kysely';

/**
 * An agent that delegates to subagents files their actions with `parent_id` chains. Each action also
 * stores the root of its chain (its top-level ancestor), and so does each event, so a top-level run can
 * follow every approval its subagents need with one indexed filter instead of walking the chain.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('actions').addColumn('root_id', 'text').execute();
  await db.schema.alterTable('events').addColumn('root_id', 'text').execute();
  await db.schema.createIndex('actions_root').on('actions').columns(['root_id', 'id']).where(sql.ref('root_id'), 'is not', null).execute();
  await db.schema.createIndex('events_root').on('events').columns(['root_id', 'seq']).where(sql.ref('root_id'), 'is not', null).execute();
}
