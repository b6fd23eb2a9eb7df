// The overseeing pages' wire types (src/api/oversight-types.ts) against the gateway's zod schemas: these
// checks fail `npm run typecheck` when they drift apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { ListActionsQuery } from '../../countersign/src/domain/actions/schemas.js';
import type { AuditChainStatus } from '../../countersign/src/domain/audit/chain-status.js';
import type { AuditEntryView, CheckpointView, ListAuditQuery } from '../../countersign/src/domain/audit/schemas.js';
import type { AuditVerification } from '../../countersign/src/domain/audit/verify-on-request.js';
import { type Stats, type StatsQuery, Stats as StatsSchema } from '../../countersign/src/domain/stats/schemas.js';
import type * as Console from '../src/api/oversight-types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <T extends true>(_: T) => undefined;

check<Same<keyof Console.Stats, keyof Stats>>(true);
check<Stats extends Console.Stats ? true : false>(true);
check<Same<keyof Console.AuditEntry, keyof AuditEntryView>>(true);
check<AuditEntryView extends Console.AuditEntry ? true : false>(true);
check<Same<keyof Console.AuditCheckpoint, keyof CheckpointView>>(true);
check<CheckpointView extends Console.AuditCheckpoint ? true : false>(true);
check<Same<keyof Console.AuditChainStatus, keyof AuditChainStatus>>(true);
check<AuditChainStatus extends Console.AuditChainStatus ? true : false>(true);
check<Same<keyof Console.AuditVerification, keyof AuditVerification>>(true);
check<AuditVerification extends Console.AuditVerification ? true : false>(true);
// What the console sends is accepted as-is.
check<Console.HistoryFilter extends z.input<typeof ListActionsQuery> ? true : false>(true);
check<Console.StatsQuery extends z.input<typeof StatsQuery> ? true : false>(true);
check<{ action: string; limit: string } extends z.input<typeof ListAuditQuery> ? true : false>(true);

test('the dashboard’s types name exactly the fields of GET /v1/stats', () => {
  const stats: Record<keyof Console.Stats, true> = {
    from: true,
    to: true,
    bucket: true,
    totals: true,
    approval_rate: true,
    outcomes: true,
    decision_times: true,
    pending_ages: true,
    top_tools: true,
    top_agents: true,
    reviewers: true,
  };
  assert.deepEqual(Object.keys(stats).sort(), Object.keys(StatsSchema.shape).sort());
});
