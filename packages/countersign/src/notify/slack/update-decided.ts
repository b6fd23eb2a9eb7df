import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import type { Delivery } from '../../events/consumers/types.js';
import { about, type DeliveryError } from '../delivery-errors.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { decidedMessage, reasonReply } from './blocks.js';
import { deliverOnce } from './deliver.js';

/**
 * The review ended (on any channel): every message posted about the action is `chat.update`d in place
 * (buttons gone, outcome and who decided), and a deny's reason posted in its thread. Each update and
 * each reply is its own delivery, so a retry redoes only what failed.
 */
export async function updateDecided(deps: Deps, web: WebClient, d: Delivery, action: ActionView): Promise<DeliveryError[]> {
  const rows = await deps.db.read
    .selectFrom('slack_messages')
    .select(['channel', 'ts', 'recipient'])
    .where('action_id', '=', action.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (rows.length === 0) return [];
  const message = decidedMessage(summarize(action, consoleUrlOf(deps.config.server.publicUrl ?? '', action.id)), action);
  const reason = reasonReply(action);
  // Every message side by side; within one, the update and then its thread reply.
  const each = await Promise.all(
    rows.map(async (row) => {
      const errors: DeliveryError[] = [];
      const where = `${row.channel}/${row.ts}`;
      const updated = await deliverOnce(deps, d, { recipient: `update ${where}`, userId: null }, action.id, async () => {
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
      if (updated !== null) errors.push(about(`update ${where}`, updated));
      if (reason === null) return errors;
      const replied = await deliverOnce(deps, d, { recipient: `thread ${where}`, userId: null }, action.id, async () => {
        const res = await web.chat.postMessage({ channel: row.channel, thread_ts: row.ts, text: reason, mrkdwn: false });
        return { ref: `${res.channel ?? row.channel}/${res.ts ?? ''}` };
      });
      if (replied !== null) errors.push(about(`thread ${where}`, replied));
      return errors;
    }),
  );
  return each.flat();
}
