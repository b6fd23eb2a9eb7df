import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { calculateJwkThumbprint } from 'jose';
import { auditEntryHash } from '../src/domain/audit/chain.js';
import { signCheckpoint } from '../src/domain/audit/checkpoint-note.js';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { insertSql, QUIET, values } from './audit-helpers.js';
import { auditRows, call, forEachDialect, PG_URL, propose, review, runCli, type World, world } from './helpers.js';
import { type AuditRow, openRaw, type RawDb } from './raw-db.js';

// Tampering is done for real: straight SQL on the stored rows through a separate connection,
// as someone with database access would, never through the gateway. The audit table refuses
// UPDATE and DELETE through triggers, so the attacker first drops or disables them, as a
// database owner can; that is why signed checkpoints, kept off the box, matter.

/** `countersign audit verify` as a child process on the world's database. */
async function cliVerify(w: World): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { COUNTERSIGN_LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  if (w.env.schema !== undefined) {
    env.COUNTERSIGN_DATABASE_URL = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${w.env.schema}`)}`;
  }
  return runCli(['audit', 'verify', '--data', w.env.config.dataDir], env);
}

forEachDialect('the append-only audit table', (dialect) => {
  let w: World;
  let raw: RawDb;
  before(async () => {
    w = await world(dialect, QUIET);
    await propose(w);
    raw = await openRaw(w);
  });
  after(async () => {
    await raw?.close();
    await w?.close();
  });

  test('the database refuses to update or delete an audit entry, naming the table', async () => {
    const [first] = await raw.all('select * from audit_log where seq = 1');
    assert.ok(first);
    await assert.rejects(raw.run('update audit_log set data = ? where seq = 1', ['{}']), /audit_log is append-only: update refused/i);
    await assert.rejects(raw.run('delete from audit_log where seq = 1'), /audit_log is append-only: delete refused/i);
    await assert.rejects(raw.run('delete from audit_log'), /audit_log is append-only: delete refused/i);
    const [still] = await raw.all('select * from audit_log where seq = 1');
    assert.deepEqual(still, first, 'the entry is unchanged');
    assert.equal((await verifyAudit(w.gw.deps.db.read)).ok, true);
  });

  test('the database refuses to update or delete a signed checkpoint', async () => {
    const cp = await w.gw.checkpointer.checkpointNow();
    assert.ok(cp);
    await assert.rejects(
      raw.run('update audit_checkpoints set note = ? where size = ?', ['forged', cp.size]),
      /audit_checkpoints is append-only: update refused/i,
    );
    await assert.rejects(raw.run('delete from audit_checkpoints'), /audit_checkpoints is append-only: delete refused/i);
    const [still] = await raw.all<{ note: string }>('select note from audit_checkpoints where size = ?', [cp.size]);
    assert.equal(still?.note, cp.note);
  });

  if (dialect === 'postgres') {
    test('PostgreSQL also refuses to truncate the audit table or the checkpoints', async () => {
      await assert.rejects(raw.run('truncate audit_log'), /audit_log is append-only: TRUNCATE refused/);
      await assert.rejects(raw.run('truncate audit_checkpoints'), /audit_checkpoints is append-only: TRUNCATE refused/);
      assert.ok((await auditRows(w)).length > 0);
    });
  }

  test('appending still works: the gateway keeps writing entries', async () => {
    const before = (await auditRows(w)).length;
    assert.equal((await propose(w)).status, 201);
    assert.ok((await auditRows(w)).length > before);
  });
});

