import type { Actor } from '../../db/committer.js';
import type { Principal } from '../../domain/identities/principal.js';
import { CsError } from '../../lib/errors.js';

/** Webhook endpoints are admin business: over HTTP an admin person, on the CLI whoever can reach the database. */
export function webhookAdmin(caller: Principal | Actor): { actor: Actor; label: string } {
  if ('credential' in caller) {
    if (caller.type !== 'user') throw new CsError('forbidden', 'agents cannot manage webhooks');
    if (caller.role !== 'admin') throw new CsError('forbidden', 'only admins can manage webhooks');
    return { actor: { type: 'user', id: caller.id }, label: caller.email };
  }
  return { actor: caller, label: caller.id ?? caller.type };
}
