import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';

const PAGE = 5000;

/** Streams the log as JSON lines, oldest first, each line the stored entry exactly (data as parsed JSON). */
export async function* exportAudit(db: Kysely<DB>, opts: { since?: number } = {}): AsyncGenerator<string> {
  let after = (opts.since ?? 1) - 1;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(PAGE).execute();
    for (const r of rows) {
      yield `${JSON.stringify({
        seq: Number(r.seq),
        ts: Number(r.ts),
        time: new Date(Number(r.ts)).toISOString(),
        actor_type: r.actor_type,
        actor_id: r.actor_id,
        event: r.event,
        action_id: r.action_id,
        data: JSON.parse(r.data),
        prev_hash: r.prev_hash,
        hash: r.hash,
      })}\n`;
      after = Number(r.seq);
    }
    if (rows.length < PAGE) return;
  }
}
