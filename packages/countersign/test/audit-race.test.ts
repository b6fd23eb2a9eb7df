import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { backfillStatsRollup } from '../src/db/stats-rollup/backfill.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { twoNodes } from './cross-node-helpers.js';
import { auditRows, call, PG_URL, propose, review, type World, world } from './helpers.js';

/** The chain verifies and audit and event seq numbers run 1, 2, 3… with no gap or double; returns the audit rows. */
async function assertWholeLogs(w: World) {
  const r = await verifyAudit(w.gw.deps.db.read);
  assert.equal(r.ok, true, r.firstBad?.problem);
  const rows = await auditRows(w);
  assert.deepEqual(
    rows.map((e) => Number(e.seq)),
    rows.map((_, i) => i + 1),
  );
  const events = await w.gw.deps.db.read.selectFrom('events').select('seq').orderBy('seq').execute();
  assert.deepEqual(
    events.map((e) => Number(e.seq)),
    events.map((_, i) => i + 1),
  );
  return rows;
}

describe('a multi-process race on PostgreSQL', () => {
  test('approve on gateway A and deny on gateway B at once: exactly one wins every round, the chain verifies, seq numbers stay contiguous', async () => {
    // B, a second gateway on the same schema: its own pool, committer and event bus, as another process would have.
    const { a, b, close } = await twoNodes('postgres');
    try {
      const outcomes = { approved: 0, denied: 0 };
      for (let round = 0; round < 10; round++) {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) ids.push((await propose(a)).body.id);
        // B takes the actions in the opposite order, so the two gateways also contend for row locks across actions.
        const approvals = ids.map((id) => review(a, id, a.keys.alice, { decision: 'approve' }));
        const denials = [...ids].reverse().map((id) => review(b, id, b.keys.carol, { decision: 'deny', reason: 'race' }));
        const [approved, denied] = await Promise.all([Promise.all(approvals), Promise.all(denials)]);
        denied.reverse();
        for (const [i, id] of ids.entries()) {
          const pair = [approved[i], denied[i]];
          const statuses = pair.map((r) => r?.status).sort();
          assert.deepEqual(statuses, [200, 409], `round ${round}, action ${id}: ${JSON.stringify(pair.map((r) => r?.body))}`);
          const winner = pair.find((r) => r?.status === 200)?.body.status as 'approved' | 'denied';
          outcomes[winner] += 1;
          for (const gw of [a, b]) {
            const seen = await call(gw, 'GET', `/v1/actions/${id}`, a.keys.alice);
            assert.equal(seen.body.status, winner, 'both gateways read the one final state');
            assert.equal(seen.body.version, 2);
            assert.equal(seen.body.reviews.length, 1);
          }
        }
      }
      assert.equal(outcomes.approved + outcomes.denied, 40);

      const rows = await assertWholeLogs(a);
      const decisions = rows.filter((e) => e.event === 'action.approved' || e.event === 'action.denied');
      assert.equal(decisions.length, 40, 'one decision entry per action');
    } finally {
      await close();
    }
  });

  test('two gateways taking turns: each appends after the head the other left (its own guess is stale every time), with nothing doubled and every count kept once', async () => {
    const { a, b, close } = await twoNodes('postgres');
    try {
      for (let turn = 0; turn < 12; turn++) {
        const [here, there] = turn % 2 === 0 ? [a, b] : [b, a];
        const id = (await propose(here)).body.id as string;
        const decided = await review(there, id, a.keys.alice, { decision: turn % 3 === 0 ? 'deny' : 'approve', reason: 'turns' });
        assert.equal(decided.status, 200, JSON.stringify(decided.body));
      }
      await assertWholeLogs(a);
      // The counts the appending statements kept equal the back-fill from the tables.
      const rollup = async () =>
        (
          await a.gw.deps.db.read
            .selectFrom('stats_rollup')
            .selectAll()
            .where('n', '<>', 0)
            .orderBy('kind')
            .orderBy('grain')
            .orderBy('start')
            .orderBy('key')
            .execute()
        ).map((x) => `${x.kind} ${x.grain} ${x.start} ${x.key} ${x.n}`);
      const kept = await rollup();
      await a.gw.deps.db.write.transaction().execute((tx) => backfillStatsRollup(tx));
      assert.deepEqual(kept, await rollup());
      assert.ok(kept.some((x) => x.startsWith('vote_approve ')) && kept.some((x) => x.startsWith('vote_deny ')), 'votes were counted');
    } finally {
      await close();
    }
  });

  test("a vote another gateway commits while a review waits for the action's lock is seen by that review: the same person cannot vote twice", async () => {
    const a = await world('postgres');
    const other = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${a.env.schema}` });
    await other.connect();
    try {
      const id = (await propose(a)).body.id as string;
      const alice = await a.gw.deps.db.read
        .selectFrom('users')
        .select(['id', 'email'])
        .where('email', '=', 'alice@example.com')
        .executeTakeFirstOrThrow();
      // Another node's vote by alice, holding the action's row until it commits (as a batch in flight would).
      await other.query('begin');
      await other.query('update actions set version = version + 1 where id = $1', [id]);
      await other.query(
        `insert into reviews (id, action_id, reviewer_id, reviewer_email, decision, reason, arguments, channel, created_at, stage)
         values ($1, $2, $3, $4, 'approve', null, null, 'api', $5, 0)`,
        [`rv_elsewhere_${id}`, id, alice.id, alice.email, Date.now()],
      );
      const second = review(a, id, a.keys.alice, { decision: 'approve' });
      // The review's statement is now waiting for the row lock (its snapshot predates the other vote).
      await waitUntil(async () => {
        const { rows } = await other.query(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
        );
        return rows[0].n > 0;
      });
      await other.query('commit');
      const answer = await second;
      assert.equal(answer.status, 409, JSON.stringify(answer.body));
      assert.match(answer.body.error.message, /already voted/);
      const seen = await call(a, 'GET', `/v1/actions/${id}`, a.keys.carol);
      assert.equal(seen.body.status, 'pending');
      assert.equal(seen.body.reviews.length, 1, "only the other gateway's vote is stored");
    } finally {
      await other.end();
      await a.close();
    }
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the condition never held');
}
