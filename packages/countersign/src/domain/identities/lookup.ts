import type { Kysely } from 'kysely';
import type { AgentsTable, DB, UsersTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';

/** No stored name or email holds a control character; PostgreSQL text cannot even hold NUL, so none is looked up. */
const unstorable = (ref: string) => [...ref].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** A person by email (case-insensitive, as stored) or id, or not_found naming how to list them. */
export async function findUser(db: Kysely<DB>, emailOrId: string): Promise<UsersTable> {
  const ref = emailOrId.trim().toLowerCase();
  const row = unstorable(ref)
    ? undefined
    : await db
        .selectFrom('users')
        .selectAll()
        .where(isId(ref) ? 'id' : 'email', '=', ref)
        .executeTakeFirst();
  if (!row) throw new CsError('not_found', `no user ${emailOrId}; "countersign users ls" lists them`);
  return row;
}

/** An agent by name or id, or not_found naming how to list them. */
export async function findAgent(db: Kysely<DB>, nameOrId: string): Promise<AgentsTable> {
  const row = unstorable(nameOrId)
    ? undefined
    : await db
        .selectFrom('agents')
        .selectAll()
        .where(isId(nameOrId) ? 'id' : 'name', '=', nameOrId)
        .executeTakeFirst();
  if (!row) throw new CsError('not_found', `no agent ${nameOrId}; "countersign agents ls" lists them`);
  return row;
}
