// The console's typed client (packages/console/src/api/types.ts) is the gateway's wire contract as the
// console reads it. These checks fail `npm run typecheck` when the console's types and the gateway's zod
// schemas (from which /openapi.json is generated) drift apart; Action itself is the SDK's, held to the
// gateway by the SDK's contract test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { ActionSummary, Inbox, InboxEntry, InboxItem, InboxQuery } from '../../countersign/src/domain/actions/inbox-schemas.js';
import {
  ActionSummary as ActionSummarySchema,
  InboxEntry as InboxEntrySchema,
  InboxItem as InboxItemSchema,
  Inbox as InboxSchema,
} from '../../countersign/src/domain/actions/inbox-schemas.js';
import type { ReviewBody } from '../../countersign/src/domain/actions/schemas.js';
import type { SignInBody } from '../../countersign/src/domain/identities/passwords/sign-in.js';
import type { SignedIn } from '../../countersign/src/domain/identities/sessions/schemas.js';
import { ROUTES } from '../../countersign/src/http/server.js';
import type * as Console from '../src/api/types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;

// What the gateway sends, the console reads as declared, field for field.
check<Same<keyof Console.Inbox, keyof Inbox>>(true);
check<Inbox extends Console.Inbox ? true : false>(true);
check<Same<keyof Console.InboxEntry, keyof InboxEntry>>(true);
check<InboxEntry extends Console.InboxEntry ? true : false>(true);
check<Same<keyof Console.ActionSummary, keyof ActionSummary>>(true);
check<ActionSummary extends Console.ActionSummary ? true : false>(true);
check<Same<keyof Console.InboxItem, keyof InboxItem>>(true);
check<InboxItem extends Console.InboxItem ? true : false>(true);
check<Same<keyof Console.SignedIn, keyof z.output<typeof SignedIn>>>(true);
check<z.output<typeof SignedIn> extends Console.SignedIn ? true : false>(true);
// What the console sends is accepted as-is.
check<Console.SignInInput extends z.input<typeof SignInBody> ? true : false>(true);
check<Console.ReviewInput extends z.input<typeof ReviewBody> ? true : false>(true);
check<Console.InboxFilter extends z.input<typeof InboxQuery> ? true : false>(true);

test('the console’s inbox types name exactly the fields of the gateway’s schemas', () => {
  const inbox: Record<keyof Console.Inbox, true> = { need_you: true, waiting_on_others: true, items: true };
  const item: Record<keyof Console.InboxItem, true> = { action: true, owner: true, can_decide: true, why_not: true, may_vote_for: true };
  assert.deepEqual(Object.keys(inbox).sort(), Object.keys(InboxSchema.shape).sort());
  assert.deepEqual(Object.keys(item).sort(), Object.keys(InboxItemSchema.shape).sort());
  assert.deepEqual(Object.keys(item).sort(), Object.keys(InboxEntrySchema.shape).sort());
  const summary: Record<keyof Console.ActionSummary, true> = {
    id: true,
    status: true,
    version: true,
    tool: true,
    edited: true,
    resource: true,
    purpose: true,
    on_behalf_of: true,
    session_id: true,
    parent_id: true,
    root_id: true,
    agent: true,
    policy: true,
    workflow: true,
    grant_id: true,
    batch_id: true,
    execute_by: true,
    redeemed_at: true,
    created_at: true,
    updated_at: true,
    expires_at: true,
    decided_at: true,
    decided_by: true,
    reason: true,
    arguments_bytes: true,
  };
  assert.deepEqual(Object.keys(summary).sort(), Object.keys(ActionSummarySchema.shape).sort());
});

test('every path the console’s client calls is a route of the gateway', () => {
  const routes = new Set(ROUTES.map((r) => `${r.method} ${r.url}`));
  for (const call of [
    'GET /v1/me',
    'GET /v1/auth/methods',
    'POST /v1/auth/login',
    'POST /v1/auth/login/passkey',
    'POST /v1/me/reauthenticate/passkey/options',
    'POST /v1/me/reauthenticate/passkey/verify',
    'POST /v1/auth/logout',
    'GET /v1/inbox',
    'GET /v1/inbox/:id',
    'POST /v1/actions/:id/reviews',
    'GET /v1/auth/oidc/login',
    'GET /v1/events',
  ]) {
    assert.ok(routes.has(call), call);
  }
});
