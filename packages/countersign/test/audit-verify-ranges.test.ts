import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { splitRanges, verifyAudit } from '../src/domain/audit/verify-audit.js';
import { insertSql, QUIET, values } from './audit-helpers.js';
import { auditRows, forEachDialect, PG_URL, propose, type World, world } from './helpers.js';
import { openRaw, type RawDb } from './raw-db.js';

// Tampering for real, as in audit-tamper.test.ts, at the boundaries of the ranges that worker threads verify.

forEachDialect('audit verify in parallel ranges', (dialect) => {
  let w: World;
  let raw: RawDb;
  let total = 0;
  before(async () => {
    w = await world(dialect, QUIET);
    for (let i = 0; i < 6; i++) await propose(w, { purpose: `change ${i}` });
    await w.gw.checkpointer.checkpointNow();
    await propose(w);
    total = (await auditRows(w)).length;
    raw = await openRaw(w);
    await raw.disableAppendOnly();
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('worker threads verifying stretches of the chain find exactly what one walk from genesis finds', async () => {
    const connection = { url: w.env.schema === undefined ? w.env.config.database.url : PG_URL, schema: w.env.schema };
    // Three ranges: this thread's and two workers'; `second` and `third` are where the workers start.
    const [, second, third] = splitRanges(total, 2).map((r) => r.from);
    assert.ok(second && third && third < total);
    const same = async (what: string) => {
      const one = await verifyAudit(w.gw.deps.db.read);
      const errors: unknown[] = [];
      const many = await verifyAudit(w.gw.deps.db.read, { connection, workers: 2, parallelFrom: 0, onWorkerError: (e) => errors.push(e) });
      assert.deepEqual(errors, [], 'the workers ran (no range fell back to this thread)');
      assert.deepEqual(many, one, what);
      return one;
    };
    const tampered = async (what: string, change: () => Promise<void>, restore: () => Promise<void>) => {
      await change();
      try {
        assert.equal((await same(what)).ok, false, what);
      } finally {
        await restore();
      }
    };
    assert.equal((await same('intact')).ok, true);
    const [atSecond] = await raw.all('select * from audit_log where seq = ?', [second]);
    const [beforeThird] = await raw.all('select * from audit_log where seq = ?', [third - 1]);
    const [atThird] = await raw.all('select * from audit_log where seq = ?', [third]);
    assert.ok(atSecond && beforeThird && atThird);
    await tampered(
      'the first entry of a worker’s range edited',
      () => raw.run('update audit_log set data = ? where seq = ?', ['{}', second]),
      () => raw.run('update audit_log set data = ? where seq = ?', [atSecond.data, second]),
    );
    await tampered(
      'the last entry before a worker’s range deleted',
      () => raw.run('delete from audit_log where seq = ?', [third - 1]),
      () => raw.run(insertSql(raw), values(beforeThird)),
    );
    await tampered(
      'the first entry of a worker’s range deleted',
      () => raw.run('delete from audit_log where seq = ?', [third]),
      () => raw.run(insertSql(raw), values(atThird)),
    );
    const swap = async () => {
      await raw.run('update audit_log set seq = ? where seq = ?', [-1, third - 1]);
      await raw.run('update audit_log set seq = ? where seq = ?', [third - 1, third]);
      await raw.run('update audit_log set seq = ? where seq = ?', [third, -1]);
    };
    await tampered('two entries swapped across the boundary', swap, swap);
    assert.equal((await same('restored')).ok, true);
  });
});
