import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { childEnv, cli, http, kill, openSse, type Server, serve, waitersParked } from './crash-helpers.js';
import { Ledger } from './fault-ledger.js';
import { forEachDialect, PG_URL } from './helpers.js';

// The real binary as separate processes: `countersign serve` is SIGKILLed mid-flight and
// restarted on the same data; identities come from the admin CLI, traffic over real HTTP.
// An executor agent runs with it: approved receipts redeemed and allowed calls proposed with
// ?redeem=true while the kill lands, then everything retried after the restart (as guard() does),
// to count what was acknowledged, lost and licensed to run twice. A page waits on a 4 s stage time-out.

/** The policy the first start seeds: deploys and bursts wait for a reviewer, reads run at once, a page times out. */
const CONFIG = `
policy:
  default: review
  rules:
    - { name: reads, when: 'tool == "read_metrics"', effect: allow }
    - { name: pages, when: 'tool == "page"', effect: review, workflow: paged }
workflows:
  paged:
    stages:
      - approvers: { roles: [reviewer] }
        timeout: 4s
        on_timeout: deny
`;

forEachDialect('crash recovery', (dialect) => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-crash-'));
  const schema = `cs_crash_${randomBytes(5).toString('hex')}`;
  // PostgreSQL: a fresh schema selected through the URL itself, exactly as an operator would.
  const configFile = join(dir, 'countersign.yaml');
  writeFileSync(configFile, CONFIG);
  const env =
    dialect === 'postgres'
      ? childEnv({
          COUNTERSIGN_CONFIG: configFile,
          COUNTERSIGN_DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        })
      : childEnv({ COUNTERSIGN_CONFIG: configFile });
  const admin = (...args: string[]) => cli([...args, '--data', dir], env);

  let server: Server | undefined;
  const keys = { alice: '', agent: '', burster: '', executor: '' };
  /** The executor's books: proposals by idempotency key, licences to run per action. */
  const ledger = new Ledger();
  /** Approved before the crash: their receipts are redeemed while it lands. */
  const approvedForRun: { id: string; receipt: string; arguments: Record<string, unknown> }[] = [];
  /** A page proposed before the crash, whose 4 s stage time-out must still fire after the restart. */
  let timed = '';
  let timedAtKill = '';
  /** Acknowledged (201) proposals, all still pending when the server was killed. */
  const pending: string[] = [];
  const missedByStream: string[] = [];
  let decidedBeforeCrash = '';
  let lastSeenByStream = 0;
  let waiterAtCrash: PromiseSettledResult<Response> | undefined;
  /** Proposals from a burst that was still in flight at the SIGKILL: those answered 201 before it. */
  const ackedInBurst: string[] = [];

  const base = () => (server as Server).url;
  const propose = async (purpose: string) => {
    const r = await http(`${base()}/v1/actions`, keys.agent, 'POST', { tool: 'deploy', arguments: { env: 'production' }, purpose });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; status: string };
  };

  /** Redeems an approved action's receipt: a 200 licenses the run (exactly once per action, ever). */
  const executorRedeem = async (a: (typeof approvedForRun)[number]) => {
    const r = await ledger.track(`redeem ${a.id}`, () =>
      http(`${base()}/v1/receipts/redeem`, keys.executor, 'POST', {
        receipt: a.receipt,
        action: { id: a.id, tool: 'deploy', arguments: a.arguments },
      }),
    );
    if (r?.status === 200) ledger.licence(a.id);
    return r;
  };
  /** An allowed call proposed and redeemed in one request, keyed like guard() keys a tool call. */
  const executorRun = async (key: string, i: number) => {
    const r = await ledger.track(`run ${key}`, () =>
      http(
        `${base()}/v1/actions?redeem=true`,
        keys.executor,
        'POST',
        { tool: 'read_metrics', arguments: { i } },
        { 'idempotency-key': key },
      ),
    );
    if (r?.status === 201 || r?.status === 200) ledger.proposals.set(key, r.body.id);
    if (r?.status === 201 && r.body.redeemed === true) ledger.licence(r.body.id);
    return r;
  };

  before(async () => {
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`create schema ${schema}`);
      await c.end();
    }
    server = await serve(dir, env);
    const [alice, bob] = await Promise.all([
      admin('users', 'add', 'alice@example.com', '--role', 'reviewer'),
      admin('users', 'add', 'bob@example.com'),
    ]);
    const [agent, burster, executor] = await Promise.all([
      admin('agents', 'add', 'deployer', '--owner', 'bob@example.com'),
      admin('agents', 'add', 'burster', '--owner', 'bob@example.com'),
      admin('agents', 'add', 'executor', '--owner', 'bob@example.com'),
    ]);
    for (const r of [alice, bob, agent, burster, executor]) assert.equal(r.code, 0, r.stderr);
    keys.alice = alice.stdout.trim();
    keys.agent = agent.stdout.trim();
    keys.burster = burster.stdout.trim();
    keys.executor = executor.stdout.trim();

    // A stream from the start of history sees the first proposals and one decision, then disconnects.
    const stream = openSse(`${base()}/v1/events?agent=deployer&after=0`, keys.alice);
    for (let i = 0; i < 5; i++) pending.push((await propose(`pending ${i}`)).id);
    decidedBeforeCrash = (await propose('decided before the crash')).id;
    assert.equal(
      (await http(`${base()}/v1/actions/${decidedBeforeCrash}/reviews`, keys.alice, 'POST', { decision: 'approve' })).status,
      200,
    );
    // Event 1 is the first start's policy.activated (version 1 seeded from the config): no agent, not in this stream.
    for (let expected = 2; ; expected++) {
      const e = await stream.next();
      assert.equal(e.id, expected, 'the stream from after=0 starts at the first proposal and has no gaps');
      lastSeenByStream = e.id;
      if (e.type === 'action.approved' && e.data.action_id === decidedBeforeCrash) break;
    }
    stream.close();

    // Acknowledged while the stream is away.
    for (let i = 0; i < 2; i++) missedByStream.push((await propose(`missed ${i}`)).id);
    pending.push(...missedByStream);

    for (let i = 0; i < 6; i++) {
      const args = { host: `web-${i}` };
      const asked = await http(`${base()}/v1/actions`, keys.executor, 'POST', { tool: 'deploy', arguments: args });
      const ok = await http(`${base()}/v1/actions/${asked.body.id}/reviews`, keys.alice, 'POST', { decision: 'approve' });
      assert.equal(ok.status, 200);
      approvedForRun.push({ id: asked.body.id, receipt: ok.body.receipt, arguments: args });
    }

    // An agent long-polls and another fires a burst of proposals; once a few are acknowledged
    // the server dies mid-burst without any chance to clean up.
    const waiter = Promise.allSettled([
      fetch(`${base()}/v1/actions/${pending[0]}?wait=60`, { headers: { authorization: `Bearer ${keys.agent}` } }),
    ]);
    await waitersParked(base(), 1);
    let someAcked: () => void = () => undefined;
    const fiveAcked = new Promise<void>((r) => {
      someAcked = r;
    });
    // allSettled at once: requests cut off by the kill reject, and that is expected.
    const burst = Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        http(`${base()}/v1/actions`, keys.burster, 'POST', { tool: 'burst', arguments: { i } }).then((r) => {
          assert.equal(r.status, 201);
          ackedInBurst.push(r.body.id);
          if (ackedInBurst.length >= 5) someAcked();
        }),
      ),
    );
    // The executor runs with the burst: redeems approved receipts and proposes allowed calls with ?redeem=true.
    const running = Promise.all([
      ...approvedForRun.map((a) => executorRedeem(a)),
      ...Array.from({ length: 20 }, (_, i) => executorRun(`read-${i}`, i)),
    ]);
    await fiveAcked;
    // Let some of the executor's requests be answered too, so the kill cuts its work in the middle.
    for (let i = 0; i < 100 && ledger.acknowledged < 5; i++) await new Promise((r) => setTimeout(r, 10));
    // The page is proposed last, right before the kill: its 4 s stage time-out is then still ahead however long
    // the burst took on a busy machine (proposed before the burst, it had already fired there before the kill).
    const page = await http(`${base()}/v1/actions`, keys.executor, 'POST', { tool: 'page', arguments: { who: 'oncall' } });
    assert.equal(page.status, 201);
    timed = page.body.id;
    timedAtKill = (await http(`${base()}/v1/actions/${timed}`, keys.alice)).body.status;
    await kill(server, 'SIGKILL');
    await burst;
    await running;
    [waiterAtCrash] = await waiter;
    server = await serve(dir, env);
  });

  after(async () => {
    if (server) await kill(server, 'SIGTERM');
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a waiter connected at the crash loses its connection and is never handed an outcome', () => {
    assert.equal(waiterAtCrash?.status, 'rejected');
  });

  test('every action acknowledged before the SIGKILL is still there and still pending after the restart', async () => {
    assert.equal(pending.length, 7);
    for (const id of pending) {
      const r = await http(`${base()}/v1/actions/${id}`, keys.alice);
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'pending', id);
      assert.equal(r.body.version, 1);
    }
    const decided = await http(`${base()}/v1/actions/${decidedBeforeCrash}`, keys.alice);
    assert.equal(decided.body.status, 'approved');
    assert.equal(decided.body.decided_by.label, 'alice@example.com');
    const listed = await http(`${base()}/v1/actions?agent=deployer&status=pending&limit=100`, keys.alice);
    assert.deepEqual(listed.body.items.map((a: { id: string }) => a.id).sort(), [...pending].sort());
    // From the burst cut off by the kill: every answered one survived; unanswered ones may or may not have.
    const stored = await http(`${base()}/v1/actions?agent=burster&limit=100`, keys.alice);
    const storedIds = new Set(stored.body.items.map((a: { id: string }) => a.id));
    for (const id of ackedInBurst) assert.ok(storedIds.has(id), `acknowledged burst action ${id} survived`);
    for (const a of stored.body.items) assert.equal(a.status, 'pending');
  });

  test('the audit chain verifies after the crash (audit verify exits 0)', async () => {
    const r = await admin('audit', 'verify');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: \d+ entries verified/);
  });

  test('a waiter that reconnects after the restart gets its outcome once a reviewer approves or denies', async () => {
    const [approveMe, denyMe] = pending as [string, string];
    const waitOn = (id: string) => http(`${base()}/v1/actions/${id}?wait=60`, keys.agent);
    const approvedWaiter = waitOn(approveMe);
    const deniedWaiter = waitOn(denyMe);
    await waitersParked(base(), 2);
    assert.equal((await http(`${base()}/v1/actions/${approveMe}/reviews`, keys.alice, 'POST', { decision: 'approve' })).status, 200);
    assert.equal(
      (await http(`${base()}/v1/actions/${denyMe}/reviews`, keys.alice, 'POST', { decision: 'deny', reason: 'after the crash' })).status,
      200,
    );
    const approved = await approvedWaiter;
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'approved');
    const denied = await deniedWaiter;
    assert.equal(denied.body.status, 'denied');
    assert.equal(denied.body.reason, 'after the crash');
  });

  test('an SSE client resuming with Last-Event-ID after the restart gets exactly the events it missed', async () => {
    const [approved, denied] = pending as [string, string];
    const [m0, m1] = missedByStream as [string, string];
    const expected = [
      ['action.created', m0],
      ['tool.approval_required', m0],
      ['action.created', m1],
      ['tool.approval_required', m1],
      ['action.approved', approved],
      ['action.denied', denied],
    ];
    const stream = openSse(`${base()}/v1/events?agent=deployer`, keys.alice, lastSeenByStream);
    try {
      const got: [string, string][] = [];
      let previous = lastSeenByStream;
      for (let i = 1; i <= expected.length; i++) {
        const e = await stream.next();
        // The burster's events fall between them, so ids skip but only ever go up.
        assert.ok(e.id > previous, `event ids only go up across the restart (${e.id} after ${previous})`);
        previous = e.id;
        got.push([e.type, e.data.action_id]);
      }
      assert.deepEqual(got, expected);
      // Nothing else was queued: the next event is the one committed after the replay.
      const marker = await propose('marker');
      const next = await stream.next();
      assert.ok(next.id > previous);
      assert.deepEqual([next.type, next.data.action_id], ['action.created', marker.id]);
    } finally {
      stream.close();
    }
    const verify = await admin('audit', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
  });

  test('the executor retrying everything after the restart loses no acknowledged run and is never licensed twice', async (t) => {
    const ackedBefore = new Map(ledger.proposals);
    const licensedBefore = new Set(ledger.licences.keys());
    ledger.phase = 'after';
    // As guard() does on restart: the same idempotency keys, the same receipts.
    // Withheld: redeemed before the kill, but the kill cut the answer that licensed it; the retry is told so
    // (a 200 replay, or receipt_used) and guard() refuses it as "may already have run": at most once.
    const withheld = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await executorRun(`read-${i}`, i);
      if (r?.status === 200 && !ledger.licences.has(r.body.id)) withheld.add(r.body.id);
    }
    for (const a of approvedForRun) {
      const r = await executorRedeem(a);
      if (r?.status !== 200) assert.equal(r?.body.error.code, 'receipt_used', JSON.stringify(r?.body));
      if (r?.status !== 200 && !ledger.licences.has(a.id)) withheld.add(a.id);
    }
    let lost = 0;
    for (const [key, id] of ackedBefore) if (ledger.proposals.get(key) !== id) lost += 1;
    for (const id of licensedBefore) {
      const now = await http(`${base()}/v1/actions/${id}`, keys.alice);
      if (now.body.redeemed_at === null) lost += 1;
    }
    t.diagnostic(`SIGKILL under load [${dialect}]: ${ledger.summary(lost)}`);
    assert.equal(lost, 0);
    assert.deepEqual(ledger.executedTwice(), []);
    // Every action is licensed exactly once in the end (20 allowed calls and 6 approved deploys), or withheld
    // because the kill cut its licensing answer, which only a request the kill cut off can be.
    assert.equal(ledger.licences.size + withheld.size, 26);
    assert.ok(withheld.size <= ledger.cutOff, `${withheld.size} withheld, ${ledger.cutOff} cut off`);
    // Answers are 2xx, receipt_used refusals after the restart, or requests the kill cut off: nothing else.
    assert.deepEqual(
      ledger.unexpected.filter((u) => !u.includes('receipt_used')),
      [],
    );
  });

  test('a stage time-out armed before the SIGKILL fires after the restart', async () => {
    assert.equal(timedAtKill, 'pending', 'the page was still waiting when the gateway was killed');
    for (let i = 0; i < 300; i++) {
      const now = await http(`${base()}/v1/actions/${timed}`, keys.alice);
      if (now.body.status !== 'pending') {
        assert.equal(now.body.status, 'denied');
        assert.equal(now.body.decided_by.label, 'stage-timeout');
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the page was never timed out');
  });
});
