import type { Kysely } from 'kysely';
import type { ActionsTable, DB } from '../../db/types.js';
import { type PolicyInput, withAnnotationDefaults } from '../../policy/cel-env.js';
import type { CompiledPolicy } from '../../policy/compile-policy.js';
import type { AgentPrincipal } from '../identities/principal.js';
import type { ProposeActionBody } from './schemas.js';

/**
 * What policy conditions see of a new proposal. Everything here came from the agent except `agent`, `now` and
 * `annotations_trusted`, which the policy in force decides (the operator's `trust_annotations`).
 */
export function policyInputFromProposal(input: ProposeActionBody, agent: AgentPrincipal, now: number, policy: CompiledPolicy): PolicyInput {
  return {
    tool: input.tool,
    arguments: input.arguments,
    resource: input.resource ?? null,
    annotations: withAnnotationDefaults(input.annotations ?? {}),
    annotations_trusted: policy.trustsAnnotations(agent.name, input.resource ?? null),
    agent: { name: agent.name, owner: agent.ownerEmail, labels: agent.labels },
    on_behalf_of: input.on_behalf_of?.toLowerCase() ?? null,
    session_id: input.session_id ?? null,
    purpose: input.purpose ?? null,
    metadata: input.metadata ?? {},
    now: new Date(now),
  };
}

/**
 * The same view of a stored action (arguments as they are now, edits included), for stage conditions. Trust in
 * annotations is the one decided at proposal (kept in the decision record), as the workflow itself is frozen then.
 */
export async function policyInputFromRow(db: Kysely<DB>, row: ActionsTable, now: number): Promise<PolicyInput> {
  const agent = await db
    .selectFrom('agents as a')
    .leftJoin('users as o', 'o.id', 'a.owner_id')
    .select(['a.labels', 'o.email'])
    .where('a.id', '=', row.agent_id)
    .executeTakeFirst();
  return {
    tool: row.tool,
    arguments: JSON.parse(row.arguments) as Record<string, unknown>,
    resource: row.resource,
    annotations: withAnnotationDefaults(JSON.parse(row.annotations) as Record<string, unknown>),
    annotations_trusted: (JSON.parse(row.policy) as { annotations_trusted?: unknown }).annotations_trusted === true,
    agent: { name: row.agent_name, owner: agent?.email ?? '', labels: JSON.parse(agent?.labels ?? '{}') as Record<string, string> },
    on_behalf_of: row.on_behalf_of,
    session_id: row.session_id,
    purpose: row.purpose,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    now: new Date(now),
  };
}
