import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { addAgent } from '../../domain/identities/add-agent.js';
import { disableAgent } from '../../domain/identities/disable-agent.js';
import { enableAgent } from '../../domain/identities/enable-agent.js';
import { issueKey } from '../../domain/identities/issue-key.js';
import { listAgents } from '../../domain/identities/list-agents.js';
import { listKeys } from '../../domain/identities/list-keys.js';
import { findAgent } from '../../domain/identities/lookup.js';
import { revokeKey } from '../../domain/identities/revoke-key.js';
import {
  AgentAdminView,
  AgentParams,
  CreateAgentBody,
  DisableAgentBody,
  IssuedKeyView,
  IssueKeyBody,
  KeyParams,
  KeyView,
  ListKeysQuery,
} from '../../domain/identities/schemas.js';
import { parseInput } from '../../domain/validate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { actorOf } from './admin-people.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Not authenticated'), 403: err('Not an admin') };
const ADMIN_ONLY = 'only an admin may administer agents and keys';

export const adminAgentRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/agents',
    operationId: 'adminListAgents',
    summary: 'Every agent with its owner, labels, state and usable keys',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    responses: { 200: { description: 'Agents', schema: z.object({ items: z.array(AgentAdminView) }) }, ...common },
    handler: async ({ deps }) => ({ items: await listAgents(deps) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/agents',
    operationId: 'adminCreateAgent',
    summary: 'Register an agent owned by an existing person, with its first key (returned once)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    body: CreateAgentBody,
    responses: {
      201: { description: 'Created', schema: z.object({ agent: AgentAdminView, key: IssuedKeyView }) },
      ...common,
      404: err('No such owner'),
      409: err('An agent with this name exists'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const made = await addAgent(deps, actorOf(principal), parseInput(CreateAgentBody, body));
      reply.code(201);
      const [agent] = await listAgents(deps, made.id);
      return { agent, key: { api_key: made.apiKey, key_prefix: made.keyPrefix } };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/agents/:agent/disable',
    operationId: 'adminDisableAgent',
    summary: 'Stop an agent: keys refused, held requests ended, its pending actions cancelled',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: AgentParams,
    body: DisableAgentBody,
    responses: {
      200: {
        description: 'The agent and the actions withdrawn',
        schema: z.object({ agent: AgentAdminView, cancelled: z.array(z.string()) }),
      },
      ...common,
      404: err('No such agent'),
      409: err('Already disabled'),
    },
    handler: async ({ deps, principal, params, body }) => {
      const { reason } = parseInput(DisableAgentBody, body ?? {});
      const r = await disableAgent(deps, actorOf(principal), params.agent, reason);
      const [agent] = await listAgents(deps, r.id);
      return { agent, cancelled: r.cancelled };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/agents/:agent/enable',
    operationId: 'adminEnableAgent',
    summary: 'Undo a disable (cancelled actions stay cancelled)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: AgentParams,
    responses: {
      200: { description: 'The agent', schema: AgentAdminView },
      ...common,
      404: err('No such agent'),
      409: err('Not disabled'),
    },
    handler: async ({ deps, principal, params }) => {
      const r = await enableAgent(deps, actorOf(principal), params.agent);
      const [agent] = await listAgents(deps, r.id);
      return agent;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/agents/:agent/keys',
    operationId: 'adminIssueAgentKey',
    summary: 'Issue another key to an agent (rotation; returned once)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: AgentParams,
    body: IssueKeyBody,
    responses: { 201: { description: 'The key', schema: IssuedKeyView }, ...common, 404: err('No such agent'), 409: err('Disabled') },
    handler: async ({ deps, principal, params, body, reply }) => {
      const { label } = parseInput(IssueKeyBody, body ?? {});
      // By id: an agent name could look like an email to issueKey's "for".
      const agent = await findAgent(deps.db.read, params.agent);
      const k = await issueKey(deps, actorOf(principal), { for: agent.id, ...(label ? { label } : {}) });
      reply.code(201);
      return { api_key: k.apiKey, key_prefix: k.keyPrefix };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/keys',
    operationId: 'adminListKeys',
    summary: 'API keys (public prefixes only), oldest first',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    query: ListKeysQuery,
    responses: {
      200: { description: 'Keys', schema: z.object({ items: z.array(KeyView) }) },
      ...common,
      404: err('No such person or agent'),
    },
    handler: async ({ deps, query }) => ({ items: await listKeys(deps, query.of) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/keys/:prefix/revoke',
    operationId: 'adminRevokeKey',
    summary: 'Revoke a key: refused on the next request, its held requests ended',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: KeyParams,
    responses: {
      200: { description: 'The revoked key', schema: z.object({ prefix: z.string(), remaining_keys: z.number().int() }) },
      ...common,
      404: err('No such key'),
      409: err('Already revoked'),
    },
    handler: async ({ deps, principal, params }) => {
      const r = await revokeKey(deps, actorOf(principal), params.prefix);
      return { prefix: r.prefix, remaining_keys: r.remainingKeys };
    },
  }),
];
