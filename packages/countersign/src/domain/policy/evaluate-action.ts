import type { Deps } from '../../deps.js';
import { withAnnotationDefaults } from '../../policy/cel-env.js';
import { parsePolicyDocument } from '../../policy/document.js';
import { evaluatePolicy } from '../../policy/evaluate.js';
import { type LoadedPolicy, loadPolicy } from '../../policy/store.js';
import { checkArguments } from '../actions/limits.js';
import { parseInput } from '../validate.js';
import { EvaluatePolicyBody, type PolicyEvaluation } from './evaluate-schemas.js';

/**
 * A candidate document compiled as `POST /v1/policy/versions` would compile it (refused whole, every problem
 * named, as a 400), but never stored.
 */
export function compileCandidate(deps: Deps, text: string): LoadedPolicy {
  return loadPolicy(parsePolicyDocument(text).sections, deps.config.review.defaultExpiryMs);
}

/**
 * The policy playground: decides an action exactly as a proposal would be decided (the same input, the
 * same engine), against the active policy or a candidate, and writes nothing.
 */
export async function evaluateAction(deps: Deps, body: unknown): Promise<PolicyEvaluation> {
  const { action, candidate } = parseInput(EvaluatePolicyBody, body);
  const args = action.arguments ?? {};
  checkArguments(deps.config, 'action.arguments', args);
  if (action.metadata) checkArguments(deps.config, 'action.metadata', action.metadata);
  if (action.annotations) checkArguments(deps.config, 'action.annotations', action.annotations);
  const policy = candidate === undefined ? deps.policy.current : compileCandidate(deps, candidate);
  const name = action.agent?.name ?? 'playground';
  const registered =
    action.agent?.owner !== undefined && action.agent.labels !== undefined
      ? undefined
      : await deps.db.read
          .selectFrom('agents as a')
          .leftJoin('users as o', 'o.id', 'a.owner_id')
          .select(['a.labels', 'o.email'])
          .where('a.name', '=', name)
          .executeTakeFirst();
  const resource = action.resource ?? null;
  const annotationsTrusted = policy.compiled.trustsAnnotations(name, resource);
  const decision = evaluatePolicy(policy.compiled, {
    tool: action.tool,
    arguments: args,
    resource,
    annotations: withAnnotationDefaults(action.annotations ?? {}),
    annotations_trusted: annotationsTrusted,
    agent: {
      name,
      owner: action.agent?.owner ?? registered?.email ?? '',
      labels: action.agent?.labels ?? (JSON.parse(registered?.labels ?? '{}') as Record<string, string>),
    },
    on_behalf_of: action.on_behalf_of?.toLowerCase() ?? null,
    session_id: action.session_id ?? null,
    purpose: action.purpose ?? null,
    metadata: action.metadata ?? {},
    now: new Date(action.now ?? deps.clock.now()),
  });
  const rule = policy.compiled.rules.find((r) => r.name === decision.rule);
  const workflow = decision.effect === 'review' ? policy.workflows.get(decision.workflow ?? 'default') : undefined;
  return {
    policy: {
      source: candidate === undefined ? 'active' : 'candidate',
      version: candidate === undefined ? deps.policy.version : null,
      hash: policy.hash,
    },
    decision: { ...decision, errors: [...decision.errors] },
    matched: rule === undefined ? null : { name: rule.name, when: rule.when, position: rule.index + 1 },
    default_effect: policy.compiled.default,
    annotations_trusted: annotationsTrusted,
    workflow: workflow === undefined ? null : { name: workflow.name, stages: workflow.stages.length },
  };
}
