import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import type { ChatAccount } from '../../domain/identities/chat-links/chat-account.js';
import { requestChatLink } from '../../domain/identities/chat-links/request-chat-link.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';
import { APPROVE, DENY, DENY_VIEW, REASON_BLOCK, REASON_INPUT } from './blocks.js';
import { decide, openDenyModal } from './decide.js';
import { type BlockActions, DenyMetadata, Interaction, type ViewSubmission } from './payloads.js';
import { personOfSlackUser } from './people.js';
import { slackPrincipal } from './principal.js';
import { escapeMrkdwn } from './text.js';

/** What to answer Slack: nothing (200, empty), or a body (a modal's field errors). */
export type InteractionAnswer = Record<string, unknown> | null;

/** Who clicked, and where to answer them privately. */
export interface Clicker {
  account: ChatAccount;
  /** Where an ephemeral answer goes (the message's conversation); absent for a modal. */
  channel: string | undefined;
}

/**
 * The one handler for Slack interactions, whichever way they arrived (HTTP, already signature-checked;
 * or Socket Mode). Only the Slack user and team are taken from the payload; the action is the one our
 * record of the clicked message names; the person is the one that Slack user is linked to; the vote goes
 * through the same review verb as every channel, so every refusal is the domain's, said back in words.
 */
export async function handleInteraction(deps: Deps, web: WebClient, payload: unknown): Promise<InteractionAnswer> {
  const parsed = Interaction.safeParse(payload);
  // Other kinds (shortcuts, view closes…) and shapes this version does not read: acknowledged, nothing done.
  if (!parsed.success) return null;
  const p = parsed.data;
  const team = p.team?.id ?? p.user.team_id;
  if (team !== deps.config.notifications.slack.workspace) {
    deps.logger.warn({ team }, 'a Slack interaction from another workspace was ignored');
    return null;
  }
  const account: ChatAccount = {
    platform: 'slack',
    workspace: team,
    user: p.user.id,
    display: p.user.username ?? p.user.name ?? p.user.id,
  };
  return p.type === 'block_actions' ? onClick(deps, web, p, account) : onSubmit(deps, web, p, account);
}

async function onClick(deps: Deps, web: WebClient, p: BlockActions, account: ChatAccount): Promise<InteractionAnswer> {
  const clicked = p.actions[0];
  if (!clicked || (clicked.action_id !== APPROVE && clicked.action_id !== DENY)) return null;
  const channel = p.container?.channel_id ?? p.channel?.id;
  const ts = p.container?.message_ts ?? p.message?.ts;
  const who: Clicker = { account, channel };
  const actionId = channel && ts ? await actionOfMessage(deps, channel, ts) : null;
  if (!channel || !ts || actionId === null) {
    await tell(web, who, 'This message is not one Countersign can act on.');
    return null;
  }
  const person = await personOf(deps, web, who);
  if (!person) return null;
  if (clicked.action_id === APPROVE) {
    await tell(web, who, (await decide(deps, person, actionId, 'approve', undefined)).text);
    return null;
  }
  const refused = await openDenyModal(deps, web, person, actionId, p.trigger_id, { channel, ts });
  if (refused !== null) await tell(web, who, refused.text);
  return null;
}

async function onSubmit(deps: Deps, web: WebClient, p: ViewSubmission, account: ChatAccount): Promise<InteractionAnswer> {
  if (p.view.callback_id !== DENY_VIEW) return null;
  let where: { channel: string; ts: string };
  try {
    where = DenyMetadata.parse(JSON.parse(p.view.private_metadata));
  } catch {
    return fieldError('This form is not one Countersign can act on.');
  }
  const who: Clicker = { account, channel: where.channel };
  const actionId = await actionOfMessage(deps, where.channel, where.ts);
  if (actionId === null) return fieldError('This form is not one Countersign can act on.');
  const person = await personOf(deps, web, who);
  if (!person) return fieldError('Your Slack account is not linked to a Countersign person: see the message sent to you.');
  const reason = p.view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim() ?? '';
  if (reason === '') return fieldError('Say why: the agent is told the reason.');
  const outcome = await decide(deps, person, actionId, 'deny', reason);
  if (outcome.ok) {
    await tell(web, who, outcome.text);
    return null;
  }
  return fieldError(outcome.text);
}

function fieldError(text: string): InteractionAnswer {
  return { response_action: 'errors', errors: { [REASON_BLOCK]: text.slice(0, 3000) } };
}

/** The action a message of ours is about, by where it is: never by anything the payload says it is about. */
async function actionOfMessage(deps: Deps, channel: string, ts: string): Promise<string | null> {
  const row = await deps.db.read
    .selectFrom('slack_messages')
    .select('action_id')
    .where('channel', '=', channel)
    .where('ts', '=', ts)
    .executeTakeFirst();
  return row?.action_id ?? null;
}

/** The linked person as a principal; an unlinked user is sent (privately) a link to link their account, and gets null. */
async function personOf(deps: Deps, web: WebClient, who: Clicker): Promise<UserPrincipal | null> {
  const found = await personOfSlackUser(deps, who.account, () => emailOf(web, who.account.user));
  const principal = found ? await slackPrincipal(deps, found.id, who.account.user) : null;
  if (principal) return principal;
  const link = await requestChatLink(deps, who.account);
  await tell(
    web,
    who,
    `Your Slack account is not linked to a Countersign person, so Countersign cannot tell who is deciding. <${escapeMrkdwn(link.url)}|Link your Slack account> (the link works once, for 10 minutes), then click again.`,
  );
  return null;
}

async function emailOf(web: WebClient, user: string): Promise<string | null> {
  const res = await web.users.info({ user });
  const email = res.user?.profile?.email;
  return typeof email === 'string' && res.user?.is_email_confirmed !== false ? email : null;
}

/** A private answer to the person who clicked (mrkdwn: our own words only; agent text never reaches it unescaped). */
async function tell(web: WebClient, who: Clicker, text: string): Promise<void> {
  if (!who.channel) return;
  await web.chat.postEphemeral({ channel: who.channel, user: who.account.user, text });
}
