import { ErrorBody } from '../../domain/actions/schemas.js';
import { evaluateAction } from '../../domain/policy/evaluate-action.js';
import { EvaluatePolicyBody, PolicyEvaluation, PolicyReplay, ReplayPolicyBody } from '../../domain/policy/evaluate-schemas.js';
import { replayCandidate } from '../../domain/policy/replay-candidate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = {
  400: err('Invalid request, or the candidate policy was refused (`issues` names every problem)'),
  401: err('Missing or bad credentials'),
  403: err('Not an admin'),
};

/** Trying a policy out: decide one action, or replay recent ones, under the active policy or a candidate. Nothing is written. */
export const policyPlaygroundRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/policy/evaluate',
    operationId: 'evaluatePolicy',
    summary: 'Decide an action as a proposal would be decided, under the active policy or a candidate; creates nothing (admins)',
    tags: ['policy'],
    auth: 'admin',
    body: EvaluatePolicyBody,
    responses: { 200: { description: 'The decision and the rule that made it', schema: PolicyEvaluation }, ...common },
    handler: async ({ deps, body }) => evaluateAction(deps, body),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/policy/replay',
    operationId: 'replayPolicy',
    summary: 'Re-decide the latest actions under a candidate policy and say which decisions would change; writes nothing (admins)',
    tags: ['policy'],
    auth: 'admin',
    body: ReplayPolicyBody,
    responses: { 200: { description: 'What would change', schema: PolicyReplay }, ...common },
    handler: async ({ deps, body }) => replayCandidate(deps, body),
  }),
];
