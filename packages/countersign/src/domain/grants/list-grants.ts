import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import type { GrantView } from './schemas.js';
import { isLive, toGrantView } from './view.js';

/** People see every grant; an agent sees only the grants that cover it. */
export async function listGrants(
  deps: Deps,
  principal: Principal,
  f: { agent?: string | undefined; active?: boolean | undefined },
): Promise<GrantView[]> {
  let q = deps.db.read.selectFrom('grants').selectAll().orderBy('created_at', 'desc').limit(1000);
  if (principal.type === 'agent') q = q.where('agent_id', '=', principal.id);
  if (f.agent !== undefined) {
    const agent = await deps.db.read
      .selectFrom('agents')
      .select('id')
      .where(isId(f.agent) ? 'id' : 'name', '=', f.agent)
      .executeTakeFirst();
    if (!agent) throw new CsError('not_found', `no agent ${f.agent}`);
    q = q.where('agent_id', '=', agent.id);
  }
  const now = deps.clock.now();
  const rows = await q.execute();
  return rows.filter((g) => f.active === undefined || isLive(g, now) === f.active).map((g) => toGrantView(g, now));
}
