import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { findUser } from '../../domain/identities/lookup.js';
import { finishReauthentication } from '../../domain/identities/passkeys/finish-reauthentication.js';
import { finishRegistration } from '../../domain/identities/passkeys/finish-registration.js';
import { listPasskeys } from '../../domain/identities/passkeys/list-passkeys.js';
import { removePasskey } from '../../domain/identities/passkeys/remove-passkey.js';
import { renamePasskey } from '../../domain/identities/passkeys/rename-passkey.js';
import {
  AdminPasskeyParams,
  CreationOptions,
  PasskeyParams,
  PasskeyView,
  ReauthenticateBody,
  Reauthenticated,
  RegisterPasskeyBody,
  RenamePasskeyBody,
  RequestOptions,
} from '../../domain/identities/passkeys/schemas.js';
import { requireRecentSignIn } from '../../domain/identities/passkeys/session-of.js';
import { startReauthentication } from '../../domain/identities/passkeys/start-reauthentication.js';
import { startRegistration } from '../../domain/identities/passkeys/start-registration.js';
import { UserParams } from '../../domain/identities/schemas.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { actorOf } from './admin-people.js';

const err = (description: string) => ({ description, schema: ErrorBody });
const mine = {
  400: err('Invalid request, or not a browser session (passkeys are managed from a browser)'),
  401: err('Not signed in'),
  403: err('Agents have no passkeys; or cross-site, or without the CSRF token'),
};
const recent = err('Not a browser session; or cross-site; or `reauthentication_required`: sign in again first (too long since sign-in)');
const Removed = z.object({ id: z.string(), remaining: z.number().int().describe('passkeys left; 0 turns the second factor off') });
const ADMIN_ONLY = 'only an admin may administer people and groups';

export const passkeyRoutes: RouteSpec[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/me/passkeys/options',
    operationId: 'startPasskeyRegistration',
    summary: 'Start adding a passkey: options for navigator.credentials.create() (needs a recent sign-in)',
    tags: ['auth'],
    auth: 'person',
    responses: { 200: { description: 'Creation options', schema: CreationOptions }, ...mine, 403: recent },
    handler: async ({ deps, principal }) => startRegistration(deps, principal),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/passkeys',
    operationId: 'registerPasskey',
    summary: "Finish adding a passkey: the browser's credential; from now on sign-in asks for a passkey after the password",
    tags: ['auth'],
    auth: 'person',
    body: RegisterPasskeyBody,
    responses: {
      201: { description: 'Added', schema: PasskeyView },
      ...mine,
      403: recent,
      409: err('The challenge was already used, or this passkey is already registered'),
    },
    handler: async ({ deps, principal, body, reply }) => {
      const out = await finishRegistration(deps, principal, body);
      reply.code(201);
      return out;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/me/passkeys',
    operationId: 'listMyPasskeys',
    summary: "The caller's passkeys, oldest first",
    tags: ['auth'],
    auth: 'person',
    responses: { 200: { description: 'Passkeys', schema: z.object({ items: z.array(PasskeyView) }) }, ...mine },
    handler: async ({ deps, principal }) => ({ items: await listPasskeys(deps, principal.id) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/passkeys/:id/rename',
    operationId: 'renameMyPasskey',
    summary: 'Rename one of your passkeys',
    tags: ['auth'],
    auth: 'person',
    params: PasskeyParams,
    body: RenamePasskeyBody,
    responses: {
      200: { description: 'Renamed', schema: PasskeyView },
      ...mine,
      404: err('No such passkey of yours'),
      409: err('Changed meanwhile'),
    },
    handler: async ({ deps, principal, params, body }) => renamePasskey(deps, principal, params.id, body),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/passkeys/:id/remove',
    operationId: 'removeMyPasskey',
    summary: 'Remove one of your passkeys (needs a recent sign-in); removing the last turns the second factor off',
    tags: ['auth'],
    auth: 'person',
    params: PasskeyParams,
    responses: {
      200: { description: 'Removed', schema: Removed },
      ...mine,
      403: recent,
      404: err('No such passkey of yours'),
      409: err('Removed meanwhile'),
    },
    handler: async ({ deps, principal, params }) => {
      await requireRecentSignIn(deps, principal, 'removing a passkey');
      return removePasskey(deps, { type: 'user', id: principal.id }, principal.id, params.id);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/reauthenticate/passkey/options',
    operationId: 'startPasskeyReauthentication',
    summary: 'Start re-authenticating this session with a passkey (for step-up stages): options for navigator.credentials.get()',
    tags: ['auth'],
    auth: 'person',
    responses: { 200: { description: 'Request options', schema: RequestOptions }, ...mine },
    handler: async ({ deps, principal }) => startReauthentication(deps, principal),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/me/reauthenticate/passkey/verify',
    operationId: 'finishPasskeyReauthentication',
    summary: "Finish re-authenticating: the passkey's assertion; the session counts as strongly authenticated from now",
    tags: ['auth'],
    auth: 'person',
    body: ReauthenticateBody,
    responses: {
      200: { description: 'Re-authenticated', schema: Reauthenticated },
      ...mine,
      403: err('The passkey was not accepted; or cross-site, or without the CSRF token'),
      409: err('The challenge was already used'),
      429: err('Too many failed sign-ins for this account or address'),
    },
    handler: async ({ deps, principal, body, request }) => finishReauthentication(deps, principal, body, request.ip),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/admin/users/:user/passkeys',
    operationId: 'adminListPasskeys',
    summary: "A person's passkeys (by email or id)",
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: UserParams,
    responses: {
      200: { description: 'Passkeys', schema: z.object({ items: z.array(PasskeyView) }) },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person'),
    },
    handler: async ({ deps, params }) => ({ items: await listPasskeys(deps, (await findUser(deps.db.read, params.user)).id) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/admin/users/:user/passkeys/:id/remove',
    operationId: 'adminRemovePasskey',
    summary: "Remove a person's passkey (a lost device); removing the last turns their second factor off",
    tags: ['admin'],
    auth: 'admin',
    refusal: ADMIN_ONLY,
    params: AdminPasskeyParams,
    responses: {
      200: { description: 'Removed', schema: Removed },
      400: err('Invalid request'),
      401: err('Not authenticated'),
      403: err('Not an admin'),
      404: err('No such person or passkey'),
      409: err('Removed meanwhile'),
    },
    handler: async ({ deps, principal, params }) => {
      const user = await findUser(deps.db.read, params.user);
      return removePasskey(deps, actorOf(principal), user.id, params.id);
    },
  }),
];
