import type { Deps } from '../../deps.js';
import { workflowText } from '../../domain/actions/action-rows.js';
import { decidability } from '../../domain/actions/decidability.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { loadActionView } from '../../domain/actions/view.js';
import type { ChatAccount } from '../../domain/identities/chat-links/chat-account.js';
import { requestChatLink } from '../../domain/identities/chat-links/request-chat-link.js';
import { currentStage } from '../../domain/workflow/frozen.js';
import { isCsError } from '../../lib/errors.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { renderCard } from './card.js';
import { teamsPrincipal } from './people.js';

/**
 * The card one Teams user sees for an action (the answer to `refresh`, and after their vote): the buttons
 * only when they are linked to a person who may vote on it now, by the same checks a vote is held to
 * (decidability.ts reuses review-action's); otherwise why not, in words. The agent's owner and the person
 * the action acts for see no buttons; a stage that needs a strong sign-in shows only "Open in console";
 * an unlinked user is given a link (requestChatLink) that ties their Teams account to their person once.
 */
export async function cardForUser(
  deps: Deps,
  view: ActionView,
  account: ChatAccount,
  teamsUserId: string,
  said: string | null = null,
): Promise<Record<string, unknown>> {
  const summary = summarize(view, consoleUrlOf(deps.config.server.publicUrl ?? '', view.id));
  if (view.status !== 'pending') return renderCard(summary, { kind: 'final', ...(said ? { note: said } : {}) });
  const userIds = [teamsUserId];
  const prefix = said ? `${said} ` : '';
  const principal = await teamsPrincipal(deps, account);
  if (principal === 'unlinked') {
    let link: Awaited<ReturnType<typeof requestChatLink>>;
    try {
      link = await requestChatLink(deps, account);
    } catch (e) {
      if (!isCsError(e)) throw e;
      return renderCard(summary, {
        kind: 'note',
        userIds,
        note: `${prefix}Your Teams account is not linked, and no link could be made: ${e.message}.`,
      });
    }
    return renderCard(summary, {
      kind: 'note',
      userIds,
      note: `${prefix}Your Teams account is not linked to a Countersign person yet. Link it once (the link works until ${new Date(link.expiresAt).toISOString()}), then refresh this card.`,
      link: { title: 'Link my Teams account', url: link.url },
    });
  }
  if (principal === 'disabled')
    return renderCard(summary, { kind: 'note', userIds, note: `${prefix}Your Countersign account is disabled.` });
  const row = await deps.db.read
    .selectFrom('actions')
    .select(['id', 'status', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', 'expires_at', workflowText()])
    .where('id', '=', view.id)
    .executeTakeFirstOrThrow();
  const voted = view.reviews.some((r) => r.reviewer.id === principal.id || r.for?.id === principal.id);
  const d = decidability(
    principal,
    { ...row, expires_at: row.expires_at === null ? null : Number(row.expires_at) },
    voted,
    deps.clock.now(),
  );
  if (!d.can_decide)
    return renderCard(summary, { kind: 'note', userIds, note: `${prefix}You cannot decide this action here: ${d.why_not}.` });
  const stage = currentStage(row);
  if (stage?.step_up !== undefined) {
    return renderCard(summary, {
      kind: 'note',
      userIds,
      note: `${prefix}This stage needs a recent strong sign-in to approve, which Teams cannot give: open the action in the console to decide.`,
    });
  }
  return renderCard(summary, { kind: 'vote', userIds, note: said });
}

/** The action a card is about, or undefined when it does not exist. */
export function actionOf(deps: Deps, actionId: string): Promise<ActionView | undefined> {
  return loadActionView(deps.db.read, actionId);
}
