import type { Deps } from '../../../deps.js';
import type { UserPrincipal } from '../principal.js';
import type { SessionView } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The caller's sessions that still work (not revoked, within both time-outs), newest first. */
export async function listMySessions(deps: Deps, principal: UserPrincipal): Promise<SessionView[]> {
  const now = deps.clock.now();
  const rows = await deps.db.read
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', principal.id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('last_seen_at', '>', now - deps.config.auth.sessions.idleTimeoutMs)
    .orderBy('created_at', 'desc')
    // Ids are time-ordered (uuidv7): ties within a millisecond still list newest first.
    .orderBy('id', 'desc')
    .execute();
  const current = principal.credential.kind === 'session' ? principal.credential.sessionId : null;
  return rows.map((r) => ({
    id: r.id,
    method: r.method as SessionView['method'],
    created_at: iso(r.created_at),
    last_seen_at: iso(r.last_seen_at),
    expires_at: iso(r.expires_at),
    strong_at: r.strong_at === null ? null : iso(r.strong_at),
    user_agent: r.user_agent,
    ip: r.ip,
    current: r.id === current,
  }));
}
