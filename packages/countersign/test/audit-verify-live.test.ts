import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { verifyLiveAudit } from '../src/domain/audit/verify-live.js';
import { commitBeforeHeadRead, QUIET } from './audit-helpers.js';
import { auditRows, forEachDialect, propose, type World, world } from './helpers.js';
import { openRaw, type RawDb } from './raw-db.js';

// `countersign audit verify` runs beside a gateway that keeps appending: an operator checking the live
// database, the crash test checking after a restart while a stage time-out fires. verifyAudit reads the
// chain head after walking the entries, so whatever is committed in between makes the head look longer
// than the chain. verifyLiveAudit (what the command runs) tells that apart from a tail cut off.

forEachDialect('audit verify beside a running gateway', (dialect) => {
  let w: World;
  let raw: RawDb;
  before(async () => {
    w = await world(dialect, QUIET);
    for (let i = 0; i < 3; i++) await propose(w, { purpose: `change ${i}` });
    raw = await openRaw(w);
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('a proposal committed between the walk and the read of the chain head leaves the chain as walked verified', async () => {
    const walked = (await auditRows(w)).length;
    const racing = commitBeforeHeadRead(w.gw.deps.db.read, () => propose(w, { purpose: 'during the walk' }));
    const r = await verifyLiveAudit(racing.read);
    assert.ok(racing.committed(), 'the proposal was committed between the walk and the head read');
    assert.equal(r.ok, true, r.firstBad?.problem);
    assert.equal(r.firstBad, undefined);
    assert.equal(r.entries, walked, 'the entries walked, not the ones committed after');
    assert.equal(r.headSeq, walked);
    assert.ok((await auditRows(w)).length > walked, 'the proposal is in the log, for the next verification');
  });

  test('the same race through verifyAudit alone reads as a truncated tail (the false alarm the command exited 6 with)', async () => {
    const racing = commitBeforeHeadRead(w.gw.deps.db.read, () => propose(w, { purpose: 'during the walk' }));
    const r = await verifyAudit(racing.read);
    assert.ok(racing.committed());
    assert.equal(r.ok, false);
    assert.equal(r.firstBad?.kind, 'truncated');
    assert.equal(r.firstBad?.seq, r.headSeq + 1);
  });

  test('a chain head naming entries that do not exist is still a truncated tail', async () => {
    const [head] = await raw.all<{ audit_seq: number | string }>('select audit_seq from chain_head where id = 1');
    const seq = Number(head?.audit_seq);
    await raw.run('update chain_head set audit_seq = ? where id = 1', [seq + 2]);
    try {
      const r = await verifyLiveAudit(w.gw.deps.db.read);
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.kind, 'truncated');
      assert.equal(r.firstBad?.seq, seq + 1);
    } finally {
      await raw.run('update chain_head set audit_seq = ? where id = 1', [seq]);
    }
    assert.equal((await verifyLiveAudit(w.gw.deps.db.read)).ok, true);
  });
});
