import type { Deps } from '../../deps.js';

export interface AgentListItem {
  id: string;
  name: string;
  owner: string;
  labels: Record<string, string>;
  disabled: boolean;
  created_at: string;
  active_keys: number;
}

/** Every agent, oldest first, with its owner's email and how many keys it holds that are not revoked. */
/** `onlyId` narrows to one agent (what the admin API answers after a change). */
export async function listAgents(deps: Deps, onlyId?: string): Promise<AgentListItem[]> {
  let q = deps.db.read
    .selectFrom('agents as a')
    .innerJoin('users as o', 'o.id', 'a.owner_id')
    .leftJoin('api_keys as k', (j) =>
      j.onRef('k.principal_id', '=', 'a.id').on('k.principal_type', '=', 'agent').on('k.revoked_at', 'is', null),
    )
    .select(['a.id', 'a.name', 'o.email', 'a.labels', 'a.disabled_at', 'a.created_at'])
    .select((eb) => eb.fn.count<number>('k.id').as('keys'))
    .groupBy(['a.id', 'a.name', 'o.email', 'a.labels', 'a.disabled_at', 'a.created_at'])
    .orderBy('a.created_at')
    .orderBy('a.name');
  if (onlyId !== undefined) q = q.where('a.id', '=', onlyId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    owner: r.email,
    labels: JSON.parse(r.labels) as Record<string, string>,
    disabled: r.disabled_at !== null,
    created_at: new Date(Number(r.created_at)).toISOString(),
    active_keys: Number(r.keys),
  }));
}
