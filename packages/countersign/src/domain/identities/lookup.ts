import type { Kysely } from 'kysely';
import type { AgentsTable, DB, UsersTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';

/** A person by email (case-insensitive, as stored) or not_found naming how to list them. */
export async function findUser(db: Kysely<DB>, email: string): Promise<UsersTable> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  if (!row) throw new CsError('not_found', `no user with email ${email}; "countersign users ls" lists them`);
  return row;
}

/** An agent by name or id, or not_found naming how to list them. */
export async function findAgent(db: Kysely<DB>, nameOrId: string): Promise<AgentsTable> {
  const row = await db
    .selectFrom('agents')
    .selectAll()
    .where(isId(nameOrId) ? 'id' : 'name', '=', nameOrId)
    .executeTakeFirst();
  if (!row) throw new CsError('not_found', `no agent ${nameOrId}; "countersign agents ls" lists them`);
  return row;
}
