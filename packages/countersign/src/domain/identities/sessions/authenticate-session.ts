import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import { ROLES, type Role, type SignInMethod, type UserPrincipal } from '../principal.js';
import { hashToken, isTokenShaped } from './tokens.js';

/** What decides whether a session still works: the time now and the idle time-out (the absolute one is stored). */
export interface SessionClock {
  now(): number;
  idleTimeoutMs: number;
}

export interface SessionRow {
  id: string;
  method: string;
  strong_at: number | null;
  last_seen_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_id: string;
  email: string;
  name: string;
  role: string;
  groups: string;
  disabled_at: number | null;
}

function sessionQuery(db: Kysely<DB>) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id',
      's.method',
      's.strong_at',
      's.last_seen_at',
      's.expires_at',
      's.revoked_at',
      'u.id as user_id',
      'u.email',
      'u.name',
      'u.role',
      'u.groups',
      'u.disabled_at',
    ]);
}

/** Whether a session works at `now`: not revoked, within both time-outs, its person enabled. */
export function sessionWorks(row: SessionRow, clock: SessionClock): boolean {
  const now = clock.now();
  return row.revoked_at === null && row.disabled_at === null && now < row.expires_at && now < row.last_seen_at + clock.idleTimeoutMs;
}

export function sessionPrincipal(row: SessionRow): UserPrincipal {
  return {
    type: 'user',
    id: row.user_id,
    email: row.email,
    name: row.name,
    role: (ROLES as readonly string[]).includes(row.role) ? (row.role as Role) : 'viewer',
    groups: JSON.parse(row.groups) as string[],
    credential: { kind: 'session', sessionId: row.id, method: row.method as SignInMethod, strongAt: row.strong_at },
  };
}

/**
 * The session a cookie's token opens, or null (unknown, revoked, timed out, person disabled). Every
 * failure reads the same to the caller. The row is returned too, so the caller can refresh last_seen_at.
 */
export async function authenticateSession(
  db: Kysely<DB>,
  token: string,
  clock: SessionClock,
): Promise<{ principal: UserPrincipal; row: SessionRow } | null> {
  if (!isTokenShaped(token)) return null;
  const row = (await sessionQuery(db).where('s.token_hash', '=', hashToken(token)).executeTakeFirst()) as SessionRow | undefined;
  if (!row || !sessionWorks(row, clock)) return null;
  return { principal: sessionPrincipal(row), row };
}

/** What a session that was valid when a held request started stands for now (see identity-watcher.ts). */
export async function currentSessionPrincipal(db: Kysely<DB>, sessionId: string, clock: SessionClock): Promise<UserPrincipal | null> {
  const row = (await sessionQuery(db).where('s.id', '=', sessionId).executeTakeFirst()) as SessionRow | undefined;
  return row && sessionWorks(row, clock) ? sessionPrincipal(row) : null;
}
