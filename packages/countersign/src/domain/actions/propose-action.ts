import type { Context } from '@opentelemetry/api';
import type { Deps } from '../../deps.js';
import { canonicalJson, sha256Hex } from '../../lib/canonical.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { evaluatePolicy } from '../../policy/evaluate.js';
import { ProposeSpans } from '../../telemetry/propose-spans.js';
import type { TraceHeaders } from '../../telemetry/trace-context.js';
import type { AgentPrincipal, Principal } from '../identities/principal.js';
import { issueReceipt } from '../receipts/issue-receipt.js';
import { parseInput } from '../validate.js';
import { createAction, type Proposal } from './create-action.js';
import { checkArguments } from './limits.js';
import { policyInputFromProposal } from './policy-input.js';
import { type ActionView, ProposeActionBody } from './schemas.js';
import { loadActionView } from './view.js';

export interface ProposeResult {
  action: ActionView;
  /** false when an Idempotency-Key matched an earlier identical proposal. */
  created: boolean;
}

const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

export function requireAgent(principal: Principal): AgentPrincipal {
  if (principal.type !== 'agent') throw new CsError('forbidden', 'only agent keys can propose actions');
  return principal;
}

/** Validates a proposal and decides it by the policy in force; nothing is written yet. */
export function prepareProposal(
  deps: Deps,
  agent: AgentPrincipal,
  body: unknown,
  idempotencyKey: string | undefined,
  opts: { batchId?: string | null; redeem?: boolean; trace?: TraceHeaders | undefined } = {},
): Proposal {
  const input = parseInput(ProposeActionBody, body);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_RE.test(idempotencyKey)) {
    throw new CsError('invalid_request', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
  const argsText = checkArguments(deps.config, 'arguments', input.arguments);
  if (input.metadata) checkArguments(deps.config, 'metadata', input.metadata);
  // Annotations are loose (unknown keys pass through), so they need the same bounds before they are hashed and stored.
  if (input.annotations) checkArguments(deps.config, 'annotations', input.annotations);
  const policy = deps.policy.current;
  const policyInput = policyInputFromProposal(input, agent, deps.clock.now(), policy.compiled);
  const decision = evaluatePolicy(policy.compiled, policyInput);
  if (decision.errors.length > 0) deps.metrics.policyErrors.inc(decision.errors.length);
  return {
    id: newId(),
    input,
    argsText,
    onBehalfOf: input.on_behalf_of?.toLowerCase() ?? null,
    idempotencyKey: idempotencyKey ?? null,
    // Only needed to tell a replay from a different request under the same Idempotency-Key.
    requestHash: idempotencyKey === undefined ? null : sha256Hex(canonicalJson(input)),
    decision,
    policyHash: policy.hash,
    workflow: decision.effect === 'review' ? (policy.workflows.get(decision.workflow ?? 'default') ?? null) : null,
    policyInput,
    batchId: opts.batchId ?? null,
    redeem: opts.redeem === true,
    signer: deps,
    trace: opts.trace,
  };
}

/**
 * An agent proposes an action: validate, decide by policy, store it with its audit entry and events in one transaction.
 * With `redeem`, an action approved at once is also redeemed in that transaction (see createAction), which saves
 * the executor a second request and a second durable write on every allowed call.
 */
export async function proposeAction(
  deps: Deps,
  principal: Principal,
  body: unknown,
  idempotencyKey?: string,
  /** `trace`: the request's trace context, given only when tracing is on (telemetry/propose-spans.ts). */
  opts: { redeem?: boolean; trace?: Context | undefined } = {},
): Promise<ProposeResult> {
  const agent = requireAgent(principal);
  const spans = opts.trace ? new ProposeSpans(deps.tracing.tracer, opts.trace) : undefined;
  spans?.begin('countersign.policy');
  let p: Proposal | undefined;
  try {
    p = prepareProposal(deps, agent, body, idempotencyKey, { redeem: opts.redeem === true, trace: spans?.headers });
    if (p.decision.effect === 'allow') spans?.begin('countersign.sign');
    p = await presign(deps, agent, p);
    spans?.begin('countersign.commit');
    const result = await deps.committer.run((tx) => writeProposal(tx, agent, p as Proposal));
    if (result.created) deps.metrics.actionsCreated.inc({ status: result.action.status });
    spans?.done(result.action, result.created);
    return result;
  } catch (e) {
    const prior = p ? await afterUniqueClash(deps, agent, p, e) : undefined;
    if (prior) {
      spans?.done(prior, false);
      return { action: prior, created: false };
    }
    spans?.fail(e);
    throw e;
  }
}

/**
 * An action the policy allows outright gets its receipt signed here, before
 * the transaction, so the group commit's transaction (which holds the write
 * lock) does not also carry ~66 µs of Ed25519 per action. (Signing on a
 * worker thread was measured and cost more in messaging than it saved.)
 */
export async function presign(deps: Deps, agent: AgentPrincipal, p: Proposal): Promise<Proposal> {
  if (p.decision.effect !== 'allow') return p;
  const row = {
    id: p.id,
    agent_id: agent.id,
    tool: p.input.tool,
    arguments: p.argsText,
    resource: p.input.resource ?? null,
    policy: JSON.stringify({ hash: p.policyHash }),
  };
  const preissued = await issueReceipt({ now: deps.clock.now() }, deps, row, { type: 'policy', id: null, label: p.decision.rule }, []);
  return { ...p, preissued };
}

/** The transactional part, shared with batches: an idempotent replay returns the earlier action. */
export async function writeProposal(tx: Parameters<typeof createAction>[0], agent: AgentPrincipal, p: Proposal): Promise<ProposeResult> {
  if (p.idempotencyKey !== null) {
    const prior = await findByIdempotencyKey(tx.db, agent.id, p.idempotencyKey, p.requestHash as string);
    if (prior) return { action: prior, created: false };
  }
  let rootId: string | null = null;
  if (p.input.parent_id) {
    const parent = await tx.db.selectFrom('actions').select(['id', 'root_id']).where('id', '=', p.input.parent_id).executeTakeFirst();
    if (!parent) throw new CsError('not_found', `parent action ${p.input.parent_id} does not exist`);
    rootId = parent.root_id ?? parent.id;
  }
  return { action: await createAction(tx, agent, p, rootId), created: true };
}

/** Another process inserted the same idempotency key between our check and insert: answer with its action. */
export async function afterUniqueClash(deps: Deps, agent: AgentPrincipal, p: Proposal, e: unknown): Promise<ActionView | undefined> {
  if (p.idempotencyKey === null || !deps.db.caps.isUniqueViolation((e as CsError).cause)) return undefined;
  return findByIdempotencyKey(deps.db.read, agent.id, p.idempotencyKey, p.requestHash as string);
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
