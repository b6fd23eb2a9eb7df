import type { Kysely } from 'kysely';
import type { StoredEvent } from '../db/committer.js';
import type { DB } from '../db/types.js';
import type { FeedSource } from './feed.js';

/** TEMPORARY until events/outbox.ts lands on main: the feed's reads of the outbox. */
export function outboxFeedSource(db: Kysely<DB>): FeedSource {
  return {
    async readAfter(after, limit) {
      const rows = await db.selectFrom('events').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
      return rows.map(
        (r): StoredEvent => ({
          seq: Number(r.seq),
          ts: Number(r.ts),
          type: r.type,
          actionId: r.action_id,
          agentId: r.agent_id,
          sessionId: r.session_id,
          rootId: r.root_id,
          data: JSON.parse(r.data) as Record<string, unknown>,
        }),
      );
    },
    async head() {
      const row = await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(row.event_seq);
    },
  };
}
