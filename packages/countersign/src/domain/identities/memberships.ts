import type { Kysely } from 'kysely';
import type { Actor, Tx } from '../../db/committer.js';
import { PreparedQuery } from '../../db/prepared.js';
import type { DB } from '../../db/types.js';
import { newId } from '../../lib/ids.js';

// Read on every request a person makes, so it is compiled once.
const groupsOfUser = new PreparedQuery<{ userId: string }, { name: string }>((db, p) =>
  db.selectFrom('group_members as m').innerJoin('groups as g', 'g.id', 'm.group_id').select('g.name').where('m.user_id', '=', p('userId')),
);

/** A person's group names, sorted: what `UserPrincipal.groups` and stage eligibility read. */
export async function groupsOf(db: Kysely<DB>, userId: string): Promise<string[]> {
  // Sorted here, not by the database, so both dialects (and their collations) give the same order.
  return (await groupsOfUser.execute(db, { userId })).map((r) => r.name).sort();
}

/** Every person's group names at once (for listings), keyed by user id. */
export async function groupsByUser(db: Kysely<DB>): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('group_members as m')
    .innerJoin('groups as g', 'g.id', 'm.group_id')
    .select(['m.user_id', 'g.name'])
    .execute();
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.user_id) ?? [];
    list.push(r.name);
    out.set(r.user_id, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** The ids of these groups, creating the ones that do not exist yet (with a `group.created` audit entry). */
export async function ensureGroups(tx: Tx, actor: Actor, names: readonly string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (names.length === 0) return ids;
  const existing = await tx.db
    .selectFrom('groups')
    .select(['id', 'name'])
    .where('name', 'in', [...names])
    .execute();
  for (const g of existing) ids.set(g.name, g.id);
  for (const name of names) {
    if (ids.has(name)) continue;
    const id = newId();
    await tx.db.insertInto('groups').values({ id, name, description: null, created_at: tx.now }).execute();
    tx.audit({ actor, event: 'group.created', data: { group_id: id, name } });
    ids.set(name, id);
  }
  return ids;
}

/**
 * Makes a person's memberships exactly `names` (creating missing groups) inside the caller's
 * transaction, and returns what they were. The caller audits the change and bumps the identity epoch.
 * Also what sign-in with an identity provider calls to apply the IdP's groups at every sign-in.
 */
export async function replaceMemberships(
  tx: Tx,
  actor: Actor,
  userId: string,
  names: readonly string[],
): Promise<{ previous: string[]; groups: string[] }> {
  const groups = [...new Set(names)].sort();
  const previous = await groupsOf(tx.db, userId);
  const ids = await ensureGroups(tx, actor, groups);
  const removed = previous.filter((g) => !groups.includes(g));
  if (removed.length > 0) {
    const removedIds = tx.db.selectFrom('groups').select('id').where('name', 'in', removed);
    await tx.db.deleteFrom('group_members').where('user_id', '=', userId).where('group_id', 'in', removedIds).execute();
  }
  for (const name of groups.filter((g) => !previous.includes(g))) {
    await tx.db
      .insertInto('group_members')
      .values({ group_id: ids.get(name) as string, user_id: userId, created_at: tx.now })
      .execute();
  }
  return { previous, groups };
}
