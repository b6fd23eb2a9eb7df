/**
 * Seeds a long history straight into the tables (no committer, no audit entries: the history, dashboard and
 * inbox read only actions, reviews and the dashboard's rollup, back-filled at the end): rows are clones of real ones the gateway wrote, so every column is
 * as the schema and the domain expect, with ids, times, tools, statuses and deciders varied. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { backfillStatsRollup } from '../packages/countersign/src/db/stats-rollup/backfill.js';
import type { StoredActionsTable as ActionsTable, DB, ReviewsTable } from '../packages/countersign/src/db/types.js';

/** A UUIDv7 for a given time (ids are time-ordered; history pages by id). */
export function idAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface SeedTemplates {
  /** A pending action under a workflow (what the inbox lists). */
  pending: ActionsTable;
  /** An action a person decided, and their review row. */
  decided: ActionsTable;
  review: ReviewsTable;
  reviewers: { id: string; email: string }[];
  agents: { id: string; name: string; owner: string }[];
}

const TOOLS = Array.from({ length: 40 }, (_, i) => (i < 4 ? ['deploy', 'shell', 'drop-table', 'send-email'][i] : `tool-${i}`) as string);
const WORDS = ['release', 'rollback', 'migrate', 'rotate keys', 'clean up', 'hotfix', 'backfill', 'restart', 'scale', 'audit'];
const DAY = 86_400_000;

/** Inserts rows in chunks, each chunk one transaction (multi-row INSERTs of 400 rows). */
async function insertChunked<T extends 'actions' | 'reviews'>(db: Kysely<DB>, table: T, rows: DB[T][]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += 400) {
      // One generic insert for both tables: Kysely cannot relate the table name to its row type here.
      await tx
        .insertInto(table)
        .values(rows.slice(i, i + 400) as never)
        .execute();
    }
  });
}

/**
 * `historical` actions created evenly over the `days` before `now` (about 60 % decided by a person and
 * mostly approved and executed, 15 % approved by a rule, 10 % expired, 5 % cancelled), then `pending`
 * actions created over the last 7 days that wait for review. Reports progress to `log`.
 */
export async function seedActions(
  db: Kysely<DB>,
  t: SeedTemplates,
  opts: { now: number; historical: number; pending: number; days: number; log: (s: string) => void },
): Promise<void> {
  const { now } = opts;
  const span = opts.days * DAY;
  const CHUNK = 20_000;
  let actions: ActionsTable[] = [];
  let reviews: ReviewsTable[] = [];
  const flush = async () => {
    await insertChunked(db, 'actions', actions);
    if (reviews.length) await insertChunked(db, 'reviews', reviews);
    actions = [];
    reviews = [];
  };
  for (let i = 0; i < opts.historical; i++) {
    const created = now - span + Math.floor((i * span) / opts.historical);
    const id = idAt(created);
    const agent = t.agents[i % t.agents.length] as SeedTemplates['agents'][number];
    const tool = TOOLS[(i * 7) % TOOLS.length] as string;
    const r = i % 20;
    const base: ActionsTable = {
      ...t.decided,
      id,
      agent_id: agent.id,
      agent_name: agent.name,
      agent_owner_id: agent.owner,
      tool,
      arguments: JSON.stringify({ n: i, target: `service-${i % 400}` }),
      purpose: `${WORDS[i % WORDS.length]} ${i}`,
      idempotency_key: null,
      request_hash: null,
      receipt: null,
      receipt_jti: null,
      created_at: created,
      updated_at: created,
      stage: null,
      stage_started_at: null,
      redeemed_at: null,
      execute_by: null,
      result_outcome: null,
      result_output: null,
      result_at: null,
      reason: null,
    };
    if (r < 12) {
      // A person decided, after 1 minute to about 8 hours.
      const reviewer = t.reviewers[i % t.reviewers.length] as SeedTemplates['reviewers'][number];
      const decided = created + 60_000 + ((i * 7919) % (8 * 3_600_000));
      const approve = r < 10;
      const status = approve ? (r < 8 ? 'executed' : r < 9 ? 'failed' : 'approved') : 'denied';
      actions.push({
        ...base,
        status,
        version: 3,
        decided_at: decided,
        decided_by_type: 'user',
        decided_by_id: reviewer.id,
        decided_by_label: reviewer.email,
        updated_at: decided,
        ...(status === 'executed' || status === 'failed'
          ? { result_outcome: status === 'executed' ? 'succeeded' : 'failed', result_at: decided + 5000, redeemed_at: decided + 1000 }
          : {}),
        ...(approve ? {} : { reason: 'not now' }),
      });
      reviews.push({
        ...t.review,
        id: idAt(decided),
        action_id: id,
        reviewer_id: reviewer.id,
        reviewer_email: reviewer.email,
        decision: approve ? 'approve' : 'deny',
        reason: approve ? null : 'not now',
        created_at: decided,
        stage: 0,
      });
    } else if (r < 15) {
      actions.push({
        ...base,
        status: 'executed',
        workflow_digest: null,
        decided_at: created,
        decided_by_type: 'policy',
        decided_by_id: null,
        decided_by_label: 'reads',
        expires_at: null,
        result_outcome: 'succeeded',
        result_at: created + 2000,
        redeemed_at: created,
      });
    } else if (r < 17) {
      actions.push({
        ...base,
        status: 'expired',
        decided_at: created + 3_600_000,
        decided_by_type: 'system',
        decided_by_id: null,
        decided_by_label: 'expiry',
      });
    } else if (r < 18) {
      actions.push({
        ...base,
        status: 'cancelled',
        decided_at: created + 600_000,
        decided_by_type: 'agent',
        decided_by_id: agent.id,
        decided_by_label: agent.name,
      });
    } else {
      actions.push({
        ...base,
        status: 'denied',
        decided_at: created,
        decided_by_type: 'policy',
        decided_by_id: null,
        decided_by_label: 'no-prod-drops',
        workflow_digest: null,
        expires_at: null,
      });
    }
    if (actions.length >= CHUNK) {
      await flush();
      if ((i + 1) % 100_000 === 0) opts.log(`  ${i + 1} historical actions`);
    }
  }
  await flush();
  for (let i = 0; i < opts.pending; i++) {
    const created = now - 7 * DAY + Math.floor((i * 7 * DAY) / opts.pending);
    const agent = t.agents[i % t.agents.length] as SeedTemplates['agents'][number];
    actions.push({
      ...t.pending,
      id: idAt(created),
      agent_id: agent.id,
      agent_name: agent.name,
      agent_owner_id: agent.owner,
      tool: TOOLS[(i * 3) % TOOLS.length] as string,
      arguments: JSON.stringify({ n: i }),
      purpose: `${WORDS[i % WORDS.length]} pending ${i}`,
      idempotency_key: null,
      request_hash: null,
      created_at: created,
      updated_at: created,
      stage_started_at: created,
      expires_at: now + 30 * DAY,
    });
    if (actions.length >= CHUNK) await flush();
  }
  await flush();
  // The rows bypassed the committer, so the dashboard's rollup knows none of them: the back-fill migration 022
  // runs on an existing database counts them, so the bench reads the rollup GET /v1/stats reads in use.
  const t0 = performance.now();
  const { windows } = await db.transaction().execute((tx) => backfillStatsRollup(tx, { log: opts.log }));
  opts.log(`  rollup back-filled in ${((performance.now() - t0) / 1000).toFixed(1)} s (${windows} windows of 7 days)`);
}
