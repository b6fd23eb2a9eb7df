import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditEntryHash } from '../src/domain/audit/chain.js';
import { verifyExport } from '../src/domain/audit/verify-export.js';
import { canonicalJson } from '../src/lib/canonical.js';
import { call, propose, review, runCli, type World, world } from './helpers.js';

// Offline verification works on files alone, so one dialect is enough. Tampering edits the exported file itself.

/** The parent's environment without any COUNTERSIGN_* setting. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { COUNTERSIGN_LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return env;
}

interface Line {
  seq: number;
  ts: number;
  actor_type: string;
  actor_id: string | null;
  event: string;
  action_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

describe('offline audit verification (export + checkpoint + JWKS, no database)', () => {
  let w: World;
  let dir = '';
  let size = 0;
  let total = 0;
  const file = (name: string) => join(dir, name);
  let lines: Line[] = [];
  const writeExport = (name: string, rows: readonly (Line | string)[]) => {
    writeFileSync(file(name), rows.map((r) => `${typeof r === 'string' ? r : JSON.stringify(r)}\n`).join(''));
    return file(name);
  };
  const offline = (exportFile: string, checkpoints = [file('cp.txt')], jwks: string | null = file('jwks.json')) =>
    verifyExport({ file: exportFile, checkpointFiles: checkpoints, jwksFile: jwks ?? undefined });

  before(async () => {
    w = await world('sqlite', { config: (c) => ({ ...c, audit: { ...c.audit, checkpointIntervalMs: 24 * 3_600_000 } }) });
    dir = w.env.config.dataDir;
    for (let i = 0; i < 3; i++) await propose(w, { purpose: `change ${i}` });
    const pending = (await call(w, 'GET', '/v1/actions?status=pending', w.keys.alice)).body.items;
    await review(w, pending[0].id, w.keys.alice, { decision: 'approve', arguments: { env: 'staging' } });
    size = (await w.gw.checkpointer.checkpointNow())?.size ?? 0;
    // Entries after the checkpoint: chained, not yet signed.
    await propose(w, { purpose: 'after the checkpoint' });
    writeFileSync(file('jwks.json'), JSON.stringify((await call(w, 'GET', '/.well-known/jwks.json')).body));
  });
  after(async () => w?.close());

  test('audit verify --file passes on a good export and names the first bad entry of a tampered export file', async () => {
    const env = cliEnv();
    const exported = await runCli(['audit', 'export', '--out', file('export.jsonl'), '--data', dir], env);
    assert.equal(exported.code, 0, exported.stderr);
    const saved = await runCli(['audit', 'checkpoint', '--out', file('cp.txt'), '--data', dir], env);
    assert.equal(saved.code, 0, saved.stderr);
    const served = await call(w, 'GET', '/v1/audit/checkpoints/latest', w.keys.alice, undefined, { accept: 'text/plain' });
    assert.equal(readFileSync(file('cp.txt'), 'utf8'), served.body, 'the CLI saves the note exactly as the API serves it');

    lines = readFileSync(file('export.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    total = lines.length;
    assert.ok(total > size && size > 10);

    const ok = await runCli(
      ['audit', 'verify', '--file', file('export.jsonl'), '--checkpoint', file('cp.txt'), '--jwks', file('jwks.json')],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    const kid = w.gw.deps.keyring.active.kid;
    assert.equal(
      ok.stdout,
      `ok: ${total} entries verified; 1 signed checkpoint match (latest: size ${size}, key ${kid}); ` +
        `entries ${size + 1}..${total} are not covered by a checkpoint yet; head ${lines[total - 1]?.hash}\n`,
    );

    // Someone edits who approved, in the file handed to the auditor.
    const seq = lines.find((l) => l.event === 'action.approved')?.seq ?? 0;
    const text = readFileSync(file('export.jsonl'), 'utf8').split('\n');
    text[seq - 1] = (text[seq - 1] ?? '').replace('alice@example.com', 'carol@example.com');
    writeFileSync(file('tampered.jsonl'), text.join('\n'));
    const bad = await runCli(
      ['audit', 'verify', '--file', file('tampered.jsonl'), '--checkpoint', file('cp.txt'), '--jwks', file('jwks.json')],
      env,
    );
    assert.equal(bad.code, 6, bad.stdout);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, new RegExp(`audit chain broken at entry ${seq}: contents do not match the entry hash \\(entry was edited\\)`));
  });

  test('offline, a deleted line and two swapped lines are named by sequence number', async () => {
    const deleted = await offline(writeExport('deleted.jsonl', [...lines.slice(0, 6), ...lines.slice(7)]));
    assert.deepEqual(deleted.firstBad, { seq: 7, kind: 'deleted', problem: 'entry 7 is missing (next present is 8)' });
    // Entries 9 and 10 trade places, sequence numbers renumbered to fit, as in the database.
    const swapped = [...lines];
    [swapped[8], swapped[9]] = [
      { ...(lines[9] as Line), seq: 9 },
      { ...(lines[8] as Line), seq: 10 },
    ];
    const reordered = await offline(writeExport('swapped.jsonl', swapped));
    assert.equal(reordered.firstBad?.seq, 9);
    assert.equal(reordered.firstBad?.kind, 'reordered');
  });

  test('offline, an export cut short of its signed checkpoint is a truncated tail', async () => {
    const r = await offline(writeExport('short.jsonl', lines.slice(0, size - 2)));
    assert.equal(r.ok, false);
    assert.equal(r.firstBad?.seq, size - 1);
    assert.equal(r.firstBad?.kind, 'truncated');
    assert.match(r.firstBad?.problem ?? '', new RegExp(`entries ${size - 1}\\.\\.${size} are missing \\(tail truncated\\)`));
    // Without the checkpoint nothing shows: that is what checkpoints are for.
    assert.equal((await offline(file('short.jsonl'), [], null)).ok, true);
  });

  test('offline, an export rewritten with recomputed hashes is caught by the checkpoint', async () => {
    let prev = lines[3]?.hash ?? '';
    const rewritten = lines.map((l, i) => {
      if (i < 4) return l;
      const data = i === 4 ? { rewritten: true } : l.data;
      const hash = auditEntryHash(prev, { ...l, data: canonicalJson(data) });
      const out = { ...l, data, prev_hash: prev, hash };
      prev = hash;
      return out;
    });
    assert.equal((await offline(writeExport('rewritten.jsonl', rewritten), [], null)).ok, true, 'the chain alone recomputes');
    const r = await offline(file('rewritten.jsonl'));
    assert.equal(r.firstBad?.kind, 'rewritten');
    assert.equal(r.firstBad?.seq, 1);
    assert.match(r.firstBad?.problem ?? '', new RegExp(`does not match the checkpoint signed for size ${size}`));
  });

  test('offline, a checkpoint file that was edited, or one no key in the JWKS signed, is a forged checkpoint', async () => {
    const good = writeExport('good.jsonl', lines);
    assert.equal((await offline(good)).ok, true);
    const note = readFileSync(file('cp.txt'), 'utf8');
    writeFileSync(file('cp-edited.txt'), note.replace(`\n${size}\n`, `\n${size - 1}\n`));
    const edited = await offline(good, [file('cp-edited.txt')]);
    assert.equal(edited.firstBad?.kind, 'forged_checkpoint');
    assert.equal(edited.firstBad?.seq, size - 1);
    assert.match(edited.firstBad?.problem ?? '', /the signature by key \S+ does not verify/);

    writeFileSync(file('other-jwks.json'), JSON.stringify({ keys: [] }));
    const unknown = await offline(good, [file('cp.txt')], file('other-jwks.json'));
    assert.equal(unknown.firstBad?.kind, 'forged_checkpoint');
    assert.match(unknown.firstBad?.problem ?? '', /which is not among the published keys/);

    await assert.rejects(offline(good, [file('cp.txt')], null), /needs the public keys: pass --jwks/);
    writeFileSync(file('garbage.txt'), 'not a checkpoint\n');
    await assert.rejects(offline(good, [file('garbage.txt')]), /malformed checkpoint/);
  });
});
