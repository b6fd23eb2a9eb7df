import type { Config } from '../../config/schema.js';
import type { Tx } from '../../db/committer.js';
import type { ActionsTable, GrantsTable } from '../../db/types.js';
import { formatDuration } from '../../lib/duration.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { compileCondition } from '../../policy/cel-env.js';
import { checkArguments } from '../actions/limits.js';
import type { Voter } from '../workflow/eligibility.js';
import type { FrozenWorkflow } from '../workflow/frozen.js';
import { canApproveAlone } from './authority.js';
import type { GrantRequest } from './schemas.js';

const DEFAULT_DURATION_MS = 3_600_000;

/** Checks a grant request before anything is written: bounds, scope and the condition's syntax. */
export function validateGrantRequest(config: Config, spec: GrantRequest): void {
  const issue = (path: string, message: string) =>
    new CsError('invalid_request', `grant.${path}: ${message}`, { issues: [{ path: `grant.${path}`, message }] });
  if (spec.expires_in !== undefined && (spec.expires_in <= 0 || spec.expires_in > config.grants.maxDurationMs)) {
    throw issue('expires_in', `must be more than 0 and at most ${formatDuration(config.grants.maxDurationMs)} (grants.max_duration)`);
  }
  if (spec.max_uses !== undefined && spec.max_uses > config.grants.maxUses) {
    throw issue('max_uses', `must be at most ${config.grants.maxUses} (grants.max_uses)`);
  }
  if (spec.match && 'when' in spec.match) {
    try {
      compileCondition(spec.match.when);
    } catch (e) {
      throw issue('match.when', (e as Error).message);
    }
  }
  if (spec.match && 'arguments' in spec.match) checkArguments(config, 'grant.match.arguments', spec.match.arguments);
}

/**
 * Inside the approving transaction: a standing grant for future actions of the
 * same agent (or session) on the same tool. Never broader than the approver's
 * own authority, and always bounded in time.
 */
export async function createGrant(
  tx: Tx,
  config: Config,
  args: { voter: Voter; row: ActionsTable; wf: FrozenWorkflow; spec: GrantRequest },
): Promise<GrantsTable> {
  const { voter, row, wf, spec } = args;
  const why = canApproveAlone(wf, voter, { agentOwnerId: row.agent_owner_id, onBehalfOf: row.on_behalf_of });
  if (why !== null)
    throw new CsError('forbidden', `you cannot grant similar actions: ${why}; a grant is never broader than your own authority`);
  if (spec.scope === 'session' && row.session_id === null) {
    throw new CsError('invalid_request', 'grant.scope "session" needs an action with a session_id', {
      issues: [{ path: 'grant.scope', message: 'the action has no session_id' }],
    });
  }
  const match = spec.match ?? { arguments: JSON.parse(row.arguments) as Record<string, unknown> };
  const grant: GrantsTable = {
    id: newId(),
    agent_id: row.agent_id,
    session_id: spec.scope === 'session' ? row.session_id : null,
    tool: row.tool,
    match_kind: 'when' in match ? 'cel' : 'arguments',
    match: 'when' in match ? match.when : JSON.stringify(match.arguments),
    created_by_id: voter.id,
    created_by_email: voter.email,
    source_action_id: row.id,
    created_at: tx.now,
    expires_at: tx.now + (spec.expires_in ?? Math.min(DEFAULT_DURATION_MS, config.grants.maxDurationMs)),
    max_uses: spec.max_uses ?? null,
    uses: 0,
    revoked_at: null,
    revoked_by: null,
    version: 1,
  };
  await tx.db.insertInto('grants').values(grant).execute();
  tx.audit({
    actor: { type: 'user', id: voter.id },
    event: 'grant.created',
    actionId: row.id,
    data: {
      grant_id: grant.id,
      agent_id: grant.agent_id,
      session_id: grant.session_id,
      tool: grant.tool,
      match,
      expires_at: new Date(grant.expires_at).toISOString(),
      max_uses: grant.max_uses,
    },
  });
  return grant;
}
