import { type Kysely, sql } from 'kysely';
import { workflowKey } from '../../domain/actions/inbox-workflow-key.js';

/** Rows read (then updated) at a time by the back-fill. */
const CHUNK = 5000;

/**
 * A short key of the frozen workflow on each action (`workflow_key`, domain/actions/inbox-workflow-key.ts),
 * written with the action, and a covering partial index of the pending actions' classification columns.
 * The inbox's counts group the pending actions by what the vote rules read (domain/actions/inbox-rows.ts);
 * by the workflow text, PostgreSQL fetched each pending action's row from the heap (the text is hundreds
 * of bytes to kilobytes) and compared the texts to group them. By the key, the count reads only this index (PostgreSQL:
 * an index-only scan while the visibility map is current, which autovacuum keeps), and the text is read once
 * per distinct key.
 *
 * The pending actions, the only ones the inbox reads by key, are back-filled here, inside the migration's
 * transaction, in id order a chunk at a time (over `actions(status, id)`); the digest is computed here
 * rather than in SQL, where the two databases share no hash function, and each distinct text is hashed
 * once. Actions decided before this migration keep a null key: back-filling every action with a workflow
 * rewrote 750,000 rows of a 1M-action PostgreSQL database (156 s on the loaded bench machine, the table's
 * heap doubled until vacuumed) for a key nothing reads once an action is decided.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('actions').addColumn('workflow_key', 'text').execute();
  const keys = new Map<string, string>();
  let after = '';
  for (;;) {
    const rows: { id: string; workflow: string }[] = await db
      .selectFrom('actions')
      .select(['id', 'workflow'])
      .where('status', '=', sql.lit('pending'))
      .where('id', '>', after)
      .where('workflow', 'is not', null)
      .orderBy('id')
      .limit(CHUNK)
      .execute();
    if (rows.length === 0) break;
    const byKey = new Map<string, string[]>();
    for (const r of rows) {
      let key = keys.get(r.workflow);
      if (key === undefined) {
        key = workflowKey(r.workflow);
        keys.set(r.workflow, key);
      }
      const ids = byKey.get(key);
      if (ids) ids.push(r.id);
      else byKey.set(key, [r.id]);
    }
    for (const [key, ids] of byKey) await db.updateTable('actions').set({ workflow_key: key }).where('id', 'in', ids).execute();
    after = (rows.at(-1) as { id: string }).id;
  }
  // Leading with the key: the count's GROUP BY can follow the index; every column the vote rules and the
  // flags read is in it, so neither database reads the table to count. `status = 'pending'` is a literal,
  // as the queries name it (a bound parameter hides a partial index from SQLite).
  await db.schema
    .createIndex('actions_pending_class')
    .on('actions')
    .columns(['workflow_key', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', 'expires_at', 'id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();
}
