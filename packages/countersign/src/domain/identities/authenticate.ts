import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { parseKey, secretMatches } from './api-keys.js';
import { type Principal, ROLES, type Role } from './principal.js';

const BAD_KEY = 'the API key is missing, malformed, unknown or revoked';

/** Resolves a bearer key to its principal. Every failure reads the same, so a caller learns nothing about which part was wrong. */
export async function authenticate(db: Kysely<DB>, key: string | undefined): Promise<Principal> {
  const parsed = key ? parseKey(key) : null;
  if (!parsed) throw new CsError('unauthenticated', BAD_KEY);
  const row = await db
    .selectFrom('api_keys')
    .select(['prefix', 'secret_hash', 'principal_type', 'principal_id', 'revoked_at'])
    .where('prefix', '=', parsed.prefix)
    .executeTakeFirst();
  if (!row || !secretMatches(parsed.secret, row.secret_hash) || row.revoked_at !== null) {
    throw new CsError('unauthenticated', BAD_KEY);
  }
  if (row.principal_type === 'user') {
    const u = await db.selectFrom('users').selectAll().where('id', '=', row.principal_id).executeTakeFirst();
    if (!u || u.disabled_at !== null) throw new CsError('unauthenticated', BAD_KEY);
    return {
      type: 'user',
      id: u.id,
      email: u.email,
      name: u.name,
      role: (ROLES as readonly string[]).includes(u.role) ? (u.role as Role) : 'viewer',
      groups: JSON.parse(u.groups) as string[],
      keyPrefix: row.prefix,
    };
  }
  const a = await db.selectFrom('agents').selectAll().where('id', '=', row.principal_id).executeTakeFirst();
  if (!a || a.disabled_at !== null) throw new CsError('unauthenticated', BAD_KEY);
  return {
    type: 'agent',
    id: a.id,
    name: a.name,
    ownerId: a.owner_id,
    labels: JSON.parse(a.labels) as Record<string, string>,
    keyPrefix: row.prefix,
  };
}
