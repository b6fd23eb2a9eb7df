import type { Kysely } from 'kysely';
import { newId } from '../../lib/ids.js';

/**
 * Groups become data: a `groups` table and `group_members`, so "who may approve this stage" is a
 * query (members of a named group), a group can exist before anyone is in it, and the identity
 * provider's groups (sign-in issue) map onto rows. Today's JSON `users.groups` column is copied into
 * them and dropped, so there is one source of truth.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
    .execute();
  // A person's groups are read on every request they make.
  await db.schema.createIndex('group_members_user').on('group_members').columns(['user_id', 'group_id']).execute();

  const users = (await db.selectFrom('users').select(['id', 'groups', 'created_at']).orderBy('created_at').execute()) as {
    id: string;
    groups: string;
    created_at: number | string;
  }[];
  const ids = new Map<string, string>();
  for (const u of users) {
    const names = [...new Set(JSON.parse(u.groups) as string[])];
    for (const name of names) {
      let id = ids.get(name);
      if (id === undefined) {
        id = newId();
        ids.set(name, id);
        await db
          .insertInto('groups')
          .values({ id, name, description: null, created_at: Number(u.created_at) })
          .execute();
      }
      await db
        .insertInto('group_members')
        .values({ group_id: id, user_id: u.id, created_at: Number(u.created_at) })
        .execute();
    }
  }
  await db.schema.alterTable('users').dropColumn('groups').execute();
}
