import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import type { ActionView } from './schemas.js';
import { loadActionView } from './view.js';

/** People see every action; an agent sees only its own (others read as absent). */
export async function getAction(deps: Deps, principal: Principal, id: string): Promise<ActionView> {
  const view = isId(id) ? await loadActionView(deps.db.read, id) : undefined;
  if (!view || (principal.type === 'agent' && view.agent.id !== principal.id)) {
    throw new CsError('not_found', `no action with id ${id}`);
  }
  return view;
}
