import { assertNever } from '../../lib/errors.js';
import type { SafeSummary } from '../render/summary.js';
import { field, line, type RichTextBlock } from './card-text.js';

/** The Universal Actions (Action.Execute, refresh) need schema 1.5 in Teams. */
export const CARD_VERSION = '1.5';
export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams refreshes a card automatically for at most 60 users. */
export const MAX_REFRESH_USERS = 60;

export type CardVerb = 'refresh' | 'approve' | 'deny';

/**
 * What one card shows. `posted`: the card the bot posts, the same for everyone (with a reminder's note when
 * a reminder replaced it); the buttons come per viewer through `refresh`. `vote`: this viewer may vote now (reason, Approve, Deny). `note`: this viewer may not
 * (why, in words), or must link their account first (`link`). `notify`: a Workflows webhook, no actions.
 * `final`: decided, no buttons and no refresh.
 */
export type CardView =
  | { kind: 'posted'; userIds: string[]; note?: string }
  | { kind: 'vote'; userIds: string[]; note: string | null }
  | { kind: 'note'; userIds: string[]; note: string; link?: { title: string; url: string } }
  | { kind: 'notify' }
  | { kind: 'final'; note?: string };

type Element = RichTextBlock | Record<string, unknown>;

function title(s: SafeSummary, view: CardView): string {
  if (s.status !== 'pending') return `Action ${s.status}`;
  return view.kind === 'notify' ? 'An agent action is waiting for approval' : 'Approval needed';
}

function summaryBody(s: SafeSummary): Element[] {
  const body: Element[] = [
    { type: 'TextBlock', text: 'Tool', weight: 'Bolder', spacing: 'Small' },
    line(s.tool, { fontType: 'Monospace' }),
  ];
  body.push(field('Agent', s.agent));
  if (s.onBehalfOf !== null) body.push(field('On behalf of', s.onBehalfOf));
  if (s.purpose !== null) body.push(field('Purpose', s.purpose));
  if (s.deadline !== null) body.push(field('Deadline', s.deadline));
  if (s.progress !== null) body.push(field('Progress', s.progress));
  if (s.outcome !== null) body.push(field('Outcome', s.outcome, { weight: 'Bolder' }));
  body.push({ type: 'TextBlock', text: 'Arguments', weight: 'Bolder', spacing: 'Medium' });
  if (s.arguments.length === 0) body.push(line('(none)', { italic: true }));
  for (const a of s.arguments) body.push(line(a, { fontType: 'Monospace' }));
  if (s.moreArguments > 0) body.push(line(`… and ${s.moreArguments} more (open the console to see them all)`, { italic: true }));
  // What no marker can show (a look-alike letter), said in words.
  if (s.flagged.length > 0) {
    body.push({ type: 'TextBlock', text: 'Look closely', weight: 'Bolder', spacing: 'Medium', color: 'Attention' });
    for (const f of s.flagged) body.push(line(f));
  }
  return body;
}

function execute(verb: CardVerb, label: string, actionId: string, style?: 'positive' | 'destructive') {
  return { type: 'Action.Execute', title: label, verb, data: { actionId }, ...(style ? { style } : {}) };
}

/**
 * The Adaptive Card for an action, as the view says. Every agent-written string is a literal TextRun
 * (card-text.ts); the only URLs are the console's and a chat-link's, both ours.
 */
export function renderCard(s: SafeSummary, view: CardView): Record<string, unknown> {
  const body: Element[] = [{ type: 'TextBlock', text: title(s, view), size: 'Medium', weight: 'Bolder', wrap: true }, ...summaryBody(s)];
  const open = { type: 'Action.OpenUrl', title: 'Open in console', url: s.consoleUrl };
  const actions: Record<string, unknown>[] = [];
  switch (view.kind) {
    case 'posted':
      if (view.note) body.push(line(view.note, { weight: 'Bolder' }));
      actions.push(execute('refresh', 'Review here', s.actionId), open);
      break;
    case 'vote':
      if (view.note !== null) body.push(line(view.note, { weight: 'Bolder' }));
      body.push({
        type: 'Input.Text',
        id: 'reason',
        label: 'Reason (optional; the agent sees it)',
        isMultiline: true,
        maxLength: 4096,
      });
      actions.push(execute('approve', 'Approve', s.actionId, 'positive'), execute('deny', 'Deny', s.actionId, 'destructive'), open);
      break;
    case 'note':
      body.push(line(view.note, { weight: 'Bolder' }));
      if (view.link) actions.push({ type: 'Action.OpenUrl', title: view.link.title, url: view.link.url });
      actions.push(open);
      break;
    case 'notify':
      actions.push(open);
      break;
    case 'final':
      if (view.note) body.push(line(view.note, { weight: 'Bolder' }));
      actions.push(open);
      break;
    default:
      assertNever(view, 'card view');
  }
  const card: Record<string, unknown> = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    body,
    actions,
  };
  if ((view.kind === 'posted' || view.kind === 'vote' || view.kind === 'note') && s.status === 'pending') {
    card.refresh = {
      action: { type: 'Action.Execute', verb: 'refresh', data: { actionId: s.actionId } },
      userIds: view.userIds.slice(0, MAX_REFRESH_USERS),
    };
  }
  return card;
}

/** The message activity that carries a card. */
export function cardActivity(card: Record<string, unknown>): Record<string, unknown> {
  return { type: 'message', attachments: [{ contentType: CARD_CONTENT_TYPE, content: card }] };
}
