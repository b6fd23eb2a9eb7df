import type { NotifyTarget } from '../../config/notify-schema.js';
import type { Deps } from '../../deps.js';
import { chatAccountsOf } from '../../domain/identities/chat-links/chat-account.js';
import { assertNever } from '../../lib/errors.js';
import { resolveRecipients } from '../recipients.js';
import type { Occasion } from '../routing.js';

/** Where one Teams card goes; `key` is the delivery record's recipient. */
export type TeamsRecipient =
  | { kind: 'person'; key: string; userId: string; aad: string }
  | { kind: 'channel'; key: string; conversation: string }
  | { kind: 'webhook'; key: string; name: string; url: string };

export interface TeamsAudience {
  recipients: TeamsRecipient[];
  /** Entra object ids of the linked people asked: the users a card refreshes for automatically. */
  approverAads: string[];
  /** The same people with the name a mention shows (their email). */
  approverPeople: { aad: string; name: string }[];
}

/**
 * The Teams side of a route's targets: each asked approver whose Teams account is linked (a personal chat;
 * unlinked people get nothing here, email or the console reach them), channels, and notify-only webhooks.
 * Other channels' targets are skipped: their own consumers send them.
 */
export async function teamsAudience(deps: Deps, occasion: NonNullable<Occasion>, targets: NotifyTarget[]): Promise<TeamsAudience> {
  const cfg = deps.config.notifications.teams;
  const out = new Map<string, TeamsRecipient>();
  const approvers = occasion.moment === 'asked' ? occasion.asked.approvers : occasion.action.workflow?.stage.approvers;
  let linked: { people: { id: string; email: string }[]; aads: Map<string, string> } | undefined;
  const linkedApprovers = async () => {
    if (linked) return linked;
    const people = cfg.bot && approvers ? await resolveRecipients(deps.db.read, occasion.action, approvers) : [];
    const aads =
      people.length === 0
        ? new Map<string, string>()
        : await chatAccountsOf(
            deps.db.read,
            'teams',
            cfg.tenant,
            people.map((p) => p.id),
          );
    linked = { people, aads };
    return linked;
  };
  for (const t of targets) {
    switch (t.kind) {
      case 'approvers': {
        if (t.channel !== 'teams' || !cfg.bot) break;
        const { people, aads } = await linkedApprovers();
        for (const p of people) {
          const aad = aads.get(p.id);
          if (aad !== undefined) out.set(p.email.toLowerCase(), { kind: 'person', key: p.email.toLowerCase(), userId: p.id, aad });
        }
        break;
      }
      case 'teams_channel':
        if (cfg.bot)
          out.set(`channel:${t.conversation}`, { kind: 'channel', key: `channel:${t.conversation}`, conversation: t.conversation });
        break;
      case 'teams_webhook': {
        const url = cfg.webhookUrls[t.webhook];
        if (url) out.set(`webhook:${t.webhook}`, { kind: 'webhook', key: `webhook:${t.webhook}`, name: t.webhook, url });
        break;
      }
      case 'email':
      case 'slack':
        break; // other channels' consumers send these
      default:
        assertNever(t, 'notification target');
    }
  }
  const needAads = [...out.values()].some((r) => r.kind !== 'webhook');
  const { people, aads } = needAads ? await linkedApprovers() : { people: [], aads: new Map<string, string>() };
  const approverPeople = people.flatMap((p) => {
    const aad = aads.get(p.id);
    return aad === undefined ? [] : [{ aad, name: p.email }];
  });
  return { recipients: [...out.values()], approverAads: approverPeople.map((p) => p.aad), approverPeople };
}
