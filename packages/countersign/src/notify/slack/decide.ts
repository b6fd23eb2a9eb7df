import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../deps.js';
import { reviewAction } from '../../domain/actions/review-action.js';
import { loadActionView } from '../../domain/actions/view.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';
import { isCsError } from '../../lib/errors.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { denyModal } from './blocks.js';
import { whyNotDecide } from './principal.js';
import { escapeMrkdwn } from './text.js';

export interface Outcome {
  ok: boolean;
  /** What the person is told (mrkdwn, escaped). */
  text: string;
}

/**
 * A vote from Slack: the review verb, as the linked person. Refusals (not eligible, the agent's owner, the
 * person it acts for, a step-up stage, decided already) come back as the domain's own words.
 */
export async function decide(
  deps: Deps,
  person: UserPrincipal,
  actionId: string,
  decision: 'approve' | 'deny',
  reason: string | undefined,
): Promise<Outcome> {
  try {
    const view = await reviewAction(deps, person, actionId, { decision, ...(reason === undefined ? {} : { reason }) });
    const done =
      view.status === 'pending' ? 'Your vote is recorded; the action waits for more approvals.' : `The action is ${view.status}.`;
    return { ok: true, text: `You ${decision === 'approve' ? 'approved' : 'denied'} it. ${done}` };
  } catch (e) {
    if (!isCsError(e)) throw e;
    return { ok: false, text: refusal(deps, actionId, decision, e.code, e.message) };
  }
}

function refusal(deps: Deps, actionId: string, decision: string, code: string, message: string): string {
  const console = consoleUrlOf(deps.config.server.publicUrl ?? '', actionId);
  if (code === 'step_up_required') {
    return `This stage needs a recent strong sign-in, which Slack cannot give: <${escapeMrkdwn(console)}|open the action in the console> to decide.`;
  }
  return escapeMrkdwn(`You cannot ${decision} this action: ${message}`);
}

/**
 * A Deny click: a modal asking the reason (the agent is told it), opened only for a person who may vote
 * now; otherwise the reason they may not, in words (returned, for an ephemeral answer).
 */
export async function openDenyModal(
  deps: Deps,
  web: WebClient,
  person: UserPrincipal,
  actionId: string,
  triggerId: string | undefined,
  where: { channel: string; ts: string },
): Promise<Outcome | null> {
  const view = await loadActionView(deps.db.read, actionId);
  if (!view) return { ok: false, text: 'The action no longer exists.' };
  const why = await whyNotDecide(deps, person, view);
  if (why !== null) return { ok: false, text: escapeMrkdwn(`You cannot deny this action: ${why}.`) };
  if (!triggerId) return { ok: false, text: 'Slack sent no way to open the form: deny in the console instead.' };
  await web.views.open({
    trigger_id: triggerId,
    view: denyModal(summarize(view, consoleUrlOf(deps.config.server.publicUrl ?? '', actionId)), JSON.stringify(where)) as never,
  });
  return null;
}
