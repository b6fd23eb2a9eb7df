import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { EXAMPLE } from './fixtures/policies.js';
import { addPeople, auditRows, call, forEachDialect, propose, review, runCli, type World, withPolicy, world } from './helpers.js';

const staging = { tool: 'deploy', arguments: { env: 'staging', version: '1.0.0' } };

forEachDialect('standing grants', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(clock?: FakeClock, policy = EXAMPLE) {
    const w = await world(dialect, {
      config: withPolicy(`${policy}\ngrants: { max_duration: 8h, max_uses: 50 }\n`),
      ...(clock ? { clock } : {}),
    });
    open.push(w);
    return w;
  }
  /** alice approves one staging deploy and grants similar ones. */
  async function granted(w: World, grant: Record<string, unknown>, action = staging) {
    const { body: a } = await propose(w, action);
    const r = await review(w, a.id, w.keys.alice, { decision: 'approve', grant });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const list = await call(w, 'GET', '/v1/grants', w.keys.ada);
    return { source: a, grant: list.body.items[0] };
  }

  test('a grant approves exactly what it covers, and each action it approves names it', async () => {
    const w = await setup();
    const { grant } = await granted(w, { max_uses: 5, match: { arguments: { env: 'staging' } } });
    const covered = await propose(w, { tool: 'deploy', arguments: { env: 'staging', version: '2.0.0' } });
    assert.equal(covered.body.status, 'approved');
    assert.equal(covered.body.grant_id, grant.id);
    assert.deepEqual(covered.body.decided_by, { type: 'grant', id: grant.id, label: 'standing grant by alice@example.com' });
    assert.deepEqual(
      (await auditRows(w, covered.body.id)).map((e) => e.event),
      ['grant.used', 'action.created', 'action.approved', 'receipt.issued'],
    );

    const otherArgs = await propose(w, { tool: 'deploy', arguments: { env: 'qa', version: '2.0.0' } });
    assert.equal(otherArgs.body.status, 'pending', 'other argument values are not covered');
    const otherTool = await propose(w, { tool: 'migrate', arguments: { env: 'staging' } });
    assert.equal(otherTool.body.status, 'pending', 'another tool is not covered');
    const otherAgent = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } }, w.keys.otherAgent);
    assert.equal(otherAgent.body.status, 'pending', 'another agent is not covered');
    const denied = await propose(w, { tool: 'shell', arguments: { command: 'rm -rf /' } });
    assert.equal(denied.body.status, 'denied', 'deny rules still win');
  });

  test('by default a grant covers exactly the arguments that were approved', async () => {
    const w = await setup();
    await granted(w, {});
    assert.equal((await propose(w, staging)).body.status, 'approved');
    assert.equal((await propose(w, { tool: 'deploy', arguments: { ...staging.arguments, version: '1.0.1' } })).body.status, 'pending');
  });

  test('nothing is approved after a grant is used up', async () => {
    const w = await setup();
    const { grant } = await granted(w, { max_uses: 2 });
    assert.equal((await propose(w, staging)).body.status, 'approved');
    assert.equal((await propose(w, staging)).body.status, 'approved');
    assert.equal((await propose(w, staging)).body.status, 'pending');
    const list = await call(w, 'GET', '/v1/grants?active=false', w.keys.alice);
    assert.deepEqual(
      list.body.items.map((g: { id: string; uses: number; active: boolean }) => [g.id, g.uses, g.active]),
      [[grant.id, 2, false]],
    );
  });

  test('nothing is approved after a grant is revoked; only its creator or an admin may revoke it', async () => {
    const w = await setup();
    const { grant } = await granted(w, {});
    assert.equal((await propose(w, staging)).body.status, 'approved');
    const byCarol = await call(w, 'POST', `/v1/grants/${grant.id}/revoke`, w.keys.carol, {});
    assert.equal(byCarol.status, 403);
    const byAgent = await call(w, 'POST', `/v1/grants/${grant.id}/revoke`, w.keys.agent, {});
    assert.equal(byAgent.status, 403);
    const revoked = await call(w, 'POST', `/v1/grants/${grant.id}/revoke`, w.keys.alice, { reason: 'done for today' });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.active, false);
    assert.equal((await call(w, 'POST', `/v1/grants/${grant.id}/revoke`, w.keys.ada, {})).status, 409);
    assert.equal((await propose(w, staging)).body.status, 'pending');
    const audit = (await auditRows(w)).filter((e) => e.event.startsWith('grant.')).map((e) => e.event);
    assert.deepEqual(audit, ['grant.created', 'grant.used', 'grant.revoked']);
  });

  test('a grant never outlives its time bound', async () => {
    const clock = new FakeClock();
    const w = await setup(clock);
    await granted(w, { expires_in: '30m' });
    await clock.advance(30 * 60_000 - 1);
    assert.equal((await propose(w, staging)).body.status, 'approved');
    await clock.advance(1);
    assert.equal((await propose(w, staging)).body.status, 'pending');
  });

  test('a grant beyond the configured bounds is refused and the approval is not recorded', async () => {
    const w = await setup();
    const { body: a } = await propose(w, staging);
    const long = await review(w, a.id, w.keys.alice, { decision: 'approve', grant: { expires_in: '9h' } });
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /grant.expires_in/);
    const many = await review(w, a.id, w.keys.alice, { decision: 'approve', grant: { max_uses: 51 } });
    assert.equal(many.status, 400);
    const badCel = await review(w, a.id, w.keys.alice, { decision: 'approve', grant: { match: { when: 'arguments.env ==' } } });
    assert.equal(badCel.status, 400);
    assert.equal((await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body.status, 'pending');
  });

  test('a grant is never broader than the approver: no grants where one person cannot approve alone', async () => {
    const w = await setup();
    const k = await addPeople(w, [{ email: 'sre1@example.com', groups: ['sre'] }]);
    const { body: prod } = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    const r = await review(w, prod.id, k['sre1@example.com'] as string, { decision: 'approve', grant: {} });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /needs 2 approvals/);
    assert.equal((await call(w, 'GET', `/v1/actions/${prod.id}`, w.keys.alice)).body.reviews.length, 0, 'the vote was not recorded');
  });

  test('a grant whose creator lost the reviewer role approves nothing more', async () => {
    const w = await setup();
    await granted(w, {});
    await w.gw.deps.db.write.updateTable('users').set({ role: 'viewer' }).where('email', '=', 'alice@example.com').execute();
    assert.equal((await propose(w, staging)).body.status, 'pending');
  });

  test('a grant with a CEL condition and session scope covers only that session', async () => {
    const w = await setup();
    await granted(w, { scope: 'session', match: { when: 'arguments.env == "staging"' } }, {
      ...staging,
      session_id: 's-1',
    } as typeof staging);
    assert.equal(
      (await propose(w, { tool: 'deploy', arguments: { env: 'staging', version: '3' }, session_id: 's-1' })).body.status,
      'approved',
    );
    assert.equal((await propose(w, { tool: 'deploy', arguments: { env: 'staging' }, session_id: 's-2' })).body.status, 'pending');
    assert.equal((await propose(w, { tool: 'deploy', arguments: { env: 'prod-eu' }, session_id: 's-1' })).body.status, 'pending');
  });

  test('two proposals racing for the last use of a grant: exactly one gets it', async () => {
    const w = await setup();
    await granted(w, { max_uses: 1 });
    const results = await Promise.all([propose(w, staging), propose(w, staging), propose(w, staging)]);
    assert.deepEqual(results.map((r) => r.body.status).sort(), ['approved', 'pending', 'pending']);
  });
});

