import { PreparedQuery } from '../../db/prepared.js';
import { ACTION_COLUMNS, type ActionsTable } from '../../db/types.js';
import type { Deps } from '../../deps.js';
import { canonicalJson, sha256Hex } from '../../lib/canonical.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';
import { decideInitial } from './initial-decision.js';
import { checkArguments } from './limits.js';
import { type ActionView, ProposeActionBody } from './schemas.js';
import { eventForStatus } from './status.js';
import { loadActionView, toActionView } from './view.js';

export interface ProposeResult {
  action: ActionView;
  /** false when an Idempotency-Key matched an earlier identical proposal. */
  created: boolean;
}

// The hot write of the gateway: compiled once (see PreparedQuery).
const insertAction = new PreparedQuery<ActionsTable, unknown>((db, p) =>
  db.insertInto('actions').values(Object.fromEntries(ACTION_COLUMNS.map((c) => [c, p(c)])) as never),
);

const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** An agent proposes an action: validate, decide by policy, store it with its audit entry and events in one transaction. */
export async function proposeAction(deps: Deps, principal: Principal, body: unknown, idempotencyKey?: string): Promise<ProposeResult> {
  if (principal.type !== 'agent') throw new CsError('forbidden', 'only agent keys can propose actions');
  const input = parseInput(ProposeActionBody, body);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_RE.test(idempotencyKey)) {
    throw new CsError('invalid_request', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
  const argsText = checkArguments(deps.config, 'arguments', input.arguments);
  if (input.metadata) checkArguments(deps.config, 'metadata', input.metadata);
  // Annotations are loose (unknown keys pass through), so they need the same bounds before they are hashed and stored.
  if (input.annotations) checkArguments(deps.config, 'annotations', input.annotations);
  // Only needed to tell a replay from a different request under the same Idempotency-Key.
  const requestHash = idempotencyKey === undefined ? null : sha256Hex(canonicalJson(input));
  const onBehalfOf = input.on_behalf_of?.toLowerCase() ?? null;

  const attempt = () =>
    deps.committer.run(async (tx) => {
      if (idempotencyKey !== undefined) {
        const prior = await findByIdempotencyKey(tx.db, principal.id, idempotencyKey, requestHash as string);
        if (prior) return { action: prior, created: false };
      }
      if (input.parent_id) {
        const parent = await tx.db.selectFrom('actions').select('id').where('id', '=', input.parent_id).executeTakeFirst();
        if (!parent) throw new CsError('not_found', `parent action ${input.parent_id} does not exist`);
      }
      const decision = decideInitial(deps.config, input, tx.now);
      const status = decision.effect === 'allow' ? 'approved' : 'pending';
      const row = {
        id: newId(),
        agent_id: principal.id,
        agent_name: principal.name,
        agent_owner_id: principal.ownerId,
        tool: input.tool,
        arguments: argsText,
        original_arguments: null,
        resource: input.resource ?? null,
        purpose: input.purpose ?? null,
        on_behalf_of: onBehalfOf,
        session_id: input.session_id ?? null,
        parent_id: input.parent_id ?? null,
        annotations: JSON.stringify(input.annotations ?? {}),
        metadata: JSON.stringify(input.metadata ?? {}),
        status,
        version: 1,
        policy: JSON.stringify({ rule: decision.rule, effect: decision.effect, workflow: decision.workflow }),
        idempotency_key: idempotencyKey ?? null,
        request_hash: requestHash,
        created_at: tx.now,
        updated_at: tx.now,
        expires_at: decision.expiresAt,
        decided_at: status === 'approved' ? tx.now : null,
        decided_by_type: status === 'approved' ? 'policy' : null,
        decided_by_id: null,
        decided_by_label: status === 'approved' ? decision.rule : null,
        reason: null,
        result_outcome: null,
        result_output: null,
        result_at: null,
      };
      await insertAction.execute(tx.db, row);
      const view = toActionView(row, []);
      const actor = { type: 'agent' as const, id: principal.id };
      tx.audit({
        actor,
        event: 'action.created',
        actionId: row.id,
        data: {
          tool: row.tool,
          arguments: input.arguments,
          resource: row.resource,
          on_behalf_of: onBehalfOf,
          session_id: row.session_id,
          parent_id: row.parent_id,
          policy: { rule: decision.rule, effect: decision.effect, workflow: decision.workflow },
          status,
          ...(requestHash ? { request_hash: requestHash } : {}),
        },
      });
      if (status === 'approved') {
        tx.audit({
          actor: { type: 'system', id: null },
          event: 'action.approved',
          actionId: row.id,
          data: { by: 'policy', rule: decision.rule },
        });
      }
      const scope = { actionId: row.id, agentId: principal.id, sessionId: row.session_id };
      tx.emit({ type: 'action.created', ...scope, data: view });
      tx.emit({ type: eventForStatus(status), ...scope, data: view });
      return { action: view, created: true };
    });

  try {
    const result = await attempt();
    deps.metrics.actionsCreated.inc({ status: result.action.status });
    return result;
  } catch (e) {
    // Another process inserted the same idempotency key between our check and insert.
    if (idempotencyKey !== undefined && deps.db.caps.isUniqueViolation((e as CsError).cause)) {
      const prior = await findByIdempotencyKey(deps.db.read, principal.id, idempotencyKey, requestHash as string);
      if (prior) return { action: prior, created: false };
    }
    throw e;
  }
}

async function findByIdempotencyKey(
  db: Deps['db']['read'],
  agentId: string,
  key: string,
  requestHash: string,
): Promise<ActionView | undefined> {
  const prior = await db
    .selectFrom('actions')
    .select(['id', 'request_hash'])
    .where('agent_id', '=', agentId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  if (!prior) return undefined;
  if (prior.request_hash !== requestHash) {
    throw new CsError('idempotency_conflict', `Idempotency-Key "${key}" was already used for a different request (action ${prior.id})`, {
      details: { action_id: prior.id },
    });
  }
  return loadActionView(db, prior.id);
}
