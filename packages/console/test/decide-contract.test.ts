// Deciding in full (src/api/decide-types.ts) against the gateway's zod schemas: a drift fails the typecheck.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { InboxQuery } from '../../countersign/src/domain/actions/inbox-schemas.js';
import type { ReviewSettings } from '../../countersign/src/domain/actions/review-settings.js';
import type { ReviewBody } from '../../countersign/src/domain/actions/schemas.js';
import type { BatchReviewBody, BatchReviewResult, BatchView } from '../../countersign/src/domain/batches/schemas.js';
import type { GrantRequest } from '../../countersign/src/domain/grants/schemas.js';
import { ROUTES } from '../../countersign/src/http/server.js';
import type * as Decide from '../src/api/decide-types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;

// What the gateway sends.
check<Same<keyof Decide.ReviewSettings, keyof ReviewSettings>>(true);
check<ReviewSettings extends Decide.ReviewSettings ? true : false>(true);
check<Same<keyof Decide.Batch, keyof BatchView>>(true);
check<Same<keyof Decide.BatchReviewResult, keyof BatchReviewResult>>(true);
check<Same<keyof Decide.BatchReviewResult['results'][number], keyof BatchReviewResult['results'][number]>>(true);
// What the console sends is accepted as-is.
check<Decide.FullReviewInput extends z.input<typeof ReviewBody> ? true : false>(true);
check<Decide.GrantRequest extends z.input<typeof GrantRequest> ? true : false>(true);
check<Decide.FullInboxFilter extends z.input<typeof InboxQuery> ? true : false>(true);
check<Decide.BatchReviewInput extends z.input<typeof BatchReviewBody> ? true : false>(true);

test('every path deciding in full calls is a route of the gateway', () => {
  const routes = new Set(ROUTES.map((r) => `${r.method} ${r.url}`));
  for (const call of [
    'GET /v1/review-settings',
    'POST /v1/actions/:id/reviews',
    'GET /v1/inbox',
    'GET /v1/batches/:id',
    'POST /v1/batches/:id/reviews',
    'GET /v1/actions',
  ]) {
    assert.ok(routes.has(call), call);
  }
});
