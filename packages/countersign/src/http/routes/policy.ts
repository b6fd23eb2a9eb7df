import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';
import { applyPolicy, documentOfBody } from '../../domain/policy/apply-policy.js';
import { getPolicy } from '../../domain/policy/get-policy.js';
import { listPolicyVersions } from '../../domain/policy/list-policy-versions.js';
import { rollbackPolicy } from '../../domain/policy/rollback-policy.js';
import {
  ActivePolicyView,
  ApplyPolicyBody,
  PolicyChange,
  PolicyDocumentView,
  PolicyVersionParams,
  PolicyVersionView,
  RollbackPolicyBody,
} from '../../domain/policy/schemas.js';
import { parseInput } from '../../domain/validate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 401: err('Missing or bad API key'), 403: err('Not an admin') };

/** The policy decides for every agent, so only admins read its history or change it (routes declare `auth: 'admin'`). */
function asActor(p: UserPrincipal): { actor: Actor; label: string } {
  return { actor: { type: 'user', id: p.id }, label: p.email };
}

export const policyRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/policy',
    operationId: 'getPolicy',
    summary: 'The active policy version and its document, and what this node decides with (admins)',
    tags: ['policy'],
    auth: 'admin',
    responses: { 200: { description: 'The active version', schema: ActivePolicyView }, ...common, 404: err('No version yet') },
    handler: async ({ deps }) => getPolicy(deps),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/policy/versions',
    operationId: 'listPolicyVersions',
    summary: 'Every policy version, newest first (admins)',
    tags: ['policy'],
    auth: 'admin',
    responses: {
      200: {
        description: 'History',
        schema: z.object({ active_version: z.number().int().nullable(), items: z.array(PolicyVersionView) }),
      },
      ...common,
    },
    handler: async ({ deps }) => listPolicyVersions(deps),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/policy/versions/:version',
    operationId: 'getPolicyVersion',
    summary: 'One policy version with its document (admins)',
    tags: ['policy'],
    auth: 'admin',
    params: PolicyVersionParams,
    responses: { 200: { description: 'The version', schema: PolicyDocumentView }, ...common, 404: err('No such version') },
    handler: async ({ deps, params }) => {
      const { serving: _, ...version } = await getPolicy(deps, params.version);
      return version;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/policy/versions',
    operationId: 'applyPolicy',
    summary: 'Apply a policy document as the new version every node decides with (admins)',
    tags: ['policy'],
    auth: 'admin',
    body: ApplyPolicyBody,
    responses: {
      201: { description: 'A new version is active', schema: PolicyChange },
      200: { description: 'The document compiles to the active version; nothing was written', schema: PolicyChange },
      400: err('The document was refused; `issues` names every problem'),
      ...common,
      409: err('expected_version is no longer the active version'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const { actor, label } = asActor(principal);
      const { document, body: parsed } = documentOfBody(body);
      const change = await applyPolicy(deps, actor, label, { document, note: parsed.note, expectedVersion: parsed.expected_version });
      reply.code(change.changed ? 201 : 200);
      return change;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/policy/rollback',
    operationId: 'rollbackPolicy',
    summary: "Make an earlier version's document active again, as a new version (admins)",
    tags: ['policy'],
    auth: 'admin',
    body: RollbackPolicyBody,
    responses: {
      201: { description: 'A new version is active', schema: PolicyChange },
      200: { description: 'That document is already active; nothing was written', schema: PolicyChange },
      400: err('Invalid request'),
      ...common,
      404: err('No such version'),
      409: err('expected_version is no longer the active version'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const { actor, label } = asActor(principal);
      const input = parseInput(RollbackPolicyBody, body, 'request body');
      const change = await rollbackPolicy(deps, actor, label, {
        version: input.version,
        note: input.note,
        expectedVersion: input.expected_version,
      });
      reply.code(change.changed ? 201 : 200);
      return change;
    },
  }),
];
