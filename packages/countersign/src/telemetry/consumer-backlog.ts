import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';

export interface ConsumerBacklog {
  consumer: string;
  /** Events committed after the consumer's cursor (including types it skips: they still have to be passed). */
  events: number;
  /** How long the oldest of them has waited (ms); 0 when there are none. */
  oldestMs: number;
  /** Dead letters not replayed: events it gave up on, waiting for a person. */
  deadLetters: number;
}

/**
 * Every durable consumer's backlog, read at scrape time: one row per consumer (a handful), the outbox head,
 * one primary-key seek per consumer for its first unhandled event, and the unreplayed dead letters (few by
 * nature). The histogram `countersign_event_consumer_lag_seconds` says how late handled batches were;
 * this says what is still waiting, which is what an alert on a stuck consumer needs.
 */
export async function consumerBacklogs(db: Kysely<DB>, now: number): Promise<ConsumerBacklog[]> {
  const head = await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirst();
  const headSeq = Number(head?.event_seq ?? 0);
  const consumers = await db.selectFrom('event_consumers').select(['name', 'cursor']).orderBy('name').execute();
  const dead = await db
    .selectFrom('event_dead_letters')
    .select((eb) => ['consumer', eb.fn.countAll<number | string>().as('n')])
    .where('replayed_at', 'is', null)
    .groupBy('consumer')
    .execute();
  const deadBy = new Map(dead.map((d) => [d.consumer, Number(d.n)]));
  const out: ConsumerBacklog[] = [];
  for (const c of consumers) {
    const cursor = Number(c.cursor);
    const first =
      cursor < headSeq
        ? await db.selectFrom('events').select('ts').where('seq', '>', cursor).orderBy('seq').limit(1).executeTakeFirst()
        : undefined;
    out.push({
      consumer: c.name,
      events: Math.max(0, headSeq - cursor),
      oldestMs: first ? Math.max(0, now - Number(first.ts)) : 0,
      deadLetters: deadBy.get(c.name) ?? 0,
    });
  }
  return out;
}
