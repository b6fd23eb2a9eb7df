import type { Deps } from '../../../deps.js';
import { CsError } from '../../../lib/errors.js';
import { bumpIdentityEpoch } from '../epoch.js';
import type { UserPrincipal } from '../principal.js';
import { delegationState, readDelegations } from './read-delegations.js';
import type { DelegationView } from './schemas.js';

/**
 * Ends a delegation early: the delegator, or an admin. Takes effect at once (the next vote under it is
 * refused). Compare-and-set on `revoked_at` while it has not ended, so of two revocations one wins and
 * the other is a conflict. Someone who is neither party nor an admin is told it does not exist; the
 * delegate, who sees it in their list, is told only the delegator or an admin can end it.
 */
export async function revokeDelegation(deps: Deps, by: UserPrincipal, id: string): Promise<DelegationView> {
  return deps.committer.run(async (tx) => {
    const row = await tx.db.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
    const isAdmin = by.role === 'admin';
    if (!row || (!isAdmin && row.delegator_id !== by.id && row.delegate_id !== by.id)) {
      throw new CsError('not_found', `no delegation ${id} of yours; GET /v1/me/delegations lists them`);
    }
    if (!isAdmin && row.delegator_id !== by.id) {
      throw new CsError('forbidden', 'only the person who delegated their vote, or an admin, can end this delegation');
    }
    const state = delegationState({ ...row, starts_at: Number(row.starts_at), ends_at: Number(row.ends_at) }, tx.now);
    const res = await tx.db
      .updateTable('delegations')
      .set({ revoked_at: tx.now, revoked_by_id: by.id })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .where('ends_at', '>', tx.now)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      throw new CsError('conflict', `delegation ${row.id} has already ${state === 'revoked' ? 'been revoked' : 'ended'}`, {
        details: { state },
      });
    }
    await bumpIdentityEpoch(tx);
    const [view] = await readDelegations(tx.db, tx.now, { id: row.id });
    if (!view) throw new CsError('internal', `delegation ${row.id} was not found in the transaction that revoked it`);
    tx.audit({
      actor: { type: 'user', id: by.id },
      event: 'delegation.revoked',
      data: {
        delegation_id: row.id,
        delegator: view.delegator.email,
        delegate: view.delegate.email,
        was: state,
        by: by.email,
      },
    });
    return view;
  });
}
