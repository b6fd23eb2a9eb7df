import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { startGateway } from '../src/gateway.js';
import { auditRows, call, forEachDialect, PG_URL, propose, review, runCli, type World, world } from './helpers.js';

// Tampering is done for real: straight SQL on the stored rows through a separate connection,
// as someone with database access would, never through the gateway.

interface AuditRow {
  seq: number | string;
  ts: number | string;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

/** A direct connection to the world's database, outside the gateway. `?` placeholders on both dialects. */
interface RawDb {
  run(sql: string, params?: unknown[]): Promise<void>;
  all(sql: string, params?: unknown[]): Promise<AuditRow[]>;
  close(): Promise<void>;
}

async function openRaw(w: World): Promise<RawDb> {
  if (w.env.schema === undefined) {
    const db = new BetterSqlite3(w.env.config.database.url.replace(/^sqlite:/, ''));
    db.pragma('busy_timeout = 5000');
    return {
      run: async (q, p = []) => void db.prepare(q).run(...p),
      all: async (q, p = []) => db.prepare(q).all(...p) as AuditRow[],
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${w.env.schema}` });
  await client.connect();
  const numbered = (q: string) => {
    let i = 0;
    return q.replace(/\?/g, () => `$${++i}`);
  };
  return {
    run: async (q, p = []) => void (await client.query(numbered(q), p)),
    all: async (q, p = []) => (await client.query(numbered(q), p)).rows as AuditRow[],
    close: () => client.end(),
  };
}

/** `countersign audit verify` as a child process on the world's database. */
async function cliVerify(w: World): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { COUNTERSIGN_LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  if (w.env.schema !== undefined) {
    env.COUNTERSIGN_DATABASE_URL = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${w.env.schema}`)}`;
  }
  return runCli(['audit', 'verify', '--data', w.env.config.dataDir], env);
}

const INSERT =
  'insert into audit_log (seq, ts, actor_type, actor_id, event, action_id, data, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const values = (r: AuditRow) => [r.seq, r.ts, r.actor_type, r.actor_id, r.event, r.action_id, r.data, r.prev_hash, r.hash];

forEachDialect('audit chain tampering', (dialect) => {
  let w: World;
  let raw: RawDb;
  let total = 0;

  /** Verifies in-process and through the CLI; both must name `seq` as the first bad entry. */
  async function assertBrokenAt(seq: number, problem: RegExp) {
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, false);
    assert.equal(r.firstBad?.seq, seq);
    assert.match(r.firstBad?.problem ?? '', problem);
    assert.equal(r.entries, seq - 1, 'everything before the bad entry still verifies');
    const cli = await cliVerify(w);
    assert.notEqual(cli.code, 0, `audit verify must fail; stdout: ${cli.stdout}`);
    assert.equal(cli.stdout, '');
    assert.match(cli.stderr, new RegExp(`audit chain broken at entry ${seq}\\b`));
  }

  async function assertIntact() {
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, true, r.firstBad?.problem);
    assert.equal(r.entries, total);
  }

  before(async () => {
    w = await world(dialect);
    // Some history: creations, an approval, an edit-and-approve, a denial, a cancel, a result.
    for (let i = 0; i < 4; i++) await propose(w, { purpose: `change ${i}` });
    const ids = (await call(w, 'GET', '/v1/actions?status=pending', w.keys.alice)).body.items.map((a: { id: string }) => a.id);
    await review(w, ids[0], w.keys.alice, { decision: 'approve' });
    await review(w, ids[1], w.keys.carol, { decision: 'approve', arguments: { env: 'staging' } });
    await review(w, ids[2], w.keys.alice, { decision: 'deny', reason: 'not today' });
    await call(w, 'POST', `/v1/actions/${ids[3]}/cancel`, w.keys.agent, {});
    await call(w, 'POST', `/v1/actions/${ids[0]}/result`, w.keys.agent, { outcome: 'succeeded' });
    total = (await auditRows(w)).length;
    assert.ok(total > 25);
    raw = await openRaw(w);
    await assertIntact();
  });

  after(async () => {
    await raw?.close();
    await w?.close();
  });

  const entry = async (seq: number) => {
    const [row] = await raw.all('select * from audit_log where seq = ?', [seq]);
    assert.ok(row, `entry ${seq} exists`);
    return row;
  };

  test('an entry whose data was edited is named by its sequence number', async () => {
    const seq = 17;
    const original = await entry(seq);
    await raw.run('update audit_log set data = ? where seq = ?', [
      original.data.replace('alice@example.com', 'mallory@example.com').replace(/"deploy"/, '"noop"'),
      seq,
    ]);
    try {
      assert.notEqual((await entry(seq)).data, original.data);
      await assertBrokenAt(seq, /edited/);
    } finally {
      await raw.run('update audit_log set data = ? where seq = ?', [original.data, seq]);
    }
    await assertIntact();
  });

  test('an edit to any hashed field of the first, a middle or the last entry is caught', async () => {
    const edits: [string, unknown][] = [
      ['ts', 1],
      ['actor_type', 'tampered'],
      ['actor_id', 'someone-else'],
      ['event', 'tampered.event'],
      ['action_id', '00000000-0000-7000-8000-000000000000'],
      ['data', '{}'],
    ];
    for (const seq of [1, Math.floor(total / 2), total]) {
      const original = await entry(seq);
      for (const [column, value] of edits) {
        await raw.run(`update audit_log set ${column} = ? where seq = ?`, [value, seq]);
        try {
          const r = await verifyAudit(w.gw.deps.db.read);
          assert.equal(r.firstBad?.seq, seq, `editing ${column} of entry ${seq}`);
          assert.match(r.firstBad?.problem ?? '', /edited/);
        } finally {
          await raw.run(`update audit_log set ${column} = ? where seq = ?`, [original[column as keyof AuditRow], seq]);
        }
      }
    }
    await assertIntact();
  });

  test('a deleted middle entry is named as the missing sequence number', async () => {
    const seq = 12;
    const original = await entry(seq);
    await raw.run('delete from audit_log where seq = ?', [seq]);
    try {
      await assertBrokenAt(seq, /entry 12 is missing/);
    } finally {
      await raw.run(INSERT, values(original));
    }
    await assertIntact();
  });

  test('two entries swapped into each other’s place are caught at the first of them', async () => {
    const seq = 20;
    const swap = async () => {
      await raw.run('update audit_log set seq = ? where seq = ?', [-1, seq]);
      await raw.run('update audit_log set seq = ? where seq = ?', [seq, seq + 1]);
      await raw.run('update audit_log set seq = ? where seq = ?', [seq + 1, -1]);
    };
    const before = await entry(seq);
    await swap();
    try {
      assert.equal((await entry(seq + 1)).hash, before.hash, 'the rows really traded places');
      await assertBrokenAt(seq, /reordered/);
    } finally {
      await swap();
    }
    await assertIntact();
  });

  test('a truncated tail (the last entries deleted) is caught through the chain head', async () => {
    const cut = 3;
    const tail = await raw.all('select * from audit_log where seq > ? order by seq', [total - cut]);
    assert.equal(tail.length, cut);
    await raw.run('delete from audit_log where seq > ?', [total - cut]);
    try {
      // Every remaining entry is intact; only the head, which still records `total`, disagrees.
      await assertBrokenAt(total - cut + 1, /tail truncated/);
    } finally {
      for (const r of tail) await raw.run(INSERT, values(r));
    }
    await assertIntact();
  });
});

describe('a multi-process race on PostgreSQL', () => {
  test('approve on gateway A and deny on gateway B at once: exactly one wins every round, the chain verifies, seq numbers stay contiguous', async () => {
    const a = await world('postgres');
    // A second gateway on the same schema: its own pool, committer and event bus, as another process would have.
    const gwB = await startGateway(a.env.config, {
      listen: false,
      logger: pino({ level: 'silent' }),
      ...(a.env.schema ? { schema: a.env.schema } : {}),
    });
    const b: World = { ...a, gw: gwB };
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

      const r = await verifyAudit(a.gw.deps.db.read);
      assert.equal(r.ok, true, r.firstBad?.problem);
      const rows = await auditRows(a);
      assert.deepEqual(
        rows.map((e) => Number(e.seq)),
        rows.map((_, i) => i + 1),
      );
      const decisions = rows.filter((e) => e.event === 'action.approved' || e.event === 'action.denied');
      assert.equal(decisions.length, 40, 'one decision entry per action');
      const events = await a.gw.deps.db.read.selectFrom('events').select('seq').orderBy('seq').execute();
      assert.deepEqual(
        events.map((e) => Number(e.seq)),
        events.map((_, i) => i + 1),
      );
    } finally {
      await gwB.close();
      await a.close();
    }
  });
});
