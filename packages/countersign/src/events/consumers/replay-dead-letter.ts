import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { adminActor } from './admin-access.js';
import { toDeadLetterView } from './list-dead-letters.js';
import type { DeadLetterView } from './schemas.js';

/**
 * Puts a dead letter back for delivery: a retry row due now with its attempts reset, which the node
 * holding the consumer picks up on its next pass (within the backstop interval). The entry stays, marked
 * replayed (when and by whom), and is audited; replaying it again is a conflict, so two admins clicking
 * together cause one redelivery. If it fails again it comes back as a new dead letter.
 */
export async function replayDeadLetter(deps: Deps, caller: Principal | Actor, id: string): Promise<DeadLetterView> {
  const { actor, label } = adminActor(caller);
  if (!isId(id)) throw new CsError('not_found', `no dead letter with id ${id}`);
  return deps.committer.run(async (tx) => {
    const row = await tx.db.selectFrom('event_dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new CsError('not_found', `no dead letter with id ${id}`);
    if (row.replayed_at !== null) {
      throw new CsError('conflict', `dead letter ${id} was already replayed`, {
        details: { replayed_at: new Date(Number(row.replayed_at)).toISOString(), replayed_by: row.replayed_by },
      });
    }
    const res = await tx.db
      .updateTable('event_dead_letters')
      .set({ replayed_at: tx.now, replayed_by: label })
      .where('id', '=', id)
      .where('replayed_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `dead letter ${id} was replayed meanwhile`);
    const waiting = await tx.db
      .selectFrom('event_consumer_retries')
      .select('seq')
      .where('consumer', '=', row.consumer)
      .where('seq', '=', row.seq)
      .executeTakeFirst();
    if (waiting) throw new CsError('conflict', `event ${row.seq} is already being retried for ${row.consumer}`);
    await tx.db
      .insertInto('event_consumer_retries')
      .values({
        consumer: row.consumer,
        seq: row.seq,
        attempts: 0,
        // Due at once on whichever node holds the consumer, whatever its clock says (the CLI's may differ).
        next_attempt_at: 0,
        last_error: `replayed by ${label}`,
        first_failed_at: tx.now,
      })
      .execute();
    const event = await tx.db.selectFrom('events').select('action_id').where('seq', '=', row.seq).executeTakeFirst();
    tx.audit({
      actor,
      event: 'event.dead_letter_replayed',
      actionId: event?.action_id ?? null,
      data: { dead_letter_id: id, consumer: row.consumer, seq: Number(row.seq), event_type: row.event_type },
    });
    return toDeadLetterView({ ...row, replayed_at: tx.now, replayed_by: label });
  });
}