describe('grants from the CLI', () => {
  test('grants ls shows a live grant and grants revoke ends it', async () => {
    const w = await world('sqlite', { listen: true, config: withPolicy(EXAMPLE) });
    try {
      const { body: a } = await propose(w, staging);
      await review(w, a.id, w.keys.alice, { decision: 'approve', grant: { max_uses: 3, match: { arguments: { env: 'staging' } } } });
      const env = { PATH: process.env.PATH ?? '', COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_KEY: w.keys.alice };
      const ls = await runCli(['grants', 'ls', '--active'], env);
      assert.equal(ls.code, 0, ls.stderr);
      const id = /^(\S{36})\s+yes\s+deploy\s+0\/3\s+\S+\s+alice@example.com\s+arguments \{"env":"staging"\}$/m.exec(ls.stdout)?.[1];
      assert.ok(id, ls.stdout);
      const revoke = await runCli(['grants', 'revoke', id, '--reason', 'done'], env);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.equal(revoke.stdout, `revoked grant ${id} (0 use(s))\n`);
      const again = await runCli(['grants', 'revoke', id], env);
      assert.equal(again.code, 6, 'already revoked is a conflict');
      assert.equal((await runCli(['grants', 'ls', '--active'], env)).stdout, 'no grants\n');
    } finally {
      await w.close();
    }
  });
});
