import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { FakeClock } from '../src/lib/clock.js';
import { AuditWatch } from '../src/scheduler/audit-watch.js';
import { commitBeforeHeadRead } from './audit-helpers.js';
import { call, forEachDialect, propose, type World, world } from './helpers.js';
import { openRaw, type RawDb } from './raw-db.js';

// A running gateway must make a tampered audit chain visible where operators look (/readyz, /metrics),
// not only in a log line. Tampering is real SQL through a separate connection (see raw-db.ts).

/** One sample of a Prometheus text exposition, by name and labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The tests start each check themselves: the background checkpointer and verification never fire on their own. */
const quiet = (unreadyWhenTampered: boolean) => ({
  config: (c: World['env']['config']) => ({
    ...c,
    audit: {
      ...c.audit,
      checkpointIntervalMs: 24 * 3_600_000,
      checkpointEvery: 1_000_000,
      verifyIntervalMs: 24 * 3_600_000,
      unreadyWhenTampered,
    },
  }),
});

async function metrics(w: World) {
  const text = (await call(w, 'GET', '/metrics')).body as string;
  return {
    ok: sample(text, 'countersign_audit_chain_ok'),
    firstBad: sample(text, 'countersign_audit_chain_first_bad_seq'),
    tamperedRuns: sample(text, 'countersign_audit_chain_verifications_total', { result: 'tampered' }) ?? 0,
    intactRuns: sample(text, 'countersign_audit_chain_verifications_total', { result: 'intact' }) ?? 0,
    verifiedAt: sample(text, 'countersign_audit_chain_last_verified_timestamp_seconds'),
  };
}

/** Edits one entry's data for the duration of `fn`, then puts it back. */
async function withEditedEntry(raw: RawDb, seq: number, fn: () => Promise<void>) {
  const [row] = await raw.all('select * from audit_log where seq = ?', [seq]);
  assert.ok(row, `entry ${seq} exists`);
  await raw.run('update audit_log set data = ? where seq = ?', ['{"rewritten":true}', seq]);
  try {
    await fn();
  } finally {
    await raw.run('update audit_log set data = ? where seq = ?', [row.data, seq]);
  }
}

