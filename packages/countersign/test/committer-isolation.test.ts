import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditInput, Tx } from '../src/db/committer.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import type { EventInput, StoredEvent } from '../src/events/types.js';
import { isCsError } from '../src/lib/errors.js';
import { ADMIN, auditRows, forEachDialect, type World, world } from './helpers.js';

/** An op that writes one audit entry and one event: the smallest state change through the Committer. */
function op(tag: string, data: Record<string, unknown>, eventData: Record<string, unknown> = data) {
  return async (tx: Tx) => {
    tx.audit({ actor: ADMIN, event: 'test.isolation', data: { tag, ...data } } satisfies AuditInput);
    // The catalogue types payloads; this one smuggles the fault in, as a buggy op could by a cast.
    tx.emit({
      type: 'policy.activated',
      actionId: null,
      agentId: null,
      sessionId: null,
      rootId: null,
      data: { policy: { tag, ...eventData } },
    } as unknown as EventInput);
    return tag;
  };
}

// Values below validation that no serializer can write: the boundary refuses their JSON forms, so
// only a bug could bring them here, and then they must fail their own op alone.
const FAULTS: Array<[string, Record<string, unknown>, Record<string, unknown>?]> = [
  ['a non-finite number in audit data', { n: Number.POSITIVE_INFINITY }],
  ['NaN in audit data', { n: Number.NaN }],
  ['a lone surrogate in an audit data value', { s: '\ud800' }],
  ['a lone surrogate in an audit data key', { '\udc00': 1 }],
  ['a BigInt in audit data', { big: 10n }],
  ['a BigInt in event data only', { ok: 1 }, { big: 10n }],
];

forEachDialect('Committer: a failing append isolates its op', (dialect) => {
  let w: World;
  const published: StoredEvent[] = [];
  before(async () => {
    w = await world(dialect);
    w.gw.deps.bus.subscribe((e) => {
      if (e.type === 'policy.activated' && 'tag' in e.data.policy) published.push(e);
    });
  });
  after(async () => w.close());

  for (const [what, auditData, eventData] of FAULTS) {
    test(`an op with ${what} fails alone while the good ops batched with it commit with their audit rows and events`, async () => {
      const committer = w.gw.deps.committer;
      const before = (await auditRows(w)).length;
      published.length = 0;
      // Queued in one tick, so they share a batch: the bad one sits in the middle.
      const tags = Array.from({ length: 9 }, (_, i) => `${what}#${i}`);
      const runs = tags.map((tag, i) =>
        i === 4 ? committer.run(op(tag, auditData, eventData ?? auditData)) : committer.run(op(tag, { i })),
      );
      const settled = await Promise.allSettled(runs);
      settled.forEach((s, i) => {
        if (i === 4) {
          assert.equal(s.status, 'rejected', 'the faulty op fails');
          const reason = (s as PromiseRejectedResult).reason;
          assert.ok(isCsError(reason) && reason.code === 'internal', `a clear internal error: ${String(reason)}`);
        } else {
          assert.deepEqual(s, { status: 'fulfilled', value: tags[i] }, `good op ${i} commits`);
        }
      });
      const rows = (await auditRows(w)).slice(before);
      assert.deepEqual(
        rows.map((r) => JSON.parse(r.data).tag),
        tags.filter((_, i) => i !== 4),
        'one audit row per good op, none for the bad one',
      );
      assert.deepEqual(
        published.map((e) => (e.data as unknown as { policy: { tag: string } }).policy.tag),
        tags.filter((_, i) => i !== 4),
        'one event per good op',
      );
      const stored = await w.gw.deps.db.read.selectFrom('events').select('data').where('type', '=', 'policy.activated').execute();
      assert.equal(
        stored.filter((r) => String(JSON.parse(r.data).policy.tag).startsWith(what)).length,
        8,
        'the outbox holds the good events only',
      );
      assert.equal((await verifyAudit(w.gw.deps.db.read)).ok, true, 'the chain verifies');
    });
  }
});