forEachDialect('audit chain tampering', (dialect) => {
  let w: World;
  let raw: RawDb;
  let total = 0;
  /** Size of the first signed checkpoint; the second covers `total`. */
  let firstCheckpoint = 0;

  /** Verifies in-process and (unless told not to) through the CLI; both must name `seq` as the first bad entry. */
  async function assertBrokenAt(seq: number, problem: RegExp, opts: { cli?: boolean; entries?: number } = {}) {
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, false);
    assert.equal(r.firstBad?.seq, seq, r.firstBad?.problem);
    assert.match(r.firstBad?.problem ?? '', problem);
    assert.equal(r.entries, opts.entries ?? seq - 1, 'everything before the bad entry still verifies');
    if (opts.cli === false) return;
    const cli = await cliVerify(w);
    assert.equal(cli.code, 6, `audit verify must fail (exit 6); stdout: ${cli.stdout} stderr: ${cli.stderr}`);
    assert.equal(cli.stdout, '');
    assert.match(cli.stderr, new RegExp(`audit chain broken at entry ${seq}\\b`));
    assert.match(cli.stderr, problem);
  }

  async function assertIntact() {
    const r = await verifyAudit(w.gw.deps.db.read);
    assert.equal(r.ok, true, r.firstBad?.problem);
    assert.equal(r.entries, total);
    assert.equal(r.checkpoints.matched, 2);
    assert.equal(r.checkpoints.latest?.size, total);
  }

  before(async () => {
    w = await world(dialect, QUIET);
    // Some history: creations, an approval, an edit-and-approve, a denial, a cancel, a result; a checkpoint in the middle and one at the end.
    for (let i = 0; i < 4; i++) await propose(w, { purpose: `change ${i}` });
    firstCheckpoint = (await w.gw.checkpointer.checkpointNow())?.size ?? 0;
    const ids = (await call(w, 'GET', '/v1/actions?status=pending', w.keys.alice)).body.items.map((a: { id: string }) => a.id);
    const approved = (await review(w, ids[0], w.keys.alice, { decision: 'approve' })).body;
    const run = { id: approved.id, tool: approved.tool, arguments: approved.arguments, resource: approved.resource };
    await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt: approved.receipt, action: run });
    await review(w, ids[1], w.keys.carol, { decision: 'approve', arguments: { env: 'staging' } });
    await review(w, ids[2], w.keys.alice, { decision: 'deny', reason: 'not today' });
    await call(w, 'POST', `/v1/actions/${ids[3]}/cancel`, w.keys.agent, {});
    await call(w, 'POST', `/v1/actions/${ids[0]}/result`, w.keys.agent, { outcome: 'succeeded' });
    total = (await auditRows(w)).length;
    assert.ok(total > 25);
    assert.ok(firstCheckpoint > 10 && firstCheckpoint < total - 6, `first checkpoint at ${firstCheckpoint} of ${total}`);
    assert.equal((await w.gw.checkpointer.checkpointNow())?.size, total);
    raw = await openRaw(w);
    await raw.disableAppendOnly();
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
      await raw.run(insertSql(raw), values(original));
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
      // Every remaining entry is intact; the head, which still records `total`, and the checkpoint at `total` disagree.
      await assertBrokenAt(total - cut + 1, /tail truncated/);
    } finally {
      for (const r of tail) await raw.run(insertSql(raw), values(r));
    }
    await assertIntact();
  });

  const setHead = (seq: number, hash: string) => raw.run('update chain_head set audit_seq = ?, audit_hash = ? where id = 1', [seq, hash]);

  test('a tail cut off together with the chain head is still caught by the checkpoint signed before the cut', async () => {
    const keep = total - 4;
    const tail = await raw.all('select * from audit_log where seq > ? order by seq', [keep]);
    await raw.run('delete from audit_log where seq > ?', [keep]);
    // A careful attacker also rewinds the head, so the database alone looks consistent.
    await setHead(keep, (await entry(keep)).hash);
    try {
      await assertBrokenAt(keep + 1, new RegExp(`entries ${keep + 1}\\.\\.${total} are missing \\(tail truncated\\)`));
    } finally {
      for (const r of tail) await raw.run(insertSql(raw), values(r));
      await setHead(total, tail[tail.length - 1]?.hash ?? '');
    }
    await assertIntact();
  });

  test('entries rewritten with every later hash recomputed are caught by the checkpoint after them', async () => {
    const target = firstCheckpoint + 3;
    const originals = await raw.all('select * from audit_log where seq >= ? order by seq', [target]);
    let prev = (await entry(target - 1)).hash;
    for (const r of originals) {
      const seq = Number(r.seq);
      const data = seq === target ? '{"rewritten":true}' : r.data;
      const hash = auditEntryHash(prev, { ...r, seq, ts: Number(r.ts), data });
      await raw.run(`update audit_log set data = ?, prev_hash = ${raw.hash}, hash = ${raw.hash} where seq = ?`, [data, prev, hash, seq]);
      prev = hash;
    }
    await setHead(total, prev);
    try {
      // The chain itself recomputes; only the signed head at `total` shows the rewrite, somewhere after the earlier checkpoint.
      await assertBrokenAt(firstCheckpoint + 1, new RegExp(`an entry in ${firstCheckpoint + 1}\\.\\.${total} was rewritten`), {
        cli: false,
        entries: total,
      });
    } finally {
      for (const r of originals) {
        await raw.run(`update audit_log set data = ?, prev_hash = ${raw.hash}, hash = ${raw.hash} where seq = ?`, [
          r.data,
          r.prev_hash,
          r.hash,
          r.seq,
        ]);
      }
      await setHead(total, originals[originals.length - 1]?.hash ?? '');
    }
    await assertIntact();
  });

  interface CheckpointRow {
    size: number | string;
    head_hash: string;
    kid: string;
    note: string;
  }
  const checkpointRow = async (size: number) => {
    const [row] = await raw.all<CheckpointRow>('select * from audit_checkpoints where size = ?', [size]);
    assert.ok(row, `checkpoint ${size} exists`);
    return row;
  };

  test('a checkpoint re-signed with a key that was never published is named as forged', async () => {
    const row = await checkpointRow(total);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const x = publicKey.export({ format: 'jwk' }).x as string;
    const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x });
    const forger = { active: { kid, publicJwk: { x } }, sign: (d: Buffer) => sign(null, d, privateKey) };
    // A well-formed note for the real head, under the attacker's own key.
    const note = signCheckpoint(forger, w.gw.deps.config.audit.origin, total, row.head_hash);
    await raw.run('update audit_checkpoints set note = ?, kid = ? where size = ?', [note, kid, total]);
    try {
      await assertBrokenAt(total, new RegExp(`checkpoint ${total}: signed by key ${kid}, which is not among the published keys`), {
        entries: total,
      });
    } finally {
      await raw.run('update audit_checkpoints set note = ?, kid = ? where size = ?', [row.note, row.kid, total]);
    }
    await assertIntact();
  });

  test('a checkpoint note edited after it was signed fails its signature', async () => {
    const row = await checkpointRow(firstCheckpoint);
    // Point the checkpoint at another head, and the row's column with it, as a careful attacker would.
    const other = (await entry(firstCheckpoint - 1)).hash;
    const lines = row.note.split('\n');
    lines[2] = Buffer.from(other, 'hex').toString('base64');
    await raw.run('update audit_checkpoints set note = ?, head_hash = ? where size = ?', [lines.join('\n'), other, firstCheckpoint]);
    try {
      await assertBrokenAt(firstCheckpoint, /the signature by key \S+ does not verify/, { cli: false, entries: total });
    } finally {
      await raw.run('update audit_checkpoints set note = ?, head_hash = ? where size = ?', [row.note, row.head_hash, firstCheckpoint]);
    }
    await assertIntact();
  });
});
