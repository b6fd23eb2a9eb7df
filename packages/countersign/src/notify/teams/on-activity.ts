import type { Deps } from '../../deps.js';
import { reviewAction } from '../../domain/actions/review-action.js';
import { assertNever, CsError, isCsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { type Activity, aadOf, CardAction, cardResponse, errorResponse, type InvokeResponse, tenantOf } from './activity.js';
import { actionOf, cardForUser } from './card-for-user.js';
import { rememberConversation } from './conversations.js';
import { teamsAccount, teamsPrincipal } from './people.js';

/**
 * One authenticated activity from Teams (the route checked its token). From the configured tenant only.
 * Every activity teaches where the bot can write (conversations.ts). An `adaptiveCard/action` invoke is
 * answered with a card: `refresh` with this user's view, `approve` / `deny` with the vote cast through
 * the review verb as the linked person (channel `teams`) and the card after it; a refusal is said on the
 * card in words. Other activities get no answer body.
 */
export async function onActivity(deps: Deps, a: Activity): Promise<InvokeResponse | null> {
  const cfg = deps.config.notifications.teams;
  const tenant = tenantOf(a);
  if (tenant !== cfg.tenant) throw new CsError('forbidden', 'this bot accepts activities from its own tenant only');
  await rememberConversation(deps, a, tenant);
  if (a.type !== 'invoke') return null;
  if (a.name !== 'adaptiveCard/action') return errorResponse(400, 'unsupported', 'this bot answers adaptiveCard/action invokes only');
  const parsed = CardAction.safeParse(a.value);
  if (!parsed.success) return errorResponse(400, 'invalid_request', 'not an action this bot understands');
  const { verb, data } = parsed.data.action;
  const aad = aadOf(a);
  if (!aad) return errorResponse(403, 'forbidden', 'a Teams user (with an Entra object id) is required');
  const account = teamsAccount(tenant, aad, a.from.name);
  const view = isId(data.actionId) ? await actionOf(deps, data.actionId) : undefined;
  if (!view) return errorResponse(404, 'not_found', 'this action does not exist (any more)');
  switch (verb) {
    case 'refresh':
      return cardResponse(await cardForUser(deps, view, account, a.from.id));
    case 'approve':
    case 'deny':
      return cardResponse(await vote(deps, verb, data.actionId, data.reason, account, a.from.id));
    default:
      return assertNever(verb, 'card verb');
  }
}

async function vote(
  deps: Deps,
  decision: 'approve' | 'deny',
  actionId: string,
  reason: string | undefined,
  account: ReturnType<typeof teamsAccount>,
  teamsUserId: string,
): Promise<Record<string, unknown>> {
  const principal = await teamsPrincipal(deps, account);
  let said: string;
  if (principal === 'unlinked' || principal === 'disabled') {
    said = 'Nothing was recorded.';
  } else {
    const trimmed = reason?.trim();
    try {
      await reviewAction(deps, principal, actionId, { decision, ...(trimmed ? { reason: trimmed } : {}) });
      said = decision === 'approve' ? 'Your approval was recorded.' : 'Your denial was recorded.';
    } catch (e) {
      if (!isCsError(e)) throw e;
      said = `Not recorded: ${e.message}.`;
    }
  }
  const after = await actionOf(deps, actionId);
  if (!after) throw new CsError('not_found', 'this action does not exist (any more)');
  return cardForUser(deps, after, account, teamsUserId, said);
}
