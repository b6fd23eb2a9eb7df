import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { parseInput } from '../validate.js';
import { GroupNames } from './add-user.js';
import { bumpIdentityEpoch } from './epoch.js';
import { findUser } from './lookup.js';
import { replaceMemberships } from './memberships.js';

const SetGroupsInput = z.strictObject({ email: z.email().max(320), groups: GroupNames });

/**
 * Replaces a person's groups (the whole set: what is not named is left; a group not seen before is
 * created). Applies to the next request and review.
 */
export async function setUserGroups(
  deps: Deps,
  actor: Actor,
  input: z.input<typeof SetGroupsInput>,
): Promise<{ id: string; email: string; groups: string[]; previous: string[] }> {
  const data = parseInput(SetGroupsInput, input);
  const wanted = [...new Set(data.groups)].sort();
  const result = await deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, data.email);
    const { previous, groups } = await replaceMemberships(tx, actor, user.id, wanted);
    if (JSON.stringify(previous) === JSON.stringify(groups)) {
      throw new CsError('conflict', `${user.email} already has exactly these groups (${groups.join(', ') || 'none'})`);
    }
    await bumpIdentityEpoch(tx);
    tx.audit({ actor, event: 'user.groups_changed', data: { user_id: user.id, email: user.email, from: previous, to: groups } });
    return { id: user.id, email: user.email, groups, previous };
  });
  // This gateway's own held requests are checked now; other gateways see the epoch at their next tick.
  deps.identities.changed();
  return result;
}
