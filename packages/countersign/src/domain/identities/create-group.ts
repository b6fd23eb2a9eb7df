import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parseInput } from '../validate.js';
import { GroupName } from './add-user.js';

export const CreateGroupInput = z.strictObject({
  name: GroupName,
  description: z.string().min(1).max(500).optional(),
});

/**
 * Creates an empty group, so a workflow can name it (and an identity provider's group can map onto
 * it) before anyone is in it. Setting a person's groups also creates the ones it names.
 */
export async function createGroup(
  deps: Deps,
  actor: Actor,
  input: z.input<typeof CreateGroupInput>,
): Promise<{ id: string; name: string; description: string | null }> {
  const data = parseInput(CreateGroupInput, input);
  return deps.committer.run(async (tx) => {
    const taken = await tx.db.selectFrom('groups').select('id').where('name', '=', data.name).executeTakeFirst();
    if (taken) throw new CsError('conflict', `a group named ${data.name} already exists`);
    const id = newId();
    const description = data.description ?? null;
    await tx.db.insertInto('groups').values({ id, name: data.name, description, created_at: tx.now }).execute();
    tx.audit({ actor, event: 'group.created', data: { group_id: id, name: data.name, ...(description ? { description } : {}) } });
    return { id, name: data.name, description };
  });
}
