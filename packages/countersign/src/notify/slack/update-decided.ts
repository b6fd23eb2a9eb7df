import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import type { Delivery } from '../../events/consumers/types.js';
import type { DeliveryError } from '../delivery-errors.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { decidedMessage, reasonReply } from './blocks.js';
import { slackItem, slackRound } from './deliver.js';
import { messagesOf } from './messages.js';

/**
 * The review ended (on any channel): every message posted about the action is `chat.update`d in place
 * (buttons gone, outcome and who decided), and a deny's reason posted in its thread. Each update and
 * each reply is its own delivery, so a retry redoes only what failed.
 */
export async function updateDecided(deps: Deps, web: WebClient, d: Delivery, action: ActionView): Promise<DeliveryError[]> {
  const rows = await messagesOf(deps, action.id);
  if (rows.length === 0) return [];
  const message = decidedMessage(summarize(action, consoleUrlOf(deps.config.server.publicUrl ?? '', action.id)), action);
  const reason = reasonReply(action);
  // Every message side by side; within one, the update and then its thread reply.
  return slackRound(
    deps,
    d,
    action.id,
    rows.map((row) => {
      const where = `${row.channel}/${row.ts}`;
      const update = slackItem(`update ${where}`, null, async () => {
        await web.chat.update({ channel: row.channel, ts: row.ts, text: message.text, blocks: message.blocks });
        return {
          ref: where,
          record: async (tx) => {
            await tx.db
              .updateTable('slack_messages')
              .set({ outcome: action.status, updated_at: tx.now })
              .where('channel', '=', row.channel)
              .where('ts', '=', row.ts)
              .execute();
          },
        };
      });
      if (reason === null) return [update];
      const reply = slackItem(`thread ${where}`, null, async () => {
        const res = await web.chat.postMessage({ channel: row.channel, thread_ts: row.ts, text: reason, mrkdwn: false });
        return { ref: `${res.channel ?? row.channel}/${res.ts ?? ''}` };
      });
      return [update, reply];
    }),
  );
}
