import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { loadActionView } from '../../domain/actions/view.js';
import type { Delivery } from '../../events/consumers/types.js';
import type { Asked } from '../../events/types.js';
import { newId } from '../../lib/ids.js';
import type { RoundItem } from '../deliver-round.js';
import type { DeliveryError } from '../delivery-errors.js';
import { resolveRecipients } from '../recipients.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { targetsFor } from '../routing.js';
import { askMessage, nudgeReply, type SlackMessage } from './blocks.js';
import { slackItem, slackRound } from './deliver.js';
import { messagesOf } from './messages.js';
import { slackUsersOf } from './people.js';

/** Where one message goes: a channel by id, or a person's DM (opened with conversations.open). */
type Destination = { recipient: string; userId: string | null } & ({ channel: string } | { user: string });

/** The asked approvers' linked Slack users (U…), read once per event. */
async function askedUsers(deps: Deps, action: ActionView, asked: Asked): Promise<{ id: string; user: string }[]> {
  const people = await resolveRecipients(deps.db.read, action, asked.approvers);
  const linked = await slackUsersOf(
    deps,
    people.map((p) => p.id),
  );
  return people.flatMap((p) => {
    const user = linked.get(p.id);
    return user === undefined ? [] : [{ id: p.id, user }];
  });
}

/** The Slack targets of the routes for this `asked` moment: channels, and each asked approver with a linked Slack user. */
function destinations(deps: Deps, action: ActionView, asked: Asked, people: () => Promise<{ id: string; user: string }[]>) {
  return (async () => {
    const out = new Map<string, Destination>();
    for (const t of targetsFor(deps.policy.current.routes, 'asked', action, asked.stage.name)) {
      if (t.kind === 'slack') out.set(`#${t.channel}`, { recipient: `#${t.channel}`, userId: null, channel: t.channel });
      if (t.kind !== 'approvers' || t.channel !== 'slack') continue;
      // A person with no linked Slack account is reached by the other routes (email), or the console.
      for (const p of await people()) out.set(`@${p.user}`, { recipient: `@${p.user}`, userId: p.id, user: p.user });
    }
    return [...out.values()];
  })();
}

/**
 * People are asked. A first request posts one Block Kit message per Slack target, each recorded (channel
 * and ts) with the delivery that posted it. A reminder or an escalation does not post the request again
 * where it was posted: that message is `chat.update`d in place (deadline, stage, progress as they are now)
 * and a short reply in its thread says why, mentioning the asked approvers who linked a Slack user (in a DM,
 * the person), since an edit notifies nobody and a mention always does. A target that never had a message
 * (a person the escalation asks for the first time) gets the request posted. An action decided meanwhile
 * (this event was being retried) asks nobody.
 */
export async function postAsked(deps: Deps, web: WebClient, d: Delivery, action: ActionView, asked: Asked): Promise<DeliveryError[]> {
  const current = await loadActionView(deps.db.read, action.id);
  if (current?.status !== 'pending') return [];
  const summary = summarize(current, consoleUrlOf(deps.config.server.publicUrl ?? '', current.id));
  const message = askMessage(summary, current.workflow?.stage.step_up != null);
  let users: Promise<{ id: string; user: string }[]> | undefined;
  const people = () => {
    users ??= askedUsers(deps, current, asked);
    return users;
  };
  const dests = await destinations(deps, current, asked, people);
  const nudge = asked.reason === 'reminder' || asked.reason === 'escalated';
  // The newest message at each target (a later stage may have posted again): the one a nudge goes to.
  const shown = new Map<string, { channel: string; ts: string }>();
  if (nudge) for (const m of await messagesOf(deps, current.id)) shown.set(m.recipient, m);
  const mentions = nudge && dests.some((t) => 'channel' in t && shown.has(t.recipient)) ? (await people()).map((p) => p.user) : [];
  return slackRound(
    deps,
    d,
    current.id,
    dests.map((dest) => {
      const at = shown.get(dest.recipient);
      if (at === undefined) return [postItem(web, current.id, dest, message)];
      const reply = nudgeReply(current, asked, 'user' in dest ? [dest.user] : mentions);
      return [updateItem(web, at, message), replyItem(web, at, reply)];
    }),
  );
}

function postItem(web: WebClient, actionId: string, dest: Destination, message: SlackMessage): RoundItem {
  return slackItem(dest.recipient, dest.userId, async () => {
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
            action_id: actionId,
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
}

/** The request as it stands now, in place of the one posted (an edit: Slack notifies nobody of it). */
function updateItem(web: WebClient, at: { channel: string; ts: string }, message: SlackMessage): RoundItem {
  const where = `${at.channel}/${at.ts}`;
  return slackItem(`update ${where}`, null, async () => {
    await web.chat.update({ channel: at.channel, ts: at.ts, text: message.text, blocks: message.blocks });
    return { ref: where };
  });
}

/**
 * The reminder or escalation as a reply in the message's thread. Not broadcast to the channel
 * (`reply_broadcast` would post a second copy there every time, which is the noise this avoids): the
 * mentioned people are notified of the reply wherever it is.
 */
function replyItem(web: WebClient, at: { channel: string; ts: string }, text: string): RoundItem {
  const where = `${at.channel}/${at.ts}`;
  return slackItem(`thread ${where}`, null, async () => {
    const res = await web.chat.postMessage({ channel: at.channel, thread_ts: at.ts, text, reply_broadcast: false });
    return { ref: `${res.channel ?? at.channel}/${res.ts ?? ''}` };
  });
}

async function openDm(web: WebClient, user: string): Promise<string> {
  const res = await web.conversations.open({ users: user, return_im: false });
  const id = res.channel?.id;
  if (!id) throw new Error('Slack opened no direct message channel');
  return id;
}
