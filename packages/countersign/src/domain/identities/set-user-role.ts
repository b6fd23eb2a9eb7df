import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { parseInput } from '../validate.js';
import { guardLastAdmin } from './last-admin.js';
import { findUser } from './lookup.js';
import { ROLES, type Role } from './principal.js';

const SetRoleInput = z.strictObject({ email: z.email().max(320), role: z.enum(ROLES) });

/**
 * Changes a person's role. Authority is read fresh on every request and inside every review, so the
 * new role applies at once; the epoch moves so their open event streams end and reconnect with it.
 * The last enabled admin cannot be demoted.
 */
export async function setUserRole(
  deps: Deps,
  actor: Actor,
  input: z.input<typeof SetRoleInput>,
): Promise<{ id: string; email: string; role: Role; previous: string }> {
  const data = parseInput(SetRoleInput, input);
  const result = await deps.committer.run(async (tx) => {
    const user = await findUser(tx.db, data.email);
    if (user.role === data.role) throw new CsError('conflict', `${user.email} is already ${data.role}`);
    await guardLastAdmin(tx, user, `made ${data.role}`);
    const res = await tx.db
      .updateTable('users')
      .set({ role: data.role })
      .where('id', '=', user.id)
      .where('role', '=', user.role)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `${user.email}'s role changed meanwhile; try again`);
    tx.audit({ actor, event: 'user.role_changed', data: { user_id: user.id, email: user.email, from: user.role, to: data.role } });
    return { id: user.id, email: user.email, role: data.role, previous: user.role };
  });
  // This gateway's own held requests are checked now; other gateways see the epoch at their next tick.
  deps.identities.changed();
  return result;
}