forEachDialect('a running gateway reports a tampered audit chain', (dialect) => {
  let w: World;
  let raw: RawDb;
  before(async () => {
    w = await world(dialect, quiet(false));
    for (let i = 0; i < 3; i++) await propose(w, { purpose: `change ${i}` });
    raw = await openRaw(w);
    await raw.disableAppendOnly();
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('an intact chain reads "intact" in /readyz and countersign_audit_chain_ok is 1 after a verification', async () => {
    const r = await w.gw.auditWatch.check();
    assert.equal(r?.ok, true, r?.firstBad?.problem);
    const ready = await call(w, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ok', database: dialect, checks: { database: 'ok', audit_chain: 'intact' } });
    const m = await metrics(w);
    assert.deepEqual([m.ok, m.firstBad, m.tamperedRuns], [1, 0, 0]);
    assert.ok(m.intactRuns >= 1);
    assert.ok((m.verifiedAt ?? 0) > 0, 'the time of the last verification is exported');
  });

  test('an edited entry turns /readyz "degraded" naming the entry, drops the metric to 0, and the gateway keeps serving', async () => {
    await withEditedEntry(raw, 4, async () => {
      const r = await w.gw.auditWatch.check();
      assert.equal(r?.ok, false);
      const ready = await call(w, 'GET', '/readyz');
      assert.equal(ready.status, 200, 'by default a tampered chain is reported, not taken out of service');
      assert.equal(ready.body.status, 'degraded');
      assert.match(ready.body.checks.audit_chain, /^tampered at entry 4: /);
      const m = await metrics(w);
      assert.deepEqual([m.ok, m.firstBad, m.tamperedRuns], [0, 4, 1]);
      assert.equal((await propose(w)).status, 201, 'new proposals are still gated and recorded');
    });
    const r = await w.gw.auditWatch.check();
    assert.equal(r?.ok, true, 'restored');
    assert.equal((await call(w, 'GET', '/readyz')).body.checks.audit_chain, 'intact');
    const m = await metrics(w);
    assert.deepEqual([m.ok, m.firstBad], [1, 0], 'a verification that passes again clears the alarm');
  });

  test('the checkpointer refusing to sign a broken chain raises the alarm without waiting for a verification', async () => {
    assert.ok(await w.gw.checkpointer.checkpointNow());
    await propose(w);
    const [{ seq } = { seq: 0 }] = await raw.all<{ seq: number | string }>('select max(seq) as seq from audit_log');
    await withEditedEntry(raw, Number(seq), async () => {
      await assert.rejects(w.gw.checkpointer.checkpointNow(), /audit chain broken at entry/);
      const ready = await call(w, 'GET', '/readyz');
      assert.equal(ready.body.status, 'degraded');
      assert.match(ready.body.checks.audit_chain, new RegExp(`^tampered at entry ${Number(seq)}: `));
      assert.equal((await metrics(w)).firstBad, Number(seq));
    });
    assert.equal((await w.gw.auditWatch.check())?.ok, true);
    assert.equal((await metrics(w)).ok, 1);
  });

  test('a proposal committed between the walk and the read of the chain head is not mistaken for a truncated tail', async () => {
    // verifyAudit reads chain_head after walking the entries; commit a proposal right before that read,
    // as a busy gateway does, so the head is one batch ahead of the walk.
    const racing = commitBeforeHeadRead(w.gw.deps.db.read, () => propose(w, { purpose: 'during the walk' }));
    const deps = { ...w.gw.deps, db: { ...w.gw.deps.db, read: racing.read } };
    const watch = new AuditWatch(deps as typeof w.gw.deps);
    const r = await watch.check();
    assert.ok(racing.committed(), 'the proposal was committed between the walk and the head read');
    assert.equal(r?.firstBad?.kind, 'truncated', 'verifyAudit alone sees a head ahead of the walk');
    assert.equal(w.gw.deps.auditHealth.state.kind, 'intact', 'the watch sees the next entry exists and does not raise the alarm');
    assert.equal((await metrics(w)).ok, 1);
    assert.equal((await call(w, 'GET', '/readyz')).body.status, 'ok');
  });
});

forEachDialect('a gateway told to leave service when its audit chain is tampered', (dialect) => {
  let w: World;
  let raw: RawDb;
  before(async () => {
    w = await world(dialect, quiet(true));
    await propose(w);
    raw = await openRaw(w);
    await raw.disableAppendOnly();
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('readiness answers 503 in the error envelope naming the tampered entry, and 200 once it verifies again', async () => {
    await withEditedEntry(raw, 2, async () => {
      await w.gw.auditWatch.check();
      const ready = await call(w, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.error.code, 'unavailable');
      assert.match(ready.body.error.message, /audit chain is tampered/);
      assert.match(ready.body.error.details.checks.audit_chain, /^tampered at entry 2: /);
      assert.equal(ready.body.error.details.checks.database, 'ok');
    });
    await w.gw.auditWatch.check();
    const ready = await call(w, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ok');
  });
});

forEachDialect('the periodic verification of a running gateway', (dialect) => {
  let w: World;
  let raw: RawDb;
  const clock = new FakeClock();
  before(async () => {
    w = await world(dialect, {
      clock,
      config: (c) => ({
        ...c,
        audit: { ...c.audit, checkpointIntervalMs: 24 * 3_600_000, checkpointEvery: 1_000_000, verifyIntervalMs: 600_000 },
      }),
    });
    await propose(w);
    raw = await openRaw(w);
    await raw.disableAppendOnly();
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  /** Waits for the verification the clock started, without starting one. */
  const settled = () => w.gw.auditWatch.settled();

  test('verifies at start, then finds an edit by itself at the next interval, and clears once it verifies again', async () => {
    await settled();
    assert.equal(w.gw.deps.auditHealth.state.kind, 'intact', 'verified at start');
    const runs = (await metrics(w)).intactRuns;
    await withEditedEntry(raw, 2, async () => {
      await clock.advance(600_000);
      await settled();
      const state = w.gw.deps.auditHealth.state;
      assert.equal(state.kind, 'tampered', 'found without anyone asking');
      assert.equal(state.kind === 'tampered' && state.seq, 2);
      assert.ok((await metrics(w)).tamperedRuns >= 1);
    });
    await clock.advance(600_000);
    await settled();
    assert.equal(w.gw.deps.auditHealth.state.kind, 'intact');
    assert.ok((await metrics(w)).intactRuns > runs);
  });
});

describe('audit watch settings', () => {
  test('audit.verify_interval and audit.unready_when_tampered are read from the audit section; by default hourly and report-only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-audit-watch-'));
    writeFileSync(join(dir, 'c.yaml'), 'audit:\n  verify_interval: 15m\n  unready_when_tampered: true\n');
    const set = loadConfig({ file: join(dir, 'c.yaml'), env: {}, cwd: dir }).audit;
    assert.deepEqual([set.verifyIntervalMs, set.unreadyWhenTampered], [900_000, true]);
    const defaults = loadConfig({ env: {}, cwd: dir }).audit;
    assert.deepEqual([defaults.verifyIntervalMs, defaults.unreadyWhenTampered], [3_600_000, false]);
  });
});
