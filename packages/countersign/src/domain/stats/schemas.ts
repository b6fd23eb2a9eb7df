import { z } from 'zod';
import { ACTION_STATUSES } from '../actions/status.js';

/** The wire shapes of GET /v1/stats (the console's dashboard). */

export const STATS_BUCKETS = { hour: 3_600_000, day: 86_400_000 } as const;
export type StatsBucket = keyof typeof STATS_BUCKETS;
/** At most this many buckets a request: 14 days of hours, a year and a day of days. */
export const MAX_BUCKETS = 400;

export const StatsQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Start of the range (default: 7 days before `to`)' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'End of the range, exclusive (default: now)' }),
  bucket: z.enum(['hour', 'day']).optional().meta({ description: 'Bucket size (default: day); buckets start on UTC boundaries' }),
});

const StatusCounts = z.object(
  Object.fromEntries(ACTION_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof ACTION_STATUSES)[number], z.ZodNumber>,
);
export type StatusCounts = z.infer<typeof StatusCounts>;

const Named = z.object({ name: z.string(), count: z.number().int() });

export const Stats = z
  .object({
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    totals: StatusCounts.extend({ total: z.number().int() }).meta({ description: 'Actions created in the range, by status now' }),
    approval_rate: z
      .number()
      .nullable()
      .meta({ description: 'approved (incl. executed and failed) / (approved + denied); null when none was decided' }),
    outcomes: z
      .array(StatusCounts.extend({ start: z.string() }))
      .meta({ description: 'Per bucket (by creation time), every bucket of the range, oldest first' }),
    decision_times: z
      .array(z.object({ start: z.string(), decided: z.number().int(), p50_ms: z.number().nullable(), p90_ms: z.number().nullable() }))
      .meta({ description: 'Time from proposal to a person’s decision, per bucket: exact on PostgreSQL, from a histogram on SQLite' }),
    pending_ages: z
      .array(z.object({ label: z.string(), count: z.number().int() }))
      .meta({ description: 'Actions pending now, by how long they have waited (not limited to the range)' }),
    top_tools: z.array(Named),
    top_agents: z.array(Named),
    reviewers: z
      .array(z.object({ reviewer: z.string(), votes: z.number().int(), approve: z.number().int(), deny: z.number().int() }))
      .meta({ description: 'Votes cast in the range, per person, most first' }),
  })
  .meta({ id: 'Stats' });
export type Stats = z.infer<typeof Stats>;
