import type { Deps } from '../../deps.js';
import { findAgent, findUser } from './lookup.js';

export interface KeyListItem {
  prefix: string;
  principal_type: 'user' | 'agent';
  /** The person's email or the agent's name. */
  principal: string;
  label: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Keys (public prefixes only; secrets are never stored), oldest first; `of` narrows to one person (email) or agent. */
export async function listKeys(deps: Deps, of?: string): Promise<KeyListItem[]> {
  let q = deps.db.read
    .selectFrom('api_keys as k')
    .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'k.principal_id').on('k.principal_type', '=', 'user'))
    .leftJoin('agents as a', (j) => j.onRef('a.id', '=', 'k.principal_id').on('k.principal_type', '=', 'agent'))
    .select([
      'k.prefix',
      'k.principal_type',
      'k.principal_id',
      'k.label',
      'k.created_at',
      'k.revoked_at',
      'k.last_used_at',
      'u.email',
      'a.name',
    ])
    .orderBy('k.created_at')
    .orderBy('k.prefix');
  if (of !== undefined) {
    const id = of.includes('@') ? (await findUser(deps.db.read, of)).id : (await findAgent(deps.db.read, of)).id;
    q = q.where('k.principal_id', '=', id);
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    prefix: r.prefix,
    principal_type: r.principal_type === 'agent' ? 'agent' : 'user',
    principal: (r.principal_type === 'agent' ? r.name : r.email) ?? r.principal_id,
    label: r.label,
    created_at: new Date(Number(r.created_at)).toISOString(),
    revoked_at: r.revoked_at === null ? null : new Date(Number(r.revoked_at)).toISOString(),
    last_used_at: r.last_used_at === null ? null : new Date(Number(r.last_used_at)).toISOString(),
  }));
}
