import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { adminActor } from './admin-access.js';
import type { ConsumerView } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Every consumer any node has registered, with how far behind the head it is and who runs it. */
export async function listConsumers(deps: Deps, caller: Principal | Actor): Promise<ConsumerView[]> {
  adminActor(caller);
  const db = deps.db.read;
  const head = Number((await db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow()).event_seq);
  const rows = await db.selectFrom('event_consumers').selectAll().orderBy('name').execute();
  const now = deps.clock.now();
  const views: ConsumerView[] = [];
  for (const r of rows) {
    const cursor = Number(r.cursor);
    const oldest =
      cursor < head
        ? await db.selectFrom('events').select('ts').where('seq', '>', cursor).orderBy('seq').limit(1).executeTakeFirst()
        : undefined;
    const retrying = await db
      .selectFrom('event_consumer_retries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consumer', '=', r.name)
      .executeTakeFirstOrThrow();
    const dead = await db
      .selectFrom('event_dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consumer', '=', r.name)
      .where('replayed_at', 'is', null)
      .executeTakeFirstOrThrow();
    const expires = r.lease_expires_at === null ? null : Number(r.lease_expires_at);
    const live = r.lease_owner !== null && expires !== null && expires > now;
    views.push({
      name: r.name,
      cursor,
      head,
      lag_events: Math.max(0, head - cursor),
      lag_ms: oldest ? Math.max(0, now - Number(oldest.ts)) : 0,
      lease_owner: live ? r.lease_owner : null,
      lease_expires_at: live && expires !== null ? iso(expires) : null,
      retrying: Number(retrying.n),
      dead_letters: Number(dead.n),
      updated_at: iso(Number(r.updated_at)),
    });
  }
  return views;
}
