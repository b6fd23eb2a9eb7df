import type { Deps } from '../../deps.js';
import { decisionTimes } from './decision-times.js';
import { reviewerLoad, topBy } from './leaders.js';
import { approvalRate, outcomeCounts } from './outcome-counts.js';
import { pendingAges } from './pending-ages.js';
import { statsRange } from './range.js';
import type { Stats, StatsBucket } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The dashboard's figures for one range (GET /v1/stats), each family from its own read: pending ages live
 * from the actions table, the rest from the rollup the committer keeps beside it (read-rollup.ts, migration 022).
 * For people: actions name agents, tools and reviewers, which agents have no business reading.
 */
export async function getStats(
  deps: Deps,
  q: { from?: string | undefined; to?: string | undefined; bucket?: StatsBucket | undefined },
): Promise<Stats> {
  const now = deps.clock.now();
  const r = statsRange(now, q);
  const [outcomes, times, ages, tools, agents, reviewers] = await Promise.all([
    outcomeCounts(deps, r),
    decisionTimes(deps, r),
    pendingAges(deps, now),
    topBy(deps, r, 'tool'),
    topBy(deps, r, 'agent'),
    reviewerLoad(deps, r),
  ]);
  const t = outcomes.totals;
  return {
    from: iso(r.from),
    to: iso(r.to),
    bucket: r.bucket,
    totals: { ...t, total: Object.values(t).reduce((a, c) => a + c, 0) },
    approval_rate: approvalRate(t),
    outcomes: outcomes.buckets.map((b) => ({ ...b, start: iso(b.start) })),
    decision_times: times.map((d) => ({ ...d, start: iso(d.start) })),
    pending_ages: ages,
    top_tools: tools,
    top_agents: agents,
    reviewers,
  };
}
