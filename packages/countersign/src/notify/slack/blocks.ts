import type { ActionView } from '../../domain/actions/schemas.js';
import { nudgeWords } from '../render/nudge-words.js';
import { safeText, truncate } from '../render/safe-text.js';
import type { SafeSummary } from '../render/summary.js';
import { escapeMrkdwn, type PlainText, plain } from './text.js';

/** The buttons' action ids: what an interaction names, and all it names (the action comes from our own record). */
export const APPROVE = 'cs_approve';
export const DENY = 'cs_deny';
export const OPEN = 'cs_open';
/** The deny modal: its callback id and the reason input's block and action ids. */
export const DENY_VIEW = 'cs_deny_reason';
export const REASON_BLOCK = 'reason';
export const REASON_INPUT = 'reason_input';

// biome-ignore lint/suspicious/noExplicitAny: Block Kit objects are plain JSON; the stand-in checks their shape
export type Block = { type: string } & Record<string, any>;

export interface SlackMessage {
  /** The notification text (parsed as mrkdwn by Slack, so escaped). */
  text: string;
  blocks: Block[];
}

function facts(s: SafeSummary): Block {
  const lines: [string, string | null][] = [
    ['Agent', s.agent],
    ['On behalf of', s.onBehalfOf],
    ['Deadline', s.deadline],
    ['Progress', s.progress],
  ];
  return {
    type: 'section',
    fields: lines.filter((l): l is [string, string] => l[1] !== null).map(([k, v]) => plain(`${k}: ${v}`, 2000)),
  };
}

function body(s: SafeSummary): Block[] {
  const args = s.arguments.length === 0 ? '(none)' : s.arguments.join('\n');
  const more = s.moreArguments > 0 ? `\n… and ${s.moreArguments} more` : '';
  return [
    facts(s),
    ...(s.purpose === null ? [] : [{ type: 'section', text: plain(`Purpose: ${s.purpose}`) }]),
    // Cut before the count of what was left out, so the count always shows.
    { type: 'section', text: plain(`${truncate(`Arguments:\n${args}`, 2900)}${more}`) },
    // What no marker can show (a look-alike letter), said in words.
    ...(s.flagged.length === 0 ? [] : [{ type: 'section', text: plain(truncate(`Look closely:\n${s.flagged.join('\n')}`, 2900)) }]),
  ];
}

function button(text: string, fields: { action_id: string; value?: string; url?: string; style?: 'primary' | 'danger' }): Block {
  return { type: 'button', text: plain(text, 75), ...fields };
}

function header(text: string): Block {
  return { type: 'header', text: plain(text, 150) };
}

/**
 * The request for a decision: tool, the safe summary (every agent string in `plain_text`), Approve / Deny
 * and "Edit in console". A stage that needs a fresh strong sign-in offers only "Open in console": no
 * chat click can give that.
 */
export function askMessage(s: SafeSummary, stepUp: boolean): SlackMessage {
  const actions = stepUp
    ? [button('Open in console', { action_id: OPEN, url: s.consoleUrl })]
    : [
        button('Approve', { action_id: APPROVE, value: s.actionId, style: 'primary' }),
        button('Deny', { action_id: DENY, value: s.actionId, style: 'danger' }),
        button('Edit in console', { action_id: OPEN, url: s.consoleUrl }),
      ];
  const note: PlainText[] = stepUp ? [plain('This stage needs a recent strong sign-in: decide in the console.', 300)] : [];
  return {
    text: escapeMrkdwn(`Approval needed: ${s.tool} (agent ${s.agent})`),
    blocks: [
      header(`Approval needed: ${s.tool}`),
      ...body(s),
      ...(note.length > 0 ? [{ type: 'context', elements: note }] : []),
      { type: 'actions', block_id: `cs_${s.actionId}`.slice(0, 255), elements: actions },
    ],
  };
}

const TITLES: Record<string, string> = {
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

/** The same message once the review ended: no buttons; the outcome and who decided (with the reason); the console link. */
export function decidedMessage(s: SafeSummary, view: ActionView): SlackMessage {
  const title = TITLES[view.status] ?? view.status;
  const channel = view.reviews.at(-1)?.channel;
  const via = view.decided_by?.type === 'user' && channel ? ` (via ${channel})` : '';
  const outcome = `${s.outcome ?? title}${via}`;
  return {
    text: escapeMrkdwn(`${title}: ${s.tool} (agent ${s.agent})`),
    blocks: [
      header(`${title}: ${s.tool}`),
      ...body(s),
      { type: 'section', text: plain(`Outcome: ${outcome}`) },
      { type: 'actions', elements: [button('Open in console', { action_id: OPEN, url: s.consoleUrl })] },
    ],
  };
}

/** The deny reason in the message's thread, so the conversation keeps it (as text Slack will not parse). */
export function reasonReply(view: ActionView): string | null {
  if (view.status !== 'denied' || !view.reason) return null;
  const who = view.decided_by?.label ?? 'the system';
  return escapeMrkdwn(`Denied by ${safeText(who, 200)}: ${safeText(view.reason, 2000)}`);
}

/** A Slack user id as Slack issues them: the only thing ever written into a message as a mention. */
const SLACK_USER = /^[UW][A-Z0-9]{2,31}$/;

/**
 * The thread reply of a reminder or an escalation: why we write again, the stage's deadline, and mentions
 * of the people asked (`<@U…>`, from our own records of linked users; anything else is left out). No agent
 * text: the request above says what is asked. Parsed as mrkdwn, so the mentions notify; our own words are
 * escaped all the same.
 */
export function nudgeReply(view: ActionView, asked: { reason: string; level: number | null }, users: readonly string[]): string {
  const deadline = view.workflow?.stage.timeout_at ?? view.expires_at;
  const words = nudgeWords(asked.reason === 'escalated' ? 'escalated' : 'reminder', asked.level, deadline);
  const mentions = [...new Set(users)].filter((u) => SLACK_USER.test(u)).map((u) => `<@${u}>`);
  return [escapeMrkdwn(words), ...mentions].join(' ');
}

/** The modal a Deny click opens: one required reason (the agent is told it). */
export function denyModal(s: SafeSummary, metadata: string): Block {
  return {
    type: 'modal',
    callback_id: DENY_VIEW,
    private_metadata: metadata,
    title: plain('Deny this action', 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      { type: 'section', text: plain(`Deny ${s.tool} for agent ${s.agent}?`) },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain('Reason (the agent sees it)', 2000),
        element: { type: 'plain_text_input', action_id: REASON_INPUT, multiline: true, max_length: 3000 },
      },
    ],
  };
}
