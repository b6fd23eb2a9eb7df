/*
 * `countersign propose`, run as a real child process (the built CLI) against a listening gateway, the
 * way a script or a CI job runs it. The GitHub Actions job in docs/ci.md: cli-propose-ci.test.ts.
 *
 * Exit status (src/cli/exit-codes.ts, docs/ci.md): 0 approved, 10 denied, 11 expired, 12 cancelled,
 * 13 still pending, 14 approval already used (--redeem); errors keep their codes (2 invalid input,
 * 3 no key, 4 a person's key, 6 idempotency conflict).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { childEnv, exits, json, POLICY, start, waitingId } from './cli-propose-helpers.js';
import { auditRows, CLI_MAIN, call, forEachDialect, review, type World, withPolicy, world } from './helpers.js';

forEachDialect('countersign propose', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { listen: true, config: withPolicy(POLICY) });
  });
  after(async () => {
    await w?.close();
  });
  const asAgent = (key = w.keys.agent) => childEnv({ COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: key });
  const propose = (args: string[], opts: { key?: string; input?: string } = {}) =>
    start([process.execPath, CLI_MAIN, 'propose', ...args], asAgent(opts.key), opts.input);
  const action = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;
  const countActions = async () =>
    (
      await w.gw.deps.db.read
        .selectFrom('actions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n;

  test('a person approving with edited arguments while the command waits: exit 0, the edited arguments on stdout, the receipt redeemed once', async () => {
    const run = propose([
      '--tool',
      'deploy',
      '--args',
      '{"env":"production","version":"1.4.2"}',
      '--resource',
      'env:production',
      '--purpose',
      'release 1.4.2',
      '--wait',
      '--redeem',
      '--idempotency-key',
      'run-1-1-deploy',
    ]);
    const id = await waitingId(run);
    assert.equal((await action(id)).status, 'pending', 'the command is waiting on a pending action');
    const r = await review(w, id, w.keys.alice, {
      decision: 'approve',
      reason: 'ship the patch',
      arguments: { env: 'production', version: '1.4.3' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const out = json(exits(await run.done, 0));
    assert.equal(out.outcome, 'approved');
    assert.equal(out.id, id);
    assert.deepEqual(out.arguments, { env: 'production', version: '1.4.3' });
    assert.deepEqual(out.original_arguments, { env: 'production', version: '1.4.2' });
    assert.equal(out.edited, true);
    assert.equal(out.reason, 'ship the patch');
    assert.equal(out.decided_by.label, 'alice@example.com');
    assert.match(out.receipt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(typeof out.redeemed_at, 'string');
    assert.equal(out.url, `${w.gw.url}/actions/${id}`);
    assert.equal((await action(id)).redeemed_at, out.redeemed_at, 'the gateway recorded this run redeeming it');
    const events = (await auditRows(w, id)).map((e) => `${e.event} by ${e.actor_type}`);
    assert.ok(events.includes('action.created by agent'), events.join(', '));
    assert.ok(events.includes('receipt.redeemed by agent'), events.join(', '));

    // The same step run again (same idempotency key): the same action, whose approval is spent.
    const again = exits(
      await propose([
        '--tool',
        'deploy',
        '--args',
        '{"env":"production","version":"1.4.2"}',
        '--resource',
        'env:production',
        '--purpose',
        'release 1.4.2',
        '--wait',
        '--redeem',
        '--idempotency-key',
        'run-1-1-deploy',
      ]).done,
      14,
    );
    assert.equal(json(again).outcome, 'already_redeemed');
    assert.equal(json(again).id, id);
    assert.equal(json(again).receipt, null, 'a spent approval is not handed out as a licence');
    assert.match(again.stderr, /already used by an earlier run/);
  });

  test("a denial exits 10 with the reviewer's reason on stdout and stderr, and nothing is redeemed", async () => {
    const run = propose(['--tool', 'deploy', '--args', '{"env":"production"}', '--wait', '--redeem']);
    const id = await waitingId(run);
    assert.equal((await review(w, id, w.keys.alice, { decision: 'deny', reason: 'not during the freeze' })).status, 200);
    const r = exits(await run.done, 10);
    assert.equal(json(r).outcome, 'denied');
    assert.equal(json(r).reason, 'not during the freeze');
    assert.equal(json(r).receipt, null);
    assert.equal(json(r).redeemed_at, null);
    assert.match(r.stderr, /Denied by alice@example\.com: not during the freeze/);
  });

  test('a policy denial exits 10 at once, without waiting; --json prints one line, and the url follows --review-url', async () => {
    const r = exits(
      await propose([
        '--tool',
        'drop_database',
        '--args',
        '{"name":"prod"}',
        '--json',
        '--review-url',
        'https://cs.example.com/review/{id}',
      ]).done,
      10,
    );
    assert.equal(r.stdout.split('\n').length, 2, 'one line of JSON and its newline');
    assert.equal(json(r).status, 'denied');
    assert.equal(json(r).reason, 'databases are never dropped from CI');
    assert.equal(json(r).decided_by.type, 'policy');
    assert.equal(json(r).url, `https://cs.example.com/review/${json(r).id}`);
  });

  test('an action the agent withdraws while the command waits exits 12', async () => {
    const run = propose(['--tool', 'deploy', '--args', '{"env":"staging"}', '--wait']);
    const id = await waitingId(run);
    assert.equal((await call(w, 'POST', `/v1/actions/${id}/cancel`, w.keys.agent, { reason: 'superseded' })).status, 200);
    const r = exits(await run.done, 12);
    assert.equal(json(r).outcome, 'cancelled');
    assert.equal(json(r).status, 'cancelled');
  });

  test('without a decision the command exits 13 and leaves the action pending; the same idempotency key re-attaches until a person decides', async () => {
    const args = ['--tool', 'deploy', '--args', '{"env":"production","version":"2.0.0"}', '--idempotency-key', 'run-2-1-deploy'];
    const first = exits(await propose(args).done, 13);
    const id = json(first).id as string;
    assert.equal(json(first).outcome, 'pending');
    assert.equal(json(first).arguments.version, '2.0.0');

    const timedOut = exits(await propose([...args, '--wait', '--timeout', '1s']).done, 13);
    assert.equal(json(timedOut).id, id, 're-attached to the same action');
    assert.match(timedOut.stderr, /no decision within 1s/);
    assert.equal((await action(id)).status, 'pending', 'the action is left pending for a person');

    const run = propose([...args, '--wait', '--timeout', '10m']);
    assert.equal(await waitingId(run), id);
    assert.equal((await review(w, id, w.keys.alice, { decision: 'approve' })).status, 200);
    const r = exits(await run.done, 0);
    assert.equal(json(r).id, id);
    assert.equal(json(r).redeemed_at, null, 'without --redeem the approval is left for an executor to redeem');
    assert.equal(typeof json(r).receipt, 'string');
  });

  test('a cancelled CI job (SIGTERM) stops the wait, not the action: exit 13, the action still pending with what was proposed', async () => {
    const run = propose([
      '--tool',
      'deploy',
      '--args',
      '{"env":"production"}',
      '--on-behalf-of',
      'carol@example.com',
      '--session',
      'github-run-77',
      '--wait',
    ]);
    const id = await waitingId(run);
    run.kill('SIGTERM');
    const r = exits(await run.done, 13);
    assert.equal(json(r).outcome, 'pending');
    assert.match(r.stderr, /interrupted: stopped waiting/);
    const a = await action(id);
    assert.equal(a.status, 'pending');
    assert.equal(a.on_behalf_of, 'carol@example.com');
    assert.equal(a.session_id, 'github-run-77');
  });

  test('an action the policy allows is redeemed by the proposing request with --redeem; the same key again exits 14, never 0', async () => {
    const args = ['--tool', 'smoke_test', '--args', '{"suite":"api"}', '--redeem', '--idempotency-key', 'run-3-1-smoke'];
    const first = json(exits(await propose(args).done, 0));
    assert.equal(first.outcome, 'approved');
    assert.equal(first.decided_by.type, 'policy');
    assert.equal(typeof first.redeemed_at, 'string');
    assert.equal((await action(first.id)).redeemed_at, first.redeemed_at);

    const second = exits(await propose(args).done, 14);
    assert.equal(json(second).id, first.id);
    assert.equal(json(second).outcome, 'already_redeemed');
    assert.equal(json(second).redeemed_at, first.redeemed_at, 'it names when the first run redeemed it');
  });

  test('a script reads the final arguments from --json output with a JSON parser, the arguments coming from stdin', async () => {
    const script = `echo '{"suite": "payments", "shards": 4}' | "$NODE" "$CLI" propose --tool smoke_test --args-file - --json | jq -r '.arguments.suite + " x" + (.arguments.shards | tostring)'`;
    const r = exits(
      await start(['bash', '-c', `set -eo pipefail; ${script}`], { ...asAgent(), CLI: CLI_MAIN, NODE: process.execPath }).done,
      0,
    );
    assert.equal(r.stdout, 'payments x4\n');
  });

  test('arguments that are not a JSON object, or cannot be stored exactly, exit 2 and propose nothing', async () => {
    const before = await countActions();
    for (const bad of ['{"env": production}', '["production"]', '{"build": 18446744073709551617}']) {
      const r = exits(await propose(['--tool', 'deploy', '--args', bad, '--wait']).done, 2);
      assert.equal(r.stdout, '', 'nothing on stdout for a script to mistake for a decision');
      assert.match(r.stderr, /error \(invalid_request\): (invalid )?--args/);
    }
    exits(await propose(['--tool', 'deploy', '--args-file', '-'], { input: 'not json' }).done, 2);
    exits(await propose(['--tool', 'deploy', '--timeout', '5m']).done, 2);
    assert.equal(await countActions(), before);
  });

  test("a person's key is refused (exit 4), no key at all exits 3, and a reused key with other arguments exits 6", async () => {
    const before = await countActions();
    const person = exits(await propose(['--tool', 'deploy'], { key: w.keys.alice }).done, 4);
    assert.match(person.stderr, /only agent keys can propose actions.*COUNTERSIGN_AGENT_KEY must be an agent's key/);
    assert.equal(person.stdout, '');
    const none = exits(
      await start([process.execPath, CLI_MAIN, 'propose', '--tool', 'deploy'], childEnv({ COUNTERSIGN_URL: w.gw.url })).done,
      3,
    );
    assert.match(none.stderr, /set COUNTERSIGN_AGENT_KEY/);
    assert.equal(await countActions(), before, 'neither proposed anything');

    exits(await propose(['--tool', 'drop_database', '--idempotency-key', 'run-4-1-x']).done, 10);
    const clash = exits(await propose(['--tool', 'drop_database', '--args', '{"other":true}', '--idempotency-key', 'run-4-1-x']).done, 6);
    assert.match(clash.stderr, /idempotency_conflict/);
  });
});

forEachDialect('countersign propose, on a gateway with a fake clock', (dialect) => {
  test('an action that expires while the command waits exits 11', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { listen: true, clock, config: withPolicy(POLICY) });
    try {
      const run = start(
        [process.execPath, CLI_MAIN, 'propose', '--tool', 'deploy', '--args', '{"env":"production"}', '--wait'],
        childEnv({ COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: w.keys.agent }),
      );
      await waitingId(run);
      await clock.advance(2 * 60 * 60_000); // past the default workflow's one-hour expiry
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
      const r = exits(await run.done, 11);
      assert.equal(JSON.parse(r.stdout).outcome, 'expired');
      assert.match(r.stderr, /Not approved in time/);
    } finally {
      await w.close();
    }
  });
});
