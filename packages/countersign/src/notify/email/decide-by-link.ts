import type { Tx } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { workflowText } from '../../domain/actions/action-rows.js';
import { decidability } from '../../domain/actions/decidability.js';
import { reviewAction } from '../../domain/actions/review-action.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { loadActionView } from '../../domain/actions/view.js';
import { personPrincipal } from '../../domain/identities/person-principal.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';
import { hashToken, isTokenShaped } from '../../domain/identities/sessions/tokens.js';
import { currentStage } from '../../domain/workflow/frozen.js';
import { CsError } from '../../lib/errors.js';

/** What the confirmation page shows for a link: never decides anything. */
export type LinkState =
  | { ok: false; why: string }
  | { ok: true; decision: 'approve' | 'deny'; person: string; action: ActionView; stepUp: boolean; whyNot: string | null };

interface LinkRow {
  id: string;
  action_id: string;
  user_id: string;
  decision: 'approve' | 'deny';
  expires_at: number;
  used_at: number | null;
}

async function findLink(deps: Deps, token: string): Promise<LinkRow | undefined> {
  if (!isTokenShaped(token)) return undefined;
  const row = await deps.db.read
    .selectFrom('email_decision_links')
    .select(['id', 'action_id', 'user_id', 'decision', 'expires_at', 'used_at'])
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  return row ? { ...row, expires_at: Number(row.expires_at), used_at: row.used_at === null ? null : Number(row.used_at) } : undefined;
}

/** The person the link was made for, as a principal whose credential is this one link (channel `email`). */
async function principalFor(deps: Deps, link: LinkRow): Promise<UserPrincipal | null> {
  return personPrincipal(deps.db.read, link.user_id, { kind: 'email_link', linkId: link.id });
}

function unusable(link: LinkRow | undefined, now: number): string | null {
  if (!link) return 'This link is not valid. Open the action from the console instead.';
  if (link.used_at !== null) return 'This link was used already; each link decides once.';
  if (link.expires_at <= now) return 'This link has expired. Open the action from the console instead.';
  return null;
}

/** For the confirmation page (GET): what the link would do and whether it still can, in words. Reads only. */
export async function inspectLink(deps: Deps, token: string): Promise<LinkState> {
  const link = await findLink(deps, token);
  const bad = unusable(link, deps.clock.now());
  if (bad !== null || !link) return { ok: false, why: bad ?? 'This link is not valid.' };
  const person = await principalFor(deps, link);
  const action = await loadActionView(deps.db.read, link.action_id);
  if (!person || !action) return { ok: false, why: 'This link is not valid any more.' };
  const row = await deps.db.read
    .selectFrom('actions')
    .select(['id', 'status', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', 'expires_at', workflowText()])
    .where('id', '=', link.action_id)
    .executeTakeFirstOrThrow();
  const voted = action.reviews.some((r) => r.reviewer.id === person.id || r.for?.id === person.id);
  const d = decidability(person, { ...row, expires_at: row.expires_at === null ? null : Number(row.expires_at) }, voted, deps.clock.now());
  const stage = currentStage(row);
  const stepUp = link.decision === 'approve' && stage?.step_up !== undefined;
  return { ok: true, decision: link.decision, person: person.email, action, stepUp, whyNot: d.why_not };
}

/**
 * The POST from the confirmation page: the link's own decision, as the person it was made for, through the
 * same review verb as every channel (channel `email`). The link is consumed inside the vote's transaction by
 * a compare-and-set: a second POST, or two at once, finds it used and is a conflict; a refused vote (not
 * eligible, decided already, step-up) rolls the consumption back with it.
 */
export async function decideByLink(deps: Deps, token: string, reason: string | undefined): Promise<ActionView> {
  const link = await findLink(deps, token);
  const bad = unusable(link, deps.clock.now());
  if (bad !== null || !link) throw new CsError(link?.used_at ? 'conflict' : 'forbidden', bad ?? 'This link is not valid.');
  const person = await principalFor(deps, link);
  if (!person) throw new CsError('forbidden', 'This link is not valid any more.');
  const consume = async (tx: Tx) => {
    const r = await tx.db
      .updateTable('email_decision_links')
      .set({ used_at: tx.now })
      .where('id', '=', link.id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', tx.now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new CsError('conflict', 'This link was used already or has expired; each link decides once.');
    // Both links of one email are spent by one decision: the other can never cast a second vote.
    await tx.db
      .updateTable('email_decision_links')
      .set({ used_at: tx.now })
      .where('action_id', '=', link.action_id)
      .where('user_id', '=', link.user_id)
      .where('used_at', 'is', null)
      .execute();
  };
  const body = { decision: link.decision, ...(reason ? { reason } : {}) };
  return reviewAction(deps, person, link.action_id, body, { consume });
}
