import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { addPerson, addUser } from '../../domain/identities/add-user.js';
import { createGroup } from '../../domain/identities/create-group.js';
import { disableUser } from '../../domain/identities/disable-user.js';
import { enableUser } from '../../domain/identities/enable-user.js';
import { issueKey } from '../../domain/identities/issue-key.js';
import { listGroups } from '../../domain/identities/list-groups.js';
import { listUsers } from '../../domain/identities/list-users.js';
import { findUser } from '../../domain/identities/lookup.js';
import type { UserPrincipal } from '../../domain/identities/principal.js';
import {
  CreateGroupBody,
  CreatePersonBody,
  GroupView,
  IssuedKeyView,
  IssueKeyBody,
  PersonView,
  SetGroupsBody,
  SetRoleBody,
  UserParams,
} from '../../domain/identities/schemas.js';
import { setUserGroups } from '../../domain/identities/set-user-groups.js';
import { setUserRole } from '../../domain/identities/set-user-role.js';
import { parseInput } from '../../domain/validate.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const common = { 400: err('Invalid request'), 401: err('Not authenticated'), 403: err('Not an admin') };
const ADMIN_ONLY = 'only an admin may administer people and groups';

/** Audit entries name the admin who made the change. */
export const actorOf = (p: UserPrincipal): Actor => ({ type: 'user', id: p.id });

/** The person as the admin API shows them, read after the change committed. */
async function personView(deps: Deps, id: string) {
  const [row] = await listUsers(deps, id);
  return row;
}

export const adminPeopleRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/admin/users',
    operationId: 'adminListUsers',
    summary: 'Every person with their role, groups, state and usable keys',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    responses: { 200: { description: 'People', schema: z.object({ items: z.array(PersonView) }) }, ...common },
    handler: async ({ deps }) => ({ items: await listUsers(deps) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users',
    operationId: 'adminCreateUser',
    summary: 'Create a person (no credential unless issue_key; they sign in, or get a key later)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    body: CreatePersonBody,
    responses: {
      201: { description: 'Created', schema: z.object({ user: PersonView, key: IssuedKeyView.nullable() }) },
      ...common,
      409: err('A person with this email exists'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const { issue_key, ...input } = parseInput(CreatePersonBody, body);
      const actor = actorOf(principal);
      let key: { api_key: string; key_prefix: string } | null = null;
      let id: string;
      if (issue_key) {
        const made = await addUser(deps, actor, input);
        key = { api_key: made.apiKey, key_prefix: made.keyPrefix };
        id = made.id;
      } else {
        id = (await addPerson(deps, actor, input)).id;
      }
      reply.code(201);
      return { user: await personView(deps, id), key };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/role',
    operationId: 'adminSetUserRole',
    summary: 'Change a person’s role (the last enabled admin cannot be demoted)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: SetRoleBody,
    responses: {
      200: { description: 'The person', schema: PersonView },
      ...common,
      404: err('No such person'),
      409: err('Already this role, or the last enabled admin'),
    },
    handler: async ({ deps, principal, params, body }) => {
      const { role } = parseInput(SetRoleBody, body);
      const user = await findUser(deps.db.read, params.user);
      await setUserRole(deps, actorOf(principal), { email: user.email, role });
      return personView(deps, user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/groups',
    operationId: 'adminSetUserGroups',
    summary: 'Replace a person’s groups (groups not seen before are created)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: SetGroupsBody,
    responses: {
      200: { description: 'The person', schema: PersonView },
      ...common,
      404: err('No such person'),
      409: err('Already exactly these groups'),
    },
    handler: async ({ deps, principal, params, body }) => {
      const { groups } = parseInput(SetGroupsBody, body);
      const user = await findUser(deps.db.read, params.user);
      await setUserGroups(deps, actorOf(principal), { email: user.email, groups });
      return personView(deps, user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/disable',
    operationId: 'adminDisableUser',
    summary: 'Offboard a person: keys refused, held requests ended, their grants suspended (the last enabled admin cannot be)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    responses: {
      200: { description: 'The person', schema: PersonView },
      ...common,
      404: err('No such person'),
      409: err('Already disabled, or the last enabled admin'),
    },
    handler: async ({ deps, principal, params }) => {
      const user = await findUser(deps.db.read, params.user);
      await disableUser(deps, actorOf(principal), user.email);
      return personView(deps, user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/enable',
    operationId: 'adminEnableUser',
    summary: 'Undo a disable',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    responses: { 200: { description: 'The person', schema: PersonView }, ...common, 404: err('No such person'), 409: err('Not disabled') },
    handler: async ({ deps, principal, params }) => {
      const user = await findUser(deps.db.read, params.user);
      await enableUser(deps, actorOf(principal), user.email);
      return personView(deps, user.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/keys',
    operationId: 'adminIssueUserKey',
    summary: 'Issue an API key to a person (returned once)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    body: IssueKeyBody,
    responses: { 201: { description: 'The key', schema: IssuedKeyView }, ...common, 404: err('No such person'), 409: err('Disabled') },
    handler: async ({ deps, principal, params, body, reply }) => {
      const { label } = parseInput(IssueKeyBody, body ?? {});
      const user = await findUser(deps.db.read, params.user);
      const k = await issueKey(deps, actorOf(principal), { for: user.email, ...(label ? { label } : {}) });
      reply.code(201);
      return { api_key: k.apiKey, key_prefix: k.keyPrefix };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/groups',
    operationId: 'adminListGroups',
    summary: 'Every group with its members',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    responses: { 200: { description: 'Groups', schema: z.object({ items: z.array(GroupView) }) }, ...common },
    handler: async ({ deps }) => ({ items: await listGroups(deps) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/groups',
    operationId: 'adminCreateGroup',
    summary: 'Create an empty group (workflows and IdP group mappings can name it before anyone is in it)',
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    body: CreateGroupBody,
    responses: { 201: { description: 'Created', schema: GroupView }, ...common, 409: err('A group with this name exists') },
    handler: async ({ deps, principal, body, reply }) => {
      const g = await createGroup(deps, actorOf(principal), parseInput(CreateGroupBody, body));
      reply.code(201);
      return (await listGroups(deps)).find((x) => x.id === g.id);
    },
  }),
];
