import type { Deps } from '../../deps.js';
import { newId } from '../../lib/ids.js';

/** The card posted for a delivery, if one was (a redelivery after the post but before `sent` was recorded). */
export async function cardOfDelivery(deps: Deps, deliveryId: string) {
  return deps.db.read.selectFrom('teams_cards').select(['activity_id']).where('delivery_id', '=', deliveryId).executeTakeFirst();
}

/** Every card posted about an action, oldest first: what a decision updates. */
export async function cardsOfAction(deps: Deps, actionId: string) {
  return deps.db.read
    .selectFrom('teams_cards')
    .select(['id', 'recipient', 'conversation_id', 'service_url', 'activity_id'])
    .where('action_id', '=', actionId)
    .orderBy('id')
    .execute();
}

/** The newest card posted to one recipient about an action: what a reminder updates instead of posting again. */
export async function latestCardOf(deps: Deps, actionId: string, recipient: string) {
  return deps.db.read
    .selectFrom('teams_cards')
    .select(['conversation_id', 'service_url', 'activity_id'])
    .where('action_id', '=', actionId)
    .where('recipient', '=', recipient)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Records a posted card right after the Connector answered with its activity id. */
export async function recordCard(
  deps: Deps,
  card: { deliveryId: string; actionId: string; recipient: string; conversationId: string; serviceUrl: string; activityId: string },
): Promise<void> {
  await deps.committer.run(async (tx) => {
    await tx.db
      .insertInto('teams_cards')
      .values({
        id: newId(),
        delivery_id: card.deliveryId,
        action_id: card.actionId,
        recipient: card.recipient,
        conversation_id: card.conversationId,
        service_url: card.serviceUrl,
        activity_id: card.activityId,
        created_at: tx.now,
      })
      .onConflict((oc) => oc.column('delivery_id').doNothing())
      .execute();
  });
}
