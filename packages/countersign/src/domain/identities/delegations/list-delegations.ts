import type { Deps } from '../../../deps.js';
import type { UserPrincipal } from '../principal.js';
import { activeDelegationsHeldBy, readDelegations } from './read-delegations.js';
import type { ActingFor, DelegationView } from './schemas.js';

/** Whom the caller may vote for right now (active delegations they hold): what GET /v1/me shows. */
export async function actingFor(deps: Deps, principal: UserPrincipal): Promise<ActingFor[]> {
  const active = await activeDelegationsHeldBy(deps.db.read, principal.id, deps.clock.now());
  return active.map((d) => ({
    delegation_id: d.id,
    id: d.delegator.id,
    email: d.delegator.email,
    until: new Date(d.endsAt).toISOString(),
  }));
}

/** The delegations of the caller's vote and the ones they hold, in every state, newest first; and whom they act for now. */
export async function listMyDelegations(
  deps: Deps,
  principal: UserPrincipal,
): Promise<{ given: DelegationView[]; held: DelegationView[]; acting_for: ActingFor[] }> {
  const now = deps.clock.now();
  const [given, held, acting] = await Promise.all([
    readDelegations(deps.db.read, now, { delegatorId: principal.id }),
    readDelegations(deps.db.read, now, { delegateId: principal.id }),
    actingFor(deps, principal),
  ]);
  return { given, held, acting_for: acting };
}

/** Every delegation (admins), newest first. */
export async function listAllDelegations(deps: Deps, limit: number): Promise<DelegationView[]> {
  return readDelegations(deps.db.read, deps.clock.now(), { limit });
}
