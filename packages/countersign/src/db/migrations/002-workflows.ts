import { type Kysely, sql } from 'kysely';

/** The workflow every pending action created before the policy engine waited on: any reviewer. */
const LEGACY_WORKFLOW = JSON.stringify({
  name: 'default',
  expires_after_ms: 3_600_000,
  stages: [
    {
      index: 0,
      name: 'review',
      approvers: { roles: ['reviewer'] },
      quorum: 1,
      when: null,
      timeout_ms: null,
      on_timeout: null,
      levels: [],
      repeat: 0,
    },
  ],
});

/**
 * The policy engine: workflow state frozen into each action, votes per stage,
 * durable timers (escalations, stage time-outs), standing grants, batches, and
 * the policy versions actions point at.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  // The resolved workflow (JSON) frozen at creation; null when no review was needed.
  await db.schema.alterTable('actions').addColumn('workflow', 'text').execute();
  await db.schema.alterTable('actions').addColumn('stage', 'integer').execute();
  await db.schema.alterTable('actions').addColumn('stage_started_at', 'bigint').execute();
  await db.schema
    .alterTable('actions')
    .addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('actions').addColumn('grant_id', 'text').execute();
  await db.schema.alterTable('actions').addColumn('batch_id', 'text').execute();
  await db.schema.createIndex('actions_batch').on('actions').columns(['batch_id']).where(sql.ref('batch_id'), 'is not', null).execute();
  await sql`update actions set workflow = ${LEGACY_WORKFLOW}, stage = 0, stage_started_at = created_at where status = 'pending'`.execute(
    db,
  );

  await db.schema.alterTable('reviews').addColumn('stage', 'integer').execute();

  await db.schema
    .createTable('timers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('action_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('stage', 'integer', (c) => c.notNull())
    // The stage's start time: a timer left over from an earlier visit to the same stage index is stale.
    .addColumn('stage_started_at', 'bigint', (c) => c.notNull())
    .addColumn('firing', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('timers_due').on('timers').columns(['due_at']).execute();
  await db.schema.createIndex('timers_action').on('timers').columns(['action_id']).execute();

  await db.schema
    .createTable('grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text')
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('match_kind', 'text', (c) => c.notNull())
    .addColumn('match', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_email', 'text', (c) => c.notNull())
    .addColumn('source_action_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('grants_live').on('grants').columns(['agent_id', 'tool']).where(sql.ref('revoked_at'), 'is', null).execute();

  await db.schema
    .createTable('policies')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('first_loaded_at', 'bigint', (c) => c.notNull())
    .addColumn('last_loaded_at', 'bigint', (c) => c.notNull())
    .execute();
}
