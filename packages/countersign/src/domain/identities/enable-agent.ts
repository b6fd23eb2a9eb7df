import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { bumpIdentityEpoch } from './epoch.js';
import { findAgent } from './lookup.js';

/** Undoes `disableAgent` for its keys that were not revoked; the actions it cancelled stay cancelled (terminal). */
export async function enableAgent(deps: Deps, actor: Actor, nameOrId: string): Promise<{ id: string; name: string }> {
  return deps.committer.run(async (tx) => {
    const agent = await findAgent(tx.db, nameOrId);
    const res = await tx.db
      .updateTable('agents')
      .set({ disabled_at: null })
      .where('id', '=', agent.id)
      .where('disabled_at', 'is not', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `agent ${agent.name} is not disabled`);
    await bumpIdentityEpoch(tx);
    tx.audit({ actor, event: 'agent.enabled', data: { agent_id: agent.id, name: agent.name } });
    return { id: agent.id, name: agent.name };
  });
}
