import type { Deps } from '../../deps.js';

/** Every message posted about an action (channels and DMs), oldest first: what reminders and a decision update. */
export function messagesOf(deps: Deps, actionId: string) {
  return deps.db.read
    .selectFrom('slack_messages')
    .select(['channel', 'ts', 'recipient'])
    .where('action_id', '=', actionId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
