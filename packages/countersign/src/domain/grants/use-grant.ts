import type { Tx } from '../../db/committer.js';
import type { GrantsTable } from '../../db/types.js';
import { canonicalJson } from '../../lib/canonical.js';
import { compileCondition, type PolicyInput } from '../../policy/cel-env.js';
import type { ProposeActionBody } from '../actions/schemas.js';
import { groupsOf } from '../identities/memberships.js';
import type { AgentPrincipal } from '../identities/principal.js';
import type { Voter } from '../workflow/eligibility.js';
import type { FrozenWorkflow } from '../workflow/frozen.js';
import { canApproveAlone } from './authority.js';

function argumentsMatch(required: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(required).every(([k, v]) => Object.hasOwn(actual, k) && canonicalJson(actual[k]) === canonicalJson(v));
}

function conditionMatches(g: GrantsTable, input: PolicyInput): boolean {
  try {
    return compileCondition(g.match).evaluate(input);
  } catch {
    return false; // A condition that cannot be evaluated never approves anything.
  }
}

/**
 * Looks for a live grant that covers a new action headed for review, and if
 * one does, spends one use of it (compare-and-set on its version, so two
 * actions racing for the last use cannot both get it). The grantor's authority
 * is checked again now, against this action's workflow and their current role.
 */
export async function useMatchingGrant(
  tx: Tx,
  a: { actionId: string; agent: AgentPrincipal; input: ProposeActionBody; policyInput: PolicyInput; workflow: FrozenWorkflow | null },
): Promise<GrantsTable | null> {
  if (a.workflow === null) return null;
  const candidates = await tx.db
    .selectFrom('grants')
    .selectAll()
    .where('agent_id', '=', a.agent.id)
    .where('tool', '=', a.input.tool)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', tx.now)
    .orderBy('created_at')
    .execute();
  for (const g of candidates) {
    if (g.max_uses !== null && g.uses >= g.max_uses) continue;
    if (g.session_id !== null && g.session_id !== (a.input.session_id ?? null)) continue;
    const matches = g.match_kind === 'cel' ? conditionMatches(g, a.policyInput) : argumentsMatch(JSON.parse(g.match), a.input.arguments);
    if (!matches) continue;
    const grantor = await tx.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'disabled_at'])
      .where('id', '=', g.created_by_id)
      .executeTakeFirst();
    if (!grantor || grantor.disabled_at !== null) continue;
    const voter: Voter = {
      id: grantor.id,
      email: grantor.email,
      role: grantor.role as Voter['role'],
      groups: await groupsOf(tx.db, grantor.id),
    };
    const onBehalfOf = a.input.on_behalf_of?.toLowerCase() ?? null;
    if (canApproveAlone(a.workflow, voter, { agentOwnerId: a.agent.ownerId, onBehalfOf }) !== null) continue;
    const res = await tx.db
      .updateTable('grants')
      .set({ uses: g.uses + 1, version: g.version + 1 })
      .where('id', '=', g.id)
      .where('version', '=', g.version)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) continue;
    tx.audit({
      actor: { type: 'system', id: null },
      event: 'grant.used',
      actionId: a.actionId,
      data: { grant_id: g.id, uses: g.uses + 1, max_uses: g.max_uses },
    });
    return { ...g, uses: g.uses + 1, version: g.version + 1 };
  }
  return null;
}
