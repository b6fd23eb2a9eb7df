import type { GrantsTable } from '../../db/types.js';
import type { GrantView } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function isLive(g: GrantsTable, now: number): boolean {
  return g.revoked_at === null && g.expires_at > now && (g.max_uses === null || g.uses < g.max_uses);
}

export function toGrantView(g: GrantsTable, now: number): GrantView {
  return {
    id: g.id,
    agent_id: g.agent_id,
    session_id: g.session_id,
    tool: g.tool,
    match: g.match_kind === 'cel' ? { when: g.match } : { arguments: JSON.parse(g.match) as Record<string, unknown> },
    created_by: { id: g.created_by_id, email: g.created_by_email },
    source_action_id: g.source_action_id,
    created_at: iso(g.created_at),
    expires_at: iso(g.expires_at),
    max_uses: g.max_uses,
    uses: g.uses,
    revoked_at: g.revoked_at === null ? null : iso(g.revoked_at),
    revoked_by: g.revoked_by,
    active: isLive(g, now),
  };
}
