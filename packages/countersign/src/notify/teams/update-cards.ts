import type { Deps } from '../../deps.js';
import { cardActivity } from './card.js';

/**
 * Replaces posted cards with the decided one (PUT to each activity). Every card is tried; if any failed,
 * the first error is thrown after the others were tried, and the whole recipient is retried (a PUT of the
 * same card twice shows the same thing).
 */
export async function updateCards(
  deps: Deps,
  cards: { conversation_id: string; service_url: string; activity_id: string }[],
  card: Record<string, unknown>,
): Promise<void> {
  const bot = deps.teams;
  if (!bot) throw new Error('the Teams bot is not configured');
  let first: unknown;
  for (const c of cards) {
    try {
      await bot.connector.updateActivity(c.service_url, c.conversation_id, c.activity_id, cardActivity(card));
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
