import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { loadActionView } from '../../domain/actions/view.js';
import type { Delivery } from '../../events/consumers/types.js';
import type { Asked } from '../../events/types.js';
import { newId } from '../../lib/ids.js';
import { about, type DeliveryError } from '../delivery-errors.js';
import { resolveRecipients } from '../recipients.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { targetsFor } from '../routing.js';
import { askMessage } from './blocks.js';
import { deliverOnce } from './deliver.js';
import { slackUsersOf } from './people.js';

/** Where one message goes: a channel by id, or a person's DM (opened with conversations.open). */
type Destination = { recipient: string; userId: string | null } & ({ channel: string } | { user: string });

/** The Slack targets of the routes for this `asked` moment: channels, and each asked approver with a linked Slack user. */
async function destinations(deps: Deps, action: ActionView, asked: Asked): Promise<Destination[]> {
  const out = new Map<string, Destination>();
  for (const t of targetsFor(deps.policy.current.routes, 'asked', action, asked.stage.name)) {
    if (t.kind === 'slack') out.set(`#${t.channel}`, { recipient: `#${t.channel}`, userId: null, channel: t.channel });
    if (t.kind !== 'approvers' || t.channel !== 'slack') continue;
    const people = await resolveRecipients(deps.db.read, action, asked.approvers);
    const linked = await slackUsersOf(
      deps,
      people.map((p) => p.id),
    );
    for (const p of people) {
      const user = linked.get(p.id);
      // A person with no linked Slack account is reached by the other routes (email), or the console.
      if (user !== undefined) out.set(`@${user}`, { recipient: `@${user}`, userId: p.id, user });
    }
  }
  return [...out.values()];
}

/**
 * People are asked: one Block Kit message per Slack target, each recorded (channel and ts) with the
 * delivery that posted it. An action decided meanwhile (this event was being retried) asks nobody.
 */
export async function postAsked(deps: Deps, web: WebClient, d: Delivery, action: ActionView, asked: Asked): Promise<DeliveryError[]> {
  const current = await loadActionView(deps.db.read, action.id);
  if (current?.status !== 'pending') return [];
  const summary = summarize(current, consoleUrlOf(deps.config.server.publicUrl ?? '', current.id));
  const message = askMessage(summary, current.workflow?.stage.step_up != null);
  // Each destination is its own delivery: posted side by side (their reservations share group commits).
  const sent = await Promise.all(
    (await destinations(deps, current, asked)).map(async (dest) => {
      const error = await deliverOnce(deps, d, dest, current.id, async () => {
        const conversation = 'channel' in dest ? dest.channel : await openDm(web, dest.user);
        const res = await web.chat.postMessage({
          channel: conversation,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          unfurl_media: false,
        });
        const channel = res.channel ?? conversation;
        const ts = res.ts ?? '';
        return {
          ref: `${channel}/${ts}`,
          record: async (tx, deliveryId) => {
            await tx.db
              .insertInto('slack_messages')
              .values({
                id: newId(),
                action_id: current.id,
                channel,
                ts,
                delivery_id: deliveryId,
                recipient: dest.recipient,
                created_at: tx.now,
                updated_at: tx.now,
                outcome: null,
              })
              .execute();
          },
        };
      });
      return about(dest.recipient, error);
    }),
  );
  return sent.filter((e): e is DeliveryError => e !== null);
}

async function openDm(web: WebClient, user: string): Promise<string> {
  const res = await web.conversations.open({ users: user, return_im: false });
  const id = res.channel?.id;
  if (!id) throw new Error('Slack opened no direct message channel');
  return id;
}
