import type { Kysely } from 'kysely';
import { PreparedQuery } from '../../db/prepared.js';
import type { DB } from '../../db/types.js';
import { assertNever, CsError } from '../../lib/errors.js';
import { parseKey, secretMatches } from './api-keys.js';
import { groupsOf } from './memberships.js';
import { type Credential, type Principal, ROLES, type Role } from './principal.js';
import { currentSessionPrincipal, type SessionClock } from './sessions/authenticate-session.js';

export const BAD_KEY = 'the API key is missing, malformed, unknown or revoked';

// Runs on every request, so it is compiled once.
const keyWithPrincipal = new PreparedQuery<{ prefix: string }, Record<string, unknown>>((db, p) =>
  db
    .selectFrom('api_keys as k')
    .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'k.principal_id').on('k.principal_type', '=', 'user'))
    .leftJoin('agents as a', (j) => j.onRef('a.id', '=', 'k.principal_id').on('k.principal_type', '=', 'agent'))
    .leftJoin('users as o', 'o.id', 'a.owner_id')
    .select([
      'k.prefix',
      'k.secret_hash',
      'k.principal_type',
      'k.revoked_at',
      'k.last_used_at',
      'u.id as user_id',
      'u.email',
      'u.name as user_name',
      'u.role',
      'u.disabled_at as user_disabled_at',
      'a.id as agent_id',
      'a.name as agent_name',
      'a.owner_id',
      'o.email as owner_email',
      'a.labels',
      'a.disabled_at as agent_disabled_at',
    ])
    .where('k.prefix', '=', p('prefix')),
);

interface KeyRow {
  prefix: string;
  secret_hash: string;
  principal_type: string;
  revoked_at: number | null;
  last_used_at: number | string | null;
  user_id: string | null;
  email: string | null;
  user_name: string | null;
  role: string | null;
  user_disabled_at: number | null;
  agent_id: string | null;
  agent_name: string | null;
  owner_id: string | null;
  owner_email: string | null;
  labels: string | null;
  agent_disabled_at: number | null;
}

/**
 * Resolves a bearer key to its principal in one query. Every failure reads the
 * same, so a caller learns nothing about which part was wrong. Requests go through
 * KeyCache (key-cache.ts), which calls this whenever the identity epoch moved.
 */
export async function authenticate(db: Kysely<DB>, key: string | undefined): Promise<Principal> {
  return (await authenticateKey(db, key)).principal;
}

/** As `authenticate`, with the key's own use record (its prefix, when it was last used) for touchKey. */
export async function authenticateKey(
  db: Kysely<DB>,
  key: string | undefined,
): Promise<{ principal: Principal; prefix: string; secretHash: string; lastUsedAt: number | null }> {
  const parsed = key ? parseKey(key) : null;
  if (!parsed) throw new CsError('unauthenticated', BAD_KEY);
  const row = (await keyWithPrincipal.executeTakeFirst(db, { prefix: parsed.prefix })) as KeyRow | undefined;
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) throw new CsError('unauthenticated', BAD_KEY);
  const principal = await toPrincipal(db, row);
  if (!principal) throw new CsError('unauthenticated', BAD_KEY);
  // PostgreSQL returns bigint as a string.
  return {
    principal,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/**
 * The principal a key already authenticated stands for now, or null once the key is revoked or its
 * person or agent disabled. For re-checking requests held open (streams, long-polls): the secret was
 * verified when they started, so only the prefix is needed.
 */
export async function currentKeyPrincipal(db: Kysely<DB>, prefix: string): Promise<Principal | null> {
  const row = (await keyWithPrincipal.executeTakeFirst(db, { prefix })) as KeyRow | undefined;
  return row ? toPrincipal(db, row) : null;
}

/**
 * What a credential that was valid when a request started stands for now; null once it no longer
 * works. Credentials this gateway cannot re-check end the held request (fails closed).
 */
export async function currentPrincipal(db: Kysely<DB>, credential: Credential, sessions: SessionClock): Promise<Principal | null> {
  switch (credential.kind) {
    case 'api_key':
      return currentKeyPrincipal(db, credential.keyPrefix);
    case 'session':
      return currentSessionPrincipal(db, credential.sessionId, sessions);
    case 'chat':
    case 'email_link':
      return null;
    default:
      return assertNever(credential, 'credential');
  }
}

/** One string per credential, for de-duplicating re-checks of many held requests. */
export function credentialKey(c: Credential): string {
  switch (c.kind) {
    case 'api_key':
      return `key:${c.keyPrefix}`;
    case 'session':
      return `session:${c.sessionId}`;
    case 'chat':
      return `chat:${c.platform}:${c.externalUserId}`;
    case 'email_link':
      return `email_link:${c.linkId}`;
    default:
      return assertNever(c, 'credential');
  }
}

/** A person's groups are a second, indexed query (group_members by user); agents, the hot path, need none. */
async function toPrincipal(db: Kysely<DB>, row: KeyRow): Promise<Principal | null> {
  if (row.revoked_at !== null) return null;
  if (row.principal_type === 'user' && row.user_id !== null && row.user_disabled_at === null) {
    return {
      type: 'user',
      id: row.user_id,
      email: row.email as string,
      name: row.user_name as string,
      role: (ROLES as readonly string[]).includes(row.role ?? '') ? (row.role as Role) : 'viewer',
      groups: await groupsOf(db, row.user_id),
      credential: { kind: 'api_key', keyPrefix: row.prefix },
    };
  }
  if (row.principal_type === 'agent' && row.agent_id !== null && row.agent_disabled_at === null) {
    return {
      type: 'agent',
      id: row.agent_id,
      name: row.agent_name as string,
      ownerId: row.owner_id as string,
      ownerEmail: row.owner_email ?? '',
      labels: JSON.parse(row.labels ?? '{}') as Record<string, string>,
      credential: { kind: 'api_key', keyPrefix: row.prefix },
    };
  }
  return null;
}
