import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parseInput } from '../validate.js';
import { generateKey } from './api-keys.js';
import { storeKey } from './store-key.js';

export const AddAgentInput = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'agent names are letters, digits, . _ - (max 128)'),
  owner: z.email(),
  labels: z.record(z.string().max(64), z.string().max(256)).default({}),
});

export interface AddedAgent {
  id: string;
  name: string;
  ownerId: string;
  apiKey: string;
  keyPrefix: string;
}

/** Registers an agent owned by an existing person and issues its key. The owner can never review the agent's actions. */
export async function addAgent(deps: Deps, actor: Actor, input: z.input<typeof AddAgentInput>): Promise<AddedAgent> {
  const data = parseInput(AddAgentInput, input);
  const key = generateKey();
  return deps.committer.run(async (tx) => {
    const owner = await tx.db.selectFrom('users').select(['id']).where('email', '=', data.owner.toLowerCase()).executeTakeFirst();
    if (!owner) throw new CsError('not_found', `no user with email ${data.owner}; add them first with "countersign users add"`);
    const taken = await tx.db.selectFrom('agents').select('id').where('name', '=', data.name).executeTakeFirst();
    if (taken) throw new CsError('conflict', `an agent named ${data.name} already exists`);
    const id = newId();
    await tx.db
      .insertInto('agents')
      .values({ id, name: data.name, owner_id: owner.id, labels: JSON.stringify(data.labels), created_at: tx.now, disabled_at: null })
      .execute();
    tx.audit({ actor, event: 'agent.created', data: { agent_id: id, name: data.name, owner_id: owner.id, labels: data.labels } });
    await storeKey(tx, actor, key, { type: 'agent', id });
    return { id, name: data.name, ownerId: owner.id, apiKey: key.key, keyPrefix: key.prefix };
  });
}
