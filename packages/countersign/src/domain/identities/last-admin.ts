import type { Tx } from '../../db/committer.js';
import type { UsersTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { bumpIdentityEpoch } from './epoch.js';

/**
 * Refuses (conflict) a change that would leave no enabled admin: nobody could then administer the
 * gateway over HTTP. Call it before the change, in its transaction. It bumps the identity epoch first
 * (the change needs that anyway): the epoch is one row, so its row lock makes concurrent identity
 * changes on PostgreSQL take turns, and each statement after it (READ COMMITTED) sees what the one
 * before committed. Two admins demoting each other at once therefore cannot both succeed.
 */
export async function guardLastAdmin(tx: Tx, user: UsersTable, what: string): Promise<void> {
  await bumpIdentityEpoch(tx);
  if (user.role !== 'admin' || user.disabled_at !== null) return;
  const others = await tx.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '<>', user.id)
    .executeTakeFirst();
  if (Number(others?.n ?? 0) === 0) {
    throw new CsError('conflict', `${user.email} is the last enabled admin and cannot be ${what}; make someone else admin first`);
  }
}
