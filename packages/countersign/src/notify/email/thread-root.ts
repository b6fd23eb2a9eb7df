import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';

/**
 * The Message-ID of the first email this recipient was sent about this action, or null when this is the
 * first. Later emails about the action (a reminder, an escalation, the next stage, the outcome) name it in
 * `In-Reply-To` and `References` (RFC 5322 §3.6.4), so a mail client shows them as one conversation
 * instead of a new message each time, and a reminder still arrives as a new, notifying message in it.
 * Read from the delivery records (indexed by action), so every node threads the same way.
 */
export async function threadRootOf(db: Kysely<DB>, actionId: string, recipient: string): Promise<string | null> {
  const row = await db
    .selectFrom('notification_deliveries')
    .select('external_ref')
    .where('action_id', '=', actionId)
    .where('channel', '=', 'email')
    .where('recipient', '=', recipient)
    .where('status', '=', 'sent')
    .where('external_ref', 'is not', null)
    .orderBy('sent_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row?.external_ref ?? null;
}
