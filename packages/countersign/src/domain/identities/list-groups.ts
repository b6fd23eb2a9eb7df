import type { Deps } from '../../deps.js';

export interface GroupListItem {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  /** Members' emails, sorted; disabled people stay members (enabling them restores their groups). */
  members: string[];
}

/** Every group with its members, by name. */
export async function listGroups(deps: Deps): Promise<GroupListItem[]> {
  const groups = await deps.db.read.selectFrom('groups').selectAll().execute();
  const members = await deps.db.read
    .selectFrom('group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.group_id', 'u.email'])
    .execute();
  const byGroup = new Map<string, string[]>();
  for (const m of members) byGroup.set(m.group_id, [...(byGroup.get(m.group_id) ?? []), m.email]);
  // Sorted here, not by the database, so both dialects (and their collations) give the same order.
  return groups
    .map((g) => ({
      id: g.id,
      name: g.name,
      description: g.description,
      created_at: new Date(Number(g.created_at)).toISOString(),
      members: (byGroup.get(g.id) ?? []).sort(),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
