import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';
import { adminActor } from './admin-access.js';

export interface Forgotten {
  name: string;
  cursor: number;
  retries: number;
  deadLetters: number;
}

/**
 * Removes a retired consumer: its cursor, its retries and its dead letters, so it no longer holds
 * retention back. Refused while a node holds its lease (it is running: stop it there first, or it would
 * carry on without a row), and audited with what was dropped. A consumer registered again later starts
 * afresh at the head.
 */
export async function forgetConsumer(deps: Deps, caller: Principal | Actor, name: string): Promise<Forgotten> {
  const { actor } = adminActor(caller);
  return deps.committer.run(async (tx) => {
    let q = tx.db.selectFrom('event_consumers').selectAll().where('name', '=', name);
    if (tx.caps.lockSuffix) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw new CsError('not_found', `no consumer named ${name}`);
    if (row.lease_owner !== null && row.lease_expires_at !== null && Number(row.lease_expires_at) > tx.now) {
      throw new CsError('conflict', `consumer ${name} is running on ${row.lease_owner}; stop it there (or unregister it) first`);
    }
    const retries = await tx.db.deleteFrom('event_consumer_retries').where('consumer', '=', name).executeTakeFirst();
    const dead = await tx.db.deleteFrom('event_dead_letters').where('consumer', '=', name).executeTakeFirst();
    await tx.db.deleteFrom('event_consumers').where('name', '=', name).execute();
    const forgotten = {
      name,
      cursor: Number(row.cursor),
      retries: Number(retries.numDeletedRows),
      deadLetters: Number(dead.numDeletedRows),
    };
    tx.audit({
      actor,
      event: 'event.consumer_forgotten',
      actionId: null,
      data: { consumer: name, cursor: forgotten.cursor, retries: forgotten.retries, dead_letters: forgotten.deadLetters },
    });
    return forgotten;
  });
}
