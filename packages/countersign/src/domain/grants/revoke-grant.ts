import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { checkReason } from '../actions/limits.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { type GrantView, RevokeGrantBody } from './schemas.js';
import { toGrantView } from './view.js';

/** Its creator or an admin ends a grant at once; actions it already approved stay approved. */
export async function revokeGrant(deps: Deps, principal: Principal, id: string, body: unknown): Promise<GrantView> {
  if (principal.type !== 'user') throw new CsError('forbidden', 'only people can revoke grants');
  const input = parseInput(RevokeGrantBody, body ?? {});
  const reason = checkReason(deps.config, input.reason);
  if (!isId(id)) throw new CsError('not_found', `no grant with id ${id}`);
  return deps.committer.run(async (tx) => {
    const g = await tx.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
    if (!g) throw new CsError('not_found', `no grant with id ${id}`);
    if (principal.role !== 'admin' && principal.id !== g.created_by_id) {
      throw new CsError('forbidden', 'only the person who created a grant, or an admin, can revoke it');
    }
    if (g.revoked_at !== null) throw new CsError('conflict', `grant ${id} was already revoked`, { details: { revoked_at: g.revoked_at } });
    const res = await tx.db
      .updateTable('grants')
      .set({ revoked_at: tx.now, revoked_by: principal.email, version: g.version + 1 })
      .where('id', '=', id)
      .where('version', '=', g.version)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `grant ${id} changed while being revoked; retry`);
    tx.audit({
      actor: { type: 'user', id: principal.id },
      event: 'grant.revoked',
      actionId: g.source_action_id,
      data: { grant_id: id, reason },
    });
    return toGrantView({ ...g, revoked_at: tx.now, revoked_by: principal.email, version: g.version + 1 }, tx.now);
  });
}
