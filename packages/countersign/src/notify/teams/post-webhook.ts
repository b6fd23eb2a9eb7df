import { cardActivity } from './card.js';
import { callTeams } from './http-call.js';

/**
 * Posts a card to a Teams Workflows incoming webhook ("When a Teams webhook request is received"): the
 * message shape the Workflows template posts to a chat or channel, `{type: 'message', attachments: [card]}`.
 * Notify-only: the card has no Action.Execute (nobody could answer it), only the console link.
 */
export async function postToWorkflow(url: string, card: Record<string, unknown>, timeoutMs: number): Promise<void> {
  const activity = cardActivity(card) as { attachments: Record<string, unknown>[] };
  const body = { type: 'message', attachments: activity.attachments.map((a) => ({ ...a, contentUrl: null })) };
  await callTeams(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, timeoutMs);
}
