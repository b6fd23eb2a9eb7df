import type { Deps } from '../../deps.js';
import { workflowText } from '../../domain/actions/action-rows.js';
import { decidability } from '../../domain/actions/decidability.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { personPrincipal } from '../../domain/identities/person-principal.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';

/**
 * The person a Slack user is linked to, as a principal whose credential is that Slack user (channel
 * `slack`): the review verb then applies every rule it applies to any channel. Null for a disabled person.
 */
export async function slackPrincipal(deps: Deps, userId: string, slackUser: string): Promise<UserPrincipal | null> {
  return personPrincipal(deps.db.read, userId, { kind: 'chat', platform: 'slack', externalUserId: slackUser });
}

/** Why this person may not vote on the action now, in words (the review verb's own checks), or null when they may. */
export async function whyNotDecide(deps: Deps, person: UserPrincipal, action: ActionView): Promise<string | null> {
  const row = await deps.db.read
    .selectFrom('actions')
    .select(['id', 'status', 'stage', 'escalations', 'agent_owner_id', 'on_behalf_of', 'expires_at', workflowText()])
    .where('id', '=', action.id)
    .executeTakeFirst();
  if (!row) return 'the action no longer exists';
  const voted = action.reviews.some((r) => r.reviewer.id === person.id || r.for?.id === person.id);
  const d = decidability(person, { ...row, expires_at: row.expires_at === null ? null : Number(row.expires_at) }, voted, deps.clock.now());
  return d.why_not;
}
