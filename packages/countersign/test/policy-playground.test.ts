import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';

/** The policy playground and replay (POST /v1/policy/evaluate, /v1/policy/replay): the real engine, nothing written. */

const ACTIVE = `
policy:
  default: review
  trust_annotations: [deployer]
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
    - name: prod-deploys
      when: tool == "deploy" && arguments.env == "production"
      effect: review
      workflow: ops
    - name: trusted-read-only
      when: annotations_trusted && annotations.readOnlyHint
      effect: allow
      reason: the agent says it only reads
workflows:
  ops:
    stages:
      - approvers: { users: [alice@example.com] }
`;

/** Stricter: production deploys denied, reads still allowed, trust in annotations withdrawn. */
const CANDIDATE = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
    - name: no-prod-deploys
      when: tool == "deploy" && arguments.env == "production"
      effect: deny
      reason: deploy freeze
`;

async function counts(w: World) {
  const db = w.gw.deps.db.read;
  const n = async (t: 'actions' | 'audit_log' | 'events' | 'policy_versions') =>
    Number(
      (
        await db
          .selectFrom(t)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { actions: await n('actions'), audit: await n('audit_log'), events: await n('events'), versions: await n('policy_versions') };
}

forEachDialect('the policy playground and replay', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(ACTIVE) });
  });
  after(() => w.close());

  test('an action is decided by the active policy, naming the rule, its condition and the workflow, and nothing is written', async () => {
    const was = await counts(w);
    const r = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, {
      action: { tool: 'deploy', arguments: { env: 'production' }, agent: { name: 'deployer' } },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.policy.source, 'active');
    assert.equal(r.body.policy.version, 1);
    assert.equal(r.body.policy.hash, w.gw.deps.policy.current.hash);
    assert.deepEqual(r.body.decision, { effect: 'review', rule: 'prod-deploys', workflow: 'ops', reason: null, errors: [] });
    assert.deepEqual(r.body.matched, { name: 'prod-deploys', when: 'tool == "deploy" && arguments.env == "production"', position: 2 });
    assert.deepEqual(r.body.workflow, { name: 'ops', stages: 1 });
    assert.equal(r.body.default_effect, 'review');
    assert.deepEqual(await counts(w), was, 'no action, audit entry, event or version was written');
  });

  test('annotations are trusted as the policy says for that agent, and the default decides when no rule matches', async () => {
    const action = { tool: 'list-files', annotations: { readOnlyHint: true } };
    const trusted = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, { action: { ...action, agent: { name: 'deployer' } } });
    assert.equal(trusted.status, 200, JSON.stringify(trusted.body));
    assert.equal(trusted.body.annotations_trusted, true);
    assert.equal(trusted.body.decision.effect, 'allow');
    assert.equal(trusted.body.decision.rule, 'trusted-read-only');
    assert.equal(trusted.body.decision.reason, 'the agent says it only reads');
    const other = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, { action: { ...action, agent: { name: 'other-agent' } } });
    assert.equal(other.body.annotations_trusted, false);
    assert.equal(other.body.decision.rule, 'default');
    assert.equal(other.body.decision.effect, 'review');
    assert.equal(other.body.matched, null);
  });

  test('a candidate document decides instead of the active one, and is not stored', async () => {
    const r = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, {
      action: { tool: 'deploy', arguments: { env: 'production' } },
      candidate: CANDIDATE,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.policy.source, 'candidate');
    assert.equal(r.body.policy.version, null);
    assert.notEqual(r.body.policy.hash, w.gw.deps.policy.current.hash);
    assert.equal(r.body.decision.effect, 'deny');
    assert.equal(r.body.decision.rule, 'no-prod-deploys');
    assert.equal(r.body.decision.reason, 'deploy freeze');
    assert.equal((await call(w, 'GET', '/v1/policy/versions', w.keys.ada)).body.items.length, 1);
  });

  test('an invalid candidate is a 400 naming each problem with its rule and position', async () => {
    const bad = `
policy:
  rules:
    - name: broken
      when: tool == 
      effect: allow
    - name: nowhere
      when: tool == "x"
      effect: review
      workflow: missing
