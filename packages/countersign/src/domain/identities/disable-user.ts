import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { bumpIdentityEpoch } from './epoch.js';
import { findUser } from './lookup.js';
import { revokeUserSessions } from './sessions/revoke-user-sessions.js';

export interface DisabledUser {
  id: string;
  email: string;
  /** Grants they created that are still live: suspended while they are disabled (use-grant.ts skips them). */
  suspendedGrants: number;
  /** Agents they own that are still enabled: they keep working (an agent is disabled on its own), so the CLI names them. */
  ownedAgents: string[];
}

/**
 * Offboards a person: every key of theirs stops working at once (authenticate refuses a disabled
 * person), their browser sessions are ended, their open streams and long-polls are ended (the identity epoch moves), and the standing
 * grants they created stop approving. Nothing is deleted: the audit log keeps naming them, and
 * `enableUser` undoes it.
 */
export async function disableUser(deps: Deps, actor: Actor, email: string): Promise<DisabledUser> {
  const result = await deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, email);
    const res = await tx.db
      .updateTable('users')
      .set({ disabled_at: tx.now })
      .where('id', '=', user.id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `${user.email} is already disabled`);
    const grants = await tx.db
      .selectFrom('grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('created_by_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', tx.now)
      .executeTakeFirst();
    const suspendedGrants = Number(grants?.n ?? 0);
    const owned = await tx.db
      .selectFrom('agents')
      .select('name')
      .where('owner_id', '=', user.id)
      .where('disabled_at', 'is', null)
      .orderBy('name')
      .execute();
    // Ended, not merely refused while disabled: enabling the person again must not bring old sessions back.
    const endedSessions = await revokeUserSessions(tx, user.id);
    await bumpIdentityEpoch(tx);
    tx.audit({
      actor,
      event: 'user.disabled',
      data: { user_id: user.id, email: user.email, suspended_grants: suspendedGrants, ended_sessions: endedSessions },
    });
    return { id: user.id, email: user.email, suspendedGrants, ownedAgents: owned.map((a) => a.name) };
  });
  // This gateway's own held requests are checked now; other gateways see the epoch at their next tick.
  deps.identities.changed();
  return result;
}
