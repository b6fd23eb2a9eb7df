import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { type Activity, aadOf } from './activity.js';

/**
 * Keeps what an activity teaches about where the bot can write: the Teams user (Entra object id → Teams
 * user id and service URL) and the conversation (a personal chat with that user, a channel, a group chat).
 * Written through the Committer like every write; not audited (it is routing data, like a delivery log).
 * An uninstall from a personal chat forgets that chat.
 */
export async function rememberConversation(deps: Deps, a: Activity, tenant: string): Promise<void> {
  const type = a.conversation.conversationType ?? 'personal';
  const personal = type === 'personal';
  const aad = aadOf(a) ?? null;
  const removed = a.type === 'installationUpdate' && a.action === 'remove';
  await deps.committer.run(async (tx) => {
    if (aad !== null) {
      await tx.db
        .insertInto('teams_users')
        .values({ tenant_id: tenant, aad_object_id: aad, teams_user_id: a.from.id, service_url: a.serviceUrl, updated_at: tx.now })
        .onConflict((oc) =>
          oc
            .columns(['tenant_id', 'aad_object_id'])
            .doUpdateSet({ teams_user_id: a.from.id, service_url: a.serviceUrl, updated_at: tx.now }),
        )
        .execute();
    }
    if (removed) {
      await tx.db.deleteFrom('teams_conversations').where('id', '=', a.conversation.id).execute();
      return;
    }
    const row = {
      tenant_id: tenant,
      service_url: a.serviceUrl,
      conversation_type: type,
      aad_object_id: personal ? aad : null,
      teams_user_id: personal ? a.from.id : null,
      updated_at: tx.now,
    };
    await tx.db
      .insertInto('teams_conversations')
      .values({ id: a.conversation.id, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  });
}

/** A person's personal chat with the bot in the tenant, if the bot has one. */
export async function personalConversation(db: Kysely<DB>, tenant: string, aadObjectId: string) {
  return db
    .selectFrom('teams_conversations')
    .select(['id', 'service_url'])
    .where('tenant_id', '=', tenant)
    .where('aad_object_id', '=', aadObjectId)
    .where('conversation_type', '=', 'personal')
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
}

/** Where to create a conversation in the tenant: the person's own service URL, else the tenant's most recent. */
export async function serviceUrlFor(db: Kysely<DB>, tenant: string, aadObjectId: string | null): Promise<string | undefined> {
  if (aadObjectId !== null) {
    const user = await db
      .selectFrom('teams_users')
      .select('service_url')
      .where('tenant_id', '=', tenant)
      .where('aad_object_id', '=', aadObjectId)
      .executeTakeFirst();
    if (user) return user.service_url;
  }
  const any = await db
    .selectFrom('teams_conversations')
    .select('service_url')
    .where('tenant_id', '=', tenant)
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
  return any?.service_url;
}

/** A stored conversation (a channel a route names). */
export async function conversationById(db: Kysely<DB>, id: string) {
  return db.selectFrom('teams_conversations').select(['id', 'service_url', 'tenant_id']).where('id', '=', id).executeTakeFirst();
}

/** A personal chat the bot just created: kept so the next card goes straight to it. */
export async function rememberPersonalChat(deps: Deps, tenant: string, aadObjectId: string, id: string, serviceUrl: string): Promise<void> {
  await deps.committer.run(async (tx) => {
    const row = {
      tenant_id: tenant,
      service_url: serviceUrl,
      conversation_type: 'personal',
      aad_object_id: aadObjectId,
      updated_at: tx.now,
    };
    await tx.db
      .insertInto('teams_conversations')
      .values({ id, ...row, teams_user_id: null })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  });
}

/**
 * The Teams user ids (MRIs) a card's `refresh.userIds` names, for people by Entra object id: the id Teams
 * gave the bot when it last saw them, else the `8:orgid:<object id>` form of the same user.
 */
export async function teamsUserIds(db: Kysely<DB>, tenant: string, aadObjectIds: string[]): Promise<string[]> {
  if (aadObjectIds.length === 0) return [];
  const rows = await db
    .selectFrom('teams_users')
    .select(['aad_object_id', 'teams_user_id'])
    .where('tenant_id', '=', tenant)
    .where('aad_object_id', 'in', aadObjectIds)
    .execute();
  const known = new Map(rows.map((r) => [r.aad_object_id, r.teams_user_id]));
  return aadObjectIds.map((id) => known.get(id) ?? `8:orgid:${id}`);
}
