import type { Deps } from '../../deps.js';
import type { TeamsBot } from './bot.js';
import { cardActivity } from './card.js';
import { cardOfDelivery, latestCardOf, recordCard } from './cards-store.js';
import { conversationById, personalConversation, rememberPersonalChat, serviceUrlFor, teamsUserIds } from './conversations.js';
import { nudgeActivity } from './nudge.js';
import { postToWorkflow } from './post-webhook.js';
import type { TeamsRecipient } from './targets.js';

/** Where a card goes in the Bot Connector: the conversation and its service URL. */
interface Place {
  conversationId: string;
  serviceUrl: string;
}

/**
 * Posts one card for one delivery and records it. A card already posted for this delivery (the node died
 * between the Connector's answer and `sent`) is not posted again: its activity id is returned. A reminder
 * or an escalation updates the recipient's card in place and replies to it, when they have one (a
 * webhook's cannot be updated: it is posted). Returns the external reference (the activity id, the reply's
 * for a nudge; null for a webhook, which has none).
 */
export async function sendCard(
  deps: Deps,
  bot: TeamsBot | undefined,
  r: TeamsRecipient,
  delivery: { id: string; actionId: string },
  /** The linked approvers (Entra object ids): whom a channel card refreshes for. */
  approverAads: string[],
  card: (refreshUserIds: string[]) => Record<string, unknown>,
  /** A reminder or an escalation: the recipient's card is updated in place and a reply mentions the people asked. */
  nudge?: { words: string; mentions: { aad: string; name: string }[] },
): Promise<string | null> {
  const cfg = deps.config.notifications.teams;
  if (r.kind === 'webhook') {
    await postToWorkflow(r.url, card([]), cfg.timeout);
    return null;
  }
  if (!bot) throw new Error('the Teams bot is not configured');
  const posted = await cardOfDelivery(deps, delivery.id);
  if (posted) return posted.activity_id;
  if (nudge) {
    // Replace the card already in the chat or channel (PUT to its activity) rather than posting another,
    // so a reminder every hour never stacks cards; then reply to it, since an edit notifies nobody: in a
    // channel the reply is in the card's thread, mentioning the people asked. Someone with no card yet
    // (asked for the first time by an escalation, or linked since) gets one posted below.
    const shown = await latestCardOf(deps, delivery.actionId, r.key);
    if (shown) {
      const aads = [...new Set([...(r.kind === 'person' ? [r.aad] : approverAads), ...nudge.mentions.map((m) => m.aad)])];
      const ids = await teamsUserIds(deps.db.read, cfg.tenant, aads);
      const idOf = new Map(aads.map((aad, i) => [aad, ids[i] as string]));
      const refresh = (r.kind === 'person' ? [r.aad] : approverAads).map((aad) => idOf.get(aad) as string);
      await bot.connector.updateActivity(shown.service_url, shown.conversation_id, shown.activity_id, cardActivity(card(refresh)));
      const mentions = nudge.mentions.map((m) => ({ id: idOf.get(m.aad) as string, name: m.name }));
      return bot.connector.replyToActivity(
        shown.service_url,
        shown.conversation_id,
        shown.activity_id,
        nudgeActivity(nudge.words, mentions),
      );
    }
  }
  const place = r.kind === 'person' ? await personalChat(deps, bot, r.aad) : await channel(deps, r.conversation);
  const userIds = await teamsUserIds(deps.db.read, cfg.tenant, r.kind === 'person' ? [r.aad] : approverAads);
  const activityId = await bot.connector.sendActivity(place.serviceUrl, place.conversationId, cardActivity(card(userIds)));
  await recordCard(deps, { deliveryId: delivery.id, actionId: delivery.actionId, recipient: r.key, ...place, activityId });
  return activityId;
}

/** The person's chat with the bot; created (and kept) when the bot has none yet, which needs the app installed for them. */
async function personalChat(deps: Deps, bot: TeamsBot, aad: string): Promise<Place> {
  const tenant = deps.config.notifications.teams.tenant;
  const known = await personalConversation(deps.db.read, tenant, aad);
  if (known) return { conversationId: known.id, serviceUrl: known.service_url };
  const serviceUrl = await serviceUrlFor(deps.db.read, tenant, aad);
  if (!serviceUrl) throw new Error('no Teams service URL is known for the tenant yet: install the app (an activity from Teams teaches it)');
  const conversationId = await bot.connector.createPersonalConversation(serviceUrl, aad);
  await rememberPersonalChat(deps, tenant, aad, conversationId, serviceUrl);
  return { conversationId, serviceUrl };
}

async function channel(deps: Deps, conversation: string): Promise<Place> {
  const known = await conversationById(deps.db.read, conversation);
  const serviceUrl = known?.service_url ?? (await serviceUrlFor(deps.db.read, deps.config.notifications.teams.tenant, null));
  if (!serviceUrl) throw new Error(`the bot has not seen the Teams channel ${conversation}: add the app to its team first`);
  return { conversationId: conversation, serviceUrl };
}
