import { type Kysely, sql } from 'kysely';

/**
 * Indexes for the console's history and dashboard over a long history (measured at 1M actions: bench/oversight.ts).
 *
 * - History pages newest first by id; filtered by status, tool or who decided, these let the page be read in
 *   id order from the filter's own index instead of scanning every newer action.
 * - The dashboard aggregates actions created in a time range (GET /v1/stats). One covering index on
 *   created_at carries every column those aggregates read, so each is an index-only range scan and the
 *   table's wide rows (arguments, workflow, receipt) are never touched. Indexes rather than a rollup table:
 *   nothing on the write path changes (no extra row to lock per status change), the numbers are exact, and
 *   any range and bucket can be asked for; the cost is that a range's work grows with the actions in it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('actions_status_id').on('actions').columns(['status', 'id']).execute();
  await db.schema.createIndex('actions_tool_id').on('actions').columns(['tool', 'id']).execute();
  await db.schema
    .createIndex('actions_decided_by')
    .on('actions')
    .columns(['decided_by_id', 'id'])
    .where(sql.ref('decided_by_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('actions_created_stats')
    .on('actions')
    .columns(['created_at', 'status', 'decided_at', 'decided_by_type', 'tool', 'agent_name'])
    .execute();
  // Each reviewer's load: the votes cast in the range (a quorum's every vote, not only the last).
  await db.schema.createIndex('reviews_created').on('reviews').columns(['created_at', 'reviewer_email', 'decision']).execute();
}