`;
    const r = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, { action: { tool: 'x' }, candidate: bad });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const issues = r.body.error.issues as { path: string; message: string }[];
    assert.ok(
      issues.some((i) => i.path === 'policy.rules.broken.when' && /line 1/.test(i.message)),
      JSON.stringify(issues),
    );
    assert.ok(
      issues.some((i) => i.path === 'policy.rules.nowhere.workflow' && /missing/.test(i.message)),
      JSON.stringify(issues),
    );
    const yaml = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, { action: { tool: 'x' }, candidate: 'policy: [unclosed' });
    assert.equal(yaml.status, 400);
    assert.match(yaml.body.error.message, /not valid YAML at line 1/);
  });

  test('bad input is a 400, never a 500', async () => {
    for (const body of [
      {},
      { action: {} },
      { action: { tool: '' } },
      { action: { tool: 'x', arguments: 'not an object' } },
      { action: { tool: 'x', now: 'yesterday' } },
      { action: { tool: 'x', surprise: 1 } },
      { action: { tool: 'x' }, candidate: '' },
      { action: { tool: 'x\u0001' } },
    ]) {
      const r = await call(w, 'POST', '/v1/policy/evaluate', w.keys.ada, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }
    for (const body of [
      {},
      { candidate: CANDIDATE, limit: 0 },
      { candidate: CANDIDATE, limit: 10_001 },
      { candidate: CANDIDATE, since: 'x' },
    ]) {
      const r = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }
  });

  test('agents and people who are not admins may not evaluate or replay', async () => {
    for (const key of [w.keys.agent, w.keys.alice, w.keys.victor]) {
      const e = await call(w, 'POST', '/v1/policy/evaluate', key, { action: { tool: 'deploy' } });
      assert.equal(e.status, 403, JSON.stringify(e.body));
      const r = await call(w, 'POST', '/v1/policy/replay', key, { candidate: CANDIDATE });
      assert.equal(r.status, 403, JSON.stringify(r.body));
    }
    assert.equal((await call(w, 'POST', '/v1/policy/evaluate', undefined, { action: { tool: 'deploy' } })).status, 401);
  });

  test('replay re-decides the latest actions on what they were proposed with and lists what would change', async () => {
    const prod = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    assert.equal(prod.body.status, 'pending');
    // A reviewer's edit does not change what is replayed: the agent proposed production.
    const edited = await propose(w, { tool: 'deploy', arguments: { env: 'production', n: 2 } });
    assert.equal((await review(w, edited.body.id, w.keys.alice, { decision: 'approve', arguments: { env: 'staging' } })).status, 200);
    const read = await propose(w, { tool: 'read', arguments: {} });
    assert.equal(read.body.status, 'approved');
    // Trusted under the active policy, not under the candidate (which lists no one in trust_annotations).
    const hinted = await propose(w, { tool: 'list-files', arguments: {}, annotations: { readOnlyHint: true } });
    assert.equal(hinted.body.status, 'approved');
    const was = await counts(w);

    const r = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, { candidate: CANDIDATE, limit: 4 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scanned, 4);
    assert.equal(r.body.changed, 3);
    assert.equal(r.body.unchanged, 1);
    assert.deepEqual(r.body.transitions, [
      { from: 'review (ops)', to: 'deny', count: 2 },
      { from: 'allow', to: 'review (default)', count: 1 },
    ]);
    assert.deepEqual(
      r.body.items.map((i: { id: string }) => i.id),
      [hinted.body.id, edited.body.id, prod.body.id],
      'newest first',
    );
    const first = r.body.items[0];
    assert.deepEqual(first.before, { effect: 'allow', rule: 'trusted-read-only', workflow: null });
    assert.equal(first.after.effect, 'review');
    assert.equal(first.after.rule, 'default');
    const deployed = r.body.items[1];
    assert.deepEqual(deployed.before, { effect: 'review', rule: 'prod-deploys', workflow: 'ops' });
    assert.equal(deployed.after.rule, 'no-prod-deploys');
    assert.equal(deployed.status, 'approved');
    assert.equal(r.body.truncated, false);
    assert.deepEqual(await counts(w), was, 'replay writes nothing');

    const none = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, { candidate: CANDIDATE, since: '2999-01-01T00:00:00Z' });
    assert.equal(none.body.scanned, 0);
    const bad = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, {
      candidate: 'policy:\n  rules:\n    - { name: x, when: "((", effect: deny }\n',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.issues[0].path, 'policy.rules.x.when');
  });

  test('replay pages through more actions than a page holds, newest first, up to the limit', async () => {
    for (let i = 0; i < 12; i++) await propose(w, { tool: 'read', arguments: { i } });
    const r = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, { candidate: CANDIDATE, limit: 10_000 });
    assert.equal(r.status, 200);
    assert.equal(r.body.scanned, 16);
    const some = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, { candidate: CANDIDATE, limit: 5 });
    assert.equal(some.body.scanned, 5);
    assert.equal(some.body.changed, 0, 'the five newest are reads, allowed by both');
    // The agent's owner as recorded on each action: deployer's (bob) reads would be denied, the others' not.
    const owned = await call(w, 'POST', '/v1/policy/replay', w.keys.ada, {
      candidate:
        'policy:\n  rules:\n    - { name: not-bobs, when: \'agent.owner == "bob@example.com" && tool == "read"\', effect: deny }\n',
      limit: 10,
    });
    assert.equal(owned.status, 200, JSON.stringify(owned.body));
    assert.deepEqual(owned.body.transitions, [{ from: 'allow', to: 'deny', count: 10 }]);
    assert.ok(owned.body.items.every((i: { after: { rule: string } }) => i.after.rule === 'not-bobs'));
  });
});
