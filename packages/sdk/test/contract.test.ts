// The SDK's types are the gateway's wire contract. These checks fail `npm run typecheck` (tsc on this
// file) when the server's zod schemas, from which /openapi.json is generated, and the SDK drift apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { ActionView, EventsQuery, ProposeActionBody, ReviewBody } from '../../countersign/src/domain/actions/schemas.js';
import { ActionView as ActionViewSchema } from '../../countersign/src/domain/actions/schemas.js';
import type { EventType as GatewayEventType, EventPayloads as GatewayPayloads } from '../../countersign/src/events/types.js';
import { EVENT_TYPES as GATEWAY_EVENT_TYPES } from '../../countersign/src/events/types.js';
import { EVENT_TYPES, type EventPayloads, type EventType } from '../src/event-types.js';
import type { EventFilter } from '../src/events.js';
import type { Action, ProposedAction, ReviewInput } from '../src/index.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;

// Every field the gateway sends, the SDK declares, and no other.
check<Same<keyof Action, keyof ActionView>>(true);
// What the gateway sends is a valid SDK Action.
check<ActionView extends Action ? true : false>(true);
// What the SDK proposes and reviews is accepted as-is.
check<ProposedAction extends z.input<typeof ProposeActionBody> ? true : false>(true);
check<ReviewInput extends Omit<z.input<typeof ReviewBody>, 'grant'> ? true : false>(true);
check<Same<keyof Omit<EventFilter, 'types'>, Exclude<keyof z.input<typeof EventsQuery>, 'after'>>>(true);

// The event catalogue: the same types, and for each, the same payload fields and wire-compatible values.
check<Same<EventType, GatewayEventType>>(true);
type PayloadFieldsMatch = { [K in EventType]: Same<keyof EventPayloads[K], keyof GatewayPayloads[K]> }[EventType];
check<Same<PayloadFieldsMatch, true>>(true);
type PayloadsAccepted = { [K in EventType]: GatewayPayloads[K] extends EventPayloads[K] ? true : false }[EventType];
check<Same<PayloadsAccepted, true>>(true);

test('the SDK lists exactly the gateway’s event types, in the same order', () => {
  assert.deepEqual([...EVENT_TYPES], [...GATEWAY_EVENT_TYPES]);
});

test('the SDK Action type names exactly the fields of the gateway’s Action schema', () => {
  const sdkFields: Record<keyof Action, true> = {
    id: true,
    status: true,
    version: true,
    tool: true,
    arguments: true,
    original_arguments: true,
    edited: true,
    resource: true,
    purpose: true,
    on_behalf_of: true,
    session_id: true,
    parent_id: true,
    root_id: true,
    annotations: true,
    metadata: true,
    agent: true,
    policy: true,
    workflow: true,
    grant_id: true,
    batch_id: true,
    receipt: true,
    execute_by: true,
    redeemed_at: true,
    redeemed: true,
    created_at: true,
    updated_at: true,
    expires_at: true,
    decided_at: true,
    decided_by: true,
    reason: true,
    reviews: true,
    result: true,
  };
  assert.deepEqual(Object.keys(sdkFields).sort(), Object.keys(ActionViewSchema.shape).sort());
});
